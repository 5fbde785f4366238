/**
 * One snapshot, in the sidecar: walk the worker's root, compare it with the index of the image
 * the latest version stands on, and push the difference as a layer, then the config and last the
 * manifest (so an interrupted push never leaves a tag on a broken image). Nothing changed: no
 * layer, no version. Past MAX_SNAPSHOT_LAYERS (or when asked) runbox's layers become one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { MAX_SNAPSHOT_LAYERS, versionTag, type IndexSource, type SnapshotAnswer, type SnapshotRecord, type SnapshotRequest } from '../../src/contract/snapshot.ts';
import { RunboxError } from '../../src/errors.ts';
import { REGISTRY_CREDENTIALS_FILE, REGISTRY_CREDENTIALS_MOUNT } from '../../src/contract/sidecar.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { credentialsFor, loadDockerConfig } from '../../src/registry/credentials.ts';
import { parseReference, type ImageReference } from '../../src/registry/reference.ts';
import type { Descriptor, ImageConfig, Platform } from '../../src/registry/types.ts';
import { diffTree } from './diff.ts';
import { diskRecords } from './disk-source.ts';
import { applyChanges, buildIndex, type ImageIndex } from './image-index.ts';
import { configBytes, ownLayers, stackImage, withConfig, type Image } from './image-build.ts';
import { loadIndex, saveIndex } from './index-file.ts';
import { fetchSharedIndex, pushSharedIndex, sharedIndexRepo } from './shared-index.ts';
import { writeLayer, type LayerResult } from './layer.ts';
import { mountPoints } from './mountinfo.ts';
import { squashLayers } from './squash.ts';
import { walkAll } from './walk.ts';
import { workerProcess } from './worker-process.ts';

export interface SnapshotPlace {
  /** Where the process table is (/proc). */
  proc: string;
  /** Where image indexes are cached (on the environment's volume). */
  indexDir: string;
  log: (message: string) => void;
}

/** The node's platform, as an image index names it. */
const NODE_PLATFORM: Platform = { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch };

interface Located {
  client: RegistryClient;
  ref: ImageReference;
  repo: string;
}

export async function takeSnapshot(req: SnapshotRequest, at: SnapshotPlace): Promise<SnapshotAnswer> {
  const started = Date.now();
  await mkdir(at.indexDir, { recursive: true });
  const seconds = () => Math.round(Date.now() - started) / 1000;
  // The credential Secret (registry-secret in the cluster config), mounted into the sidecar only; none is fine.
  const docker = await loadDockerConfig(`${REGISTRY_CREDENTIALS_MOUNT}/${REGISTRY_CREDENTIALS_FILE}`);
  const credentialsOf = (host: string) => credentialsFor(docker, host);
  const own = new RegistryClient({ host: req.push, credentials: credentialsOf(req.push) });
  const locate = (image: string): Located => {
    const parsed = parseReference(image);
    if (!parsed.ok) throw new RunboxError(`cannot snapshot: image ${image}: ${parsed.problem}`);
    // The nodes pull our registry by one address; the sidecar reaches it by another.
    const here = parsed.ref.registry === req.pull || parsed.ref.registry === req.push;
    return { client: here ? own : new RegistryClient({ host: parsed.ref.registry, credentials: credentialsOf(parsed.ref.registry) }), ref: parsed.ref, repo: parsed.ref.repository };
  };
  const parentAt = locate(req.parent.image);
  // The no-change check needs no registry: a version is pinned by digest, and its index is cached.
  const parentDigest = parentAt.ref.digest ?? (await parentAt.client.resolveImage(parentAt.repo, parentAt.ref.tag ?? 'latest', NODE_PLATFORM)).manifest.digest;
  let parent: Image | undefined;
  const fetchParent = async () => (parent ??= await fetchImage(parentAt));
  const shared = { client: own, repo: sharedIndexRepo(req.repository) };
  const cached = await loadIndex(indexFile(at, parentDigest));
  const { index, source } = cached ? { index: cached, source: 'volume' as const } : await indexImage(at, parentAt, parentDigest, fetchParent, shared);

  const pid = await workerProcess(at.proc);
  const root = `${at.proc}/${pid}/root`;
  const mounts = mountPoints(await readFile(`${at.proc}/${pid}/mountinfo`, 'utf8'));
  const walked = await walkAll(root, { skip: mounts });
  const changes = diffTree(index, walked.entries, [...mounts, ...walked.problems.map((p) => p.path)]);
  const files = walked.entries.length;
  if (changes.records.length === 0 && !req.squash) return { index: source, changed: false, seconds: seconds(), files };
  at.log(`snapshot: ${changes.added.length} added, ${changes.changed.length} changed, ${changes.deleted.length} deleted of ${files} entries`);
  const parentImage = await fetchParent();

  // Every blob of the parent must be in our repository before a manifest there names it.
  const baseAt = locate(req.base);
  await copyBlobs(parentAt, own, req.repository, parentImage.manifest.layers);

  const version = req.parent.version + 1;
  const history = { created: new Date().toISOString(), created_by: `runbox snapshot ${versionTag(version)}${req.commands.length ? `: ${req.commands.join('; ')}` : ''}`, comment: 'runbox' };
  let layer: LayerResult | undefined;
  let image: Image = parentImage;
  if (changes.records.length > 0) {
    layer = await pushLayer(own, req.repository, (out) => writeLayer(diskRecords(root, changes.records), out));
    image = stackImage(parentImage, layer, history);
  }
  const base = await fetchImage(baseAt);
  const baseLayers = base.manifest.layers.length;
  if (req.squash || ownLayers(image, baseLayers).length > MAX_SNAPSHOT_LAYERS) {
    const baseDigest = baseAt.ref.digest ?? (await baseAt.client.resolveImage(baseAt.repo, baseAt.ref.tag ?? 'latest', NODE_PLATFORM)).manifest.digest;
    const baseIndex = (await loadIndex(indexFile(at, baseDigest))) ?? (await indexImage(at, baseAt, baseDigest, async () => base, shared)).index;
    image = await squashed(own, req.repository, base, image, baseIndex, history);
  }

  const config = configBytes(image.config);
  const pushedConfig = await own.uploadBlob(req.repository, config);
  const manifest = withConfig(image, pushedConfig);
  const digest = await own.putManifest(req.repository, versionTag(version), manifest);
  if (layer) applyChanges(index, layer.written);
  await saveIndex(indexFile(at, digest), index);
  const record: SnapshotRecord = {
    version,
    digest,
    image: `${req.pull}/${req.repository}@${digest}`,
    time: history.created,
    size: manifest.layers.reduce((n, l) => n + l.size, 0),
    layers: manifest.layers.length,
    commands: req.commands,
  };
  return { index: source, changed: true, record, seconds: seconds(), files, layerBytes: layer?.size ?? 0 };
}

async function fetchImage(at: Located): Promise<Image> {
  const resolved = await at.client.resolveImage(at.repo, at.ref.digest ?? at.ref.tag ?? 'latest', NODE_PLATFORM);
  const manifest = resolved.manifest.manifest;
  const { config } = await at.client.getConfig(at.repo, manifest.config);
  return { manifest, config: config as ImageConfig };
}

const indexFile = (at: SnapshotPlace, digest: string) => `${at.indexDir}/index-${digest.replace(':', '-')}.json.gz`;

/**
 * An image's index: shared through the registry by the environments of that image (shared-index.ts),
 * else read from its layers and shared; then cached on the volume.
 */
async function indexImage(
  at: SnapshotPlace,
  where: Located,
  digest: string,
  image: () => Promise<Image>,
  shared: { client: RegistryClient; repo: string },
): Promise<{ index: ImageIndex; source: IndexSource }> {
  let index = await fetchSharedIndex(shared.client, shared.repo, digest).catch((err: Error) => {
    at.log(`snapshot: the shared index of ${where.repo} could not be read (${err.message}); building it`);
    return undefined;
  });
  const source: IndexSource = index ? 'registry' : 'layers';
  if (index) at.log(`snapshot: index of ${where.repo} fetched from ${shared.repo}`);
  else {
    const layers = (await image()).manifest.layers;
    at.log(`snapshot: indexing ${layers.length} layers of ${where.repo}`);
    index = await buildIndex(layers.map((l) => lazyBlob(where.client, where.repo, l)));
    await pushSharedIndex(shared.client, shared.repo, digest, index).catch((err: Error) => at.log(`snapshot: could not share the index of ${where.repo}: ${err.message}`));
  }
  await saveIndex(indexFile(at, digest), index);
  return { index, source };
}

/** A blob opened only when read: indexes and squashes read layers one at a time. */
function lazyBlob(client: RegistryClient, repo: string, layer: Descriptor): AsyncIterable<Uint8Array> {
  return {
    async *[Symbol.asyncIterator]() {
      const { stream } = await client.getBlob(repo, layer.digest, { size: layer.size });
      yield* stream as AsyncIterable<Uint8Array>;
    },
  };
}

/** Makes the blobs available in our repository: mounted within one registry, copied from another. */
async function copyBlobs(from: Located, own: RegistryClient, repo: string, layers: Descriptor[]): Promise<void> {
  for (const layer of layers) {
    if (await own.headBlob(repo, layer.digest)) continue;
    if (from.client === own) {
      await own.mountBlob(repo, layer.digest, from.repo);
      continue;
    }
    const pushed = await own.uploadBlobStream(repo, lazyBlob(from.client, from.repo, layer));
    if (pushed.digest !== layer.digest) throw new RunboxError(`copying layer ${layer.digest} from ${from.ref.registry} gave ${pushed.digest}`);
  }
}

/** Writes a layer straight into an upload: digest, diff_id and size come out of the one pass. */
async function pushLayer(client: RegistryClient, repo: string, write: (out: PassThrough) => Promise<LayerResult>): Promise<LayerResult> {
  const out = new PassThrough();
  const upload = client.uploadBlobStream(repo, out);
  const written = write(out).then(
    (r) => (out.end(), r),
    (err: unknown) => {
      out.destroy(err as Error);
      throw err;
    },
  );
  const [layer, pushed] = await Promise.all([written, upload]);
  if (pushed.digest !== layer.digest) throw new RunboxError(`the registry stored layer ${pushed.digest}, not ${layer.digest}`);
  return layer;
}

/** The base with runbox's layers merged into one (a file added then deleted leaves nothing). */
async function squashed(own: RegistryClient, repo: string, base: Image, image: Image, baseIndex: ImageIndex, history: { created: string; created_by: string; comment: string }): Promise<Image> {
  const layers = ownLayers(image, base.manifest.layers.length);
  // A just-written layer is in our repository already; every other one is too (copied at its version).
  const squashedLayer = await pushLayer(own, repo, (out) => squashLayers({ layers: layers.map((l) => () => lazyBlob(own, repo, l)), base: baseIndex, out }));
  return stackImage(base, squashedLayer, { ...history, created_by: `${history.created_by} (runbox's ${layers.length} layers squashed into one)` });
}
