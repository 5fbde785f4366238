import { RunboxError } from '../errors.ts';
import { RegistryAuth } from './auth.ts';
import { getBlob, getBlobBytes, headBlob, mountBlob, type BlobInfo, type BlobStream, type MountOutcome } from './blobs.ts';
import type { Credentials } from './credentials.ts';
import { parseEndpoint } from './endpoint.ts';
import {
  deleteTag,
  getManifest,
  listTags,
  putManifest,
  resolveImage,
  type DeleteOutcome,
  type FetchedManifest,
  type ManifestContent,
  type ResolvedImage,
} from './manifests.ts';
import { isDigest, isRepository, isTag } from './reference.ts';
import { RegistryError } from './registry-error.ts';
import { Transport, discard } from './transport.ts';
import type { Descriptor, Digest, ImageConfig, Platform } from './types.ts';
import { uploadBytes, uploadStream, type PushedBlob } from './upload.ts';

/*
 * The OCI distribution client for one registry: what the sidecar needs to
 * push snapshots and the CLI needs to copy a base image into an
 * environment's repository, list its versions and delete them. Every method
 * throws a RunboxError (a RegistryError when the registry answered) whose
 * message names the registry, the repository and the operation; outcomes a
 * caller must branch on (no such blob, deletes not allowed) are values.
 */

export interface RegistryClientOptions {
  /** host[:port] as configured (`10.77.0.1:5000`, `registry.example.com`); `http://` or `https://` forces the scheme. */
  host: string;
  /** Without a scheme in `host`: true for HTTP, false for HTTPS; unset, see endpoint.ts for the default. */
  plainHttp?: boolean;
  credentials?: Credentials;
  /** Cancels every request of this client. */
  signal?: AbortSignal;
  clock?: () => number;
}

export class RegistryClient {
  /** host[:port], Docker Hub as registry-1.docker.io. */
  readonly host: string;
  readonly plainHttp: boolean;
  readonly #t: Transport;

  constructor(opts: RegistryClientOptions) {
    const parsed = parseEndpoint(opts.host, opts.plainHttp);
    if (!parsed.ok) throw new RunboxError(parsed.problem, { hint: 'set registry-push / registry-pull in runbox-config to host[:port]' });
    const { endpoint } = parsed;
    this.host = endpoint.host;
    this.plainHttp = endpoint.plainHttp;
    const auth = new RegistryAuth({ host: endpoint.host, plainHttp: endpoint.plainHttp, credentials: opts.credentials, signal: opts.signal, clock: opts.clock });
    this.#t = new Transport(endpoint, auth, opts.signal);
  }

  /** Checks that the registry speaks the distribution API and takes our credentials (`GET /v2/`). */
  async ping(): Promise<void> {
    const res = await this.#t.expect({ method: 'GET', target: '/v2/', scopes: [], op: { doing: 'checking the API', repo: '/v2/' } }, [200]);
    await discard(res);
  }

  /** A manifest or index by tag or digest, its digest checked. */
  async getManifest(repo: string, reference: string): Promise<FetchedManifest> {
    return getManifest(this.#t, checkRepo(repo), checkReference(reference));
  }

  /** The image manifest for `platform`, following an index if the reference names one. */
  async resolveImage(repo: string, reference: string, platform: Platform): Promise<ResolvedImage> {
    return resolveImage(this.#t, checkRepo(repo), checkReference(reference), platform);
  }

  /** An image's config blob, parsed, with its exact bytes (to push them elsewhere unchanged). */
  async getConfig(repo: string, config: Descriptor): Promise<{ config: ImageConfig; bytes: Buffer }> {
    const bytes = await getBlobBytes(this.#t, checkRepo(repo), checkDigest(config.digest));
    try {
      return { config: JSON.parse(bytes.toString('utf8')) as ImageConfig, bytes };
    } catch (err) {
      throw new RegistryError(`registry ${this.host}: the image config ${config.digest} in ${repo} is not JSON`, { cause: err });
    }
  }

  /** Pushes a manifest under a tag (or digest) and returns its digest; every blob it names must be pushed first. */
  async putManifest(repo: string, reference: string, content: ManifestContent): Promise<Digest> {
    return putManifest(this.#t, checkRepo(repo), checkReference(reference), content);
  }

  async listTags(repo: string): Promise<string[]> {
    return listTags(this.#t, checkRepo(repo));
  }

  /** Deletes the manifest a tag points at (and so every tag on it); a registry that refuses deletes is an outcome, not an error. */
  async deleteTag(repo: string, tag: string): Promise<DeleteOutcome> {
    if (!isTag(tag)) throw new RunboxError(`invalid tag "${tag}"`);
    return deleteTag(this.#t, checkRepo(repo), tag);
  }

  /** The blob's digest and size if the repository has it, else undefined. */
  async headBlob(repo: string, digest: Digest): Promise<BlobInfo | undefined> {
    return headBlob(this.#t, checkRepo(repo), checkDigest(digest));
  }

  /** Streams a blob, failing the stream if its bytes do not match the digest. */
  async getBlob(repo: string, digest: Digest, opts: { size?: number } = {}): Promise<BlobStream> {
    return getBlob(this.#t, checkRepo(repo), checkDigest(digest), opts);
  }

  async getBlobBytes(repo: string, digest: Digest): Promise<Buffer> {
    return getBlobBytes(this.#t, checkRepo(repo), checkDigest(digest));
  }

  /** Makes a blob of repository `from` (same registry) available in `repo`: mounted, or copied if the registry will not mount. */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<MountOutcome> {
    return mountBlob(this.#t, checkRepo(repo), checkDigest(digest), checkRepo(from));
  }

  /** Uploads a blob held in memory in one request (configs, small layers). */
  async uploadBlob(repo: string, data: Uint8Array): Promise<PushedBlob> {
    return uploadBytes(this.#t, checkRepo(repo), data);
  }

  /** Uploads a stream of unknown length in chunks, computing its sha256 on the way. */
  async uploadBlobStream(repo: string, source: AsyncIterable<Uint8Array>, opts: { chunkSize?: number } = {}): Promise<PushedBlob> {
    return uploadStream(this.#t, checkRepo(repo), source, opts);
  }
}

// Checked here, before any URL is built from them: a name with `..` or `?` must not reach a path.
function checkRepo(repo: string): string {
  if (!isRepository(repo)) throw new RunboxError(`invalid repository name "${repo}"`, { hint: 'lowercase letters, digits and . _ - separated by /' });
  return repo;
}

function checkDigest(digest: string): string {
  if (!isDigest(digest)) throw new RunboxError(`invalid digest "${digest}"`);
  return digest;
}

function checkReference(reference: string): string {
  if (!isDigest(reference) && !isTag(reference)) throw new RunboxError(`invalid tag or digest "${reference}"`);
  return reference;
}
