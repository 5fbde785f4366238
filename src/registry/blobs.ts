import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { repoScope } from './auth.ts';
import { checkingStream, matchesDigest, shortDigest, type Mismatch } from './digest.ts';
import { RegistryError, transportFailure, type Operation } from './registry-error.ts';
import { discard, type Transport } from './transport.ts';
import type { Digest } from './types.ts';
import { cancelUpload, openUpload, sessionLocation, uploadStream } from './upload.ts';

/* Reading blobs, checking for them, and mounting them across repositories. */

export interface BlobInfo {
  digest: Digest;
  /** From Content-Length; undefined if the registry (or the storage it redirects to) sent none. */
  size: number | undefined;
}

/** Whether the repository has the blob, and its size; undefined when it has not. */
export async function headBlob(t: Transport, repo: string, digest: Digest): Promise<BlobInfo | undefined> {
  const op = { doing: `checking for blob ${shortDigest(digest)}`, repo };
  const res = await t.send({ method: 'HEAD', target: `/v2/${repo}/blobs/${digest}`, scopes: [repoScope(repo, 'pull')], op });
  if (res.status === 404) {
    await discard(res);
    return undefined;
  }
  if (res.status !== 200) throw await t.failure(res, op);
  await discard(res);
  const length = res.headers.get('content-length');
  return { digest: res.headers.get('docker-content-digest') ?? digest, size: length === null ? undefined : Number(length) };
}

export interface BlobStream {
  /** From Content-Length, when the registry sent one. */
  size: number | undefined;
  /** The blob's bytes; ends in an error if they do not match the digest (or `size`). */
  stream: Readable;
}

/** Streams a blob, checking it against its digest as it flows. */
export async function getBlob(t: Transport, repo: string, digest: Digest, opts: { size?: number } = {}): Promise<BlobStream> {
  const op = { doing: `downloading blob ${shortDigest(digest)}`, repo };
  const res = await t.expect({ method: 'GET', target: `/v2/${repo}/blobs/${digest}`, scopes: [repoScope(repo, 'pull')], op }, [200]);
  const length = res.headers.get('content-length');
  const size = opts.size ?? (length !== null ? Number(length) : undefined);
  const checker = checkingStream(digest, size, (m) => mismatch(t, op, digest, m));
  if (!res.body) {
    checker.end();
    return { size, stream: checker };
  }
  const source = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  // A connection lost mid-blob reaches the reader as our error; a reader that stops early lets the connection go.
  source.on('error', (err) => checker.destroy(transportFailure(t.endpoint.host, op, err, { plainHttp: t.endpoint.plainHttp })));
  checker.on('close', () => source.destroy());
  source.pipe(checker);
  return { size, stream: checker };
}

/** A small blob (an image config) in memory, checked against its digest. */
export async function getBlobBytes(t: Transport, repo: string, digest: Digest): Promise<Buffer> {
  const op = { doing: `downloading blob ${shortDigest(digest)}`, repo };
  const res = await t.expect({ method: 'GET', target: `/v2/${repo}/blobs/${digest}`, scopes: [repoScope(repo, 'pull')], op }, [200]);
  let data: Buffer;
  try {
    data = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${repo} broke off`, { cause: err });
  }
  if (matchesDigest(data, digest) === false) throw mismatch(t, op, digest, { kind: 'digest', actual: 'other content' });
  return data;
}

/** How a blob came to be in the target repository. */
export type MountOutcome = 'mounted' | 'copied';

/**
 * Makes `digest` from repository `from` available in `repo` on the same
 * registry: a cross-repository mount when the registry does it (201), else
 * (202: it opened an upload session instead, e.g. it cannot see `from` or
 * does not mount) the session is abandoned and the blob copied through us.
 */
export async function mountBlob(t: Transport, repo: string, digest: Digest, from: string): Promise<MountOutcome> {
  const op = { doing: `mounting blob ${shortDigest(digest)} from ${from}`, repo };
  const res = await openUpload(t, repo, op, {
    query: `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    // Mounting reads the source: the token must grant pull there too.
    scopes: [repoScope(repo, 'pull,push'), repoScope(from, 'pull')],
  });
  await discard(res);
  if (res.status === 201) return 'mounted';
  // The registry's session would do for the copy, but a fresh upload keeps one upload path for every blob.
  await cancelUpload(t, sessionLocation(t, res, op), repo);
  const source = await getBlob(t, from, digest);
  const pushed = await uploadStream(t, repo, source.stream);
  if (pushed.digest !== digest) {
    throw new RegistryError(`registry ${t.endpoint.host}: copying blob ${shortDigest(digest)} from ${from} to ${repo} gave ${shortDigest(pushed.digest)}`, {
      hint: 'only sha256 blobs can be copied',
    });
  }
  return 'copied';
}

function mismatch(t: Transport, op: Operation, digest: Digest, m: Mismatch): RegistryError {
  const what = m.kind === 'size' ? `${m.actual} bytes` : m.actual === 'other content' ? 'other content' : shortDigest(m.actual);
  return new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${op.repo} got ${what}, not the blob asked for`, {
    hint: 'the registry, a proxy or a cache in between returned different content; try again',
  });
}
