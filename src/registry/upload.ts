import { createHash } from 'node:crypto';
import { repoScope } from './auth.ts';
import { sha256, shortDigest } from './digest.ts';
import { RegistryError, type Operation } from './registry-error.ts';
import { discard, type Transport } from './transport.ts';
import type { Digest } from './types.ts';

/*
 * Blob uploads: an upload session (POST), then either the whole blob in the
 * closing PUT, or PATCHed chunks and an empty closing PUT carrying the digest.
 *
 * A stream is cut into chunks of a fixed size, each held in memory while it
 * is sent: a chunk's Content-Length and inclusive Content-Range must be known
 * before it goes out, and a chunk in memory can be sent again after an auth
 * challenge (a half-sent stream cannot). Memory stays bounded by about two
 * chunks: the next one is read while the current one uploads, so the
 * producer (tar + gzip in the sidecar) keeps working during network time.
 */

export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;

const OCTETS = 'application/octet-stream';

export interface PushedBlob {
  digest: Digest;
  size: number;
}

/** Opens an upload session (or asks for a mount, with `query`); the reply is the caller's to read. */
export async function openUpload(t: Transport, repo: string, op: Operation, opts: { query?: string; scopes?: string[] } = {}): Promise<Response> {
  return t.expect(
    {
      method: 'POST',
      target: `/v2/${repo}/blobs/uploads/${opts.query ?? ''}`,
      headers: { 'Content-Length': '0' },
      scopes: opts.scopes ?? [repoScope(repo, 'pull,push')],
      op,
    },
    [201, 202],
  );
}

/** The session's next URL, from a reply's Location (absolute or relative, with or without a query). */
export function sessionLocation(t: Transport, res: Response, op: Operation): URL {
  const location = res.headers.get('location');
  if (!location) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${op.doing} in ${op.repo} failed: the reply (HTTP ${res.status}) has no Location`, {
      status: res.status,
    });
  }
  return new URL(location, t.endpoint.origin);
}

/** `location` with `digest=` added to whatever query it carries (its `_state` must survive untouched). */
export function withDigest(location: URL, digest: Digest): URL {
  const url = new URL(location);
  url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  return url;
}

/** Abandons an upload session. Best effort: the registry expires abandoned sessions anyway. */
export async function cancelUpload(t: Transport, location: URL, repo: string): Promise<void> {
  const op = { doing: 'cancelling an upload', repo };
  try {
    await discard(await t.send({ method: 'DELETE', target: location, scopes: [repoScope(repo, 'delete')], op }));
  } catch {
    // The session was only ever going to be garbage: the error that brought us here is the one to report.
  }
}

/** Uploads a blob held in memory: POST, then one PUT with the bytes and their digest. */
export async function uploadBytes(t: Transport, repo: string, data: Uint8Array): Promise<PushedBlob> {
  const digest = sha256(data);
  const op = { doing: `uploading blob ${shortDigest(digest)}`, repo };
  const location = sessionLocation(t, await openUpload(t, repo, op), op);
  await closeUpload(t, { repo, location, digest, last: data, op });
  return { digest, size: data.byteLength };
}

/** Uploads a stream of unknown length, its sha256 computed as it goes. */
export async function uploadStream(
  t: Transport,
  repo: string,
  source: AsyncIterable<Uint8Array>,
  opts: { chunkSize?: number } = {},
): Promise<PushedBlob> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!(chunkSize > 0)) throw new RangeError(`chunkSize must be positive, not ${chunkSize}`);
  const op = { doing: 'uploading a streamed blob', repo };
  const reader = new ChunkReader(source);
  let location = sessionLocation(t, await openUpload(t, repo, op), op);
  try {
    let offset = 0;
    let next = reader.read(chunkSize);
    for (;;) {
      const chunk = await next;
      // The reader stops short of a full chunk only at the end of the stream.
      if (chunk === undefined || chunk.length < chunkSize) {
        const digest = reader.digest();
        await closeUpload(t, { repo, location, digest, last: chunk, op: { ...op, doing: `uploading blob ${shortDigest(digest)}` } });
        return { digest, size: reader.size };
      }
      next = reader.read(chunkSize);
      // Awaited on the next turn; this only keeps it from counting as unhandled if the PATCH fails first.
      next.catch(() => undefined);
      location = await patchChunk(t, { repo, location, chunk, offset, op });
      offset += chunk.length;
    }
  } catch (err) {
    await cancelUpload(t, location, repo);
    await reader.close();
    throw err;
  }
}

async function patchChunk(
  t: Transport,
  c: { repo: string; location: URL; chunk: Buffer; offset: number; op: Operation },
): Promise<URL> {
  const res = await t.expect(
    {
      method: 'PATCH',
      target: c.location,
      headers: { 'Content-Type': OCTETS, 'Content-Range': `${c.offset}-${c.offset + c.chunk.length - 1}` },
      body: c.chunk,
      scopes: [repoScope(c.repo, 'pull,push')],
      op: c.op,
    },
    [202, 204],
  );
  await discard(res);
  return sessionLocation(t, res, c.op);
}

async function closeUpload(
  t: Transport,
  c: { repo: string; location: URL; digest: Digest; last: Uint8Array | undefined; op: Operation },
): Promise<void> {
  const body = c.last ?? new Uint8Array(0);
  const res = await t.expect(
    {
      method: 'PUT',
      target: withDigest(c.location, c.digest),
      headers: { 'Content-Type': OCTETS },
      body,
      scopes: [repoScope(c.repo, 'pull,push')],
      op: c.op,
    },
    [201, 204],
  );
  await discard(res);
  const stored = res.headers.get('docker-content-digest');
  if (stored && stored !== c.digest) {
    throw new RegistryError(`registry ${t.endpoint.host}: ${c.op.doing} in ${c.repo} stored ${stored} instead`, { status: res.status });
  }
}

/** Reads an async iterable in chunks of exactly `size` bytes (the last one shorter), hashing what it hands out. */
class ChunkReader {
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #hash = createHash('sha256');
  #held: Buffer[] = [];
  #heldBytes = 0;
  #ended = false;
  size = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#source = source;
    this.#it = source[Symbol.asyncIterator]();
  }

  async read(size: number): Promise<Buffer | undefined> {
    while (this.#heldBytes < size && !this.#ended) {
      const r = await this.#it.next();
      if (r.done) {
        this.#ended = true;
        break;
      }
      if (!(r.value instanceof Uint8Array)) throw new TypeError('a blob stream must yield bytes (Buffer or Uint8Array), not strings');
      this.#held.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      this.#heldBytes += r.value.byteLength;
    }
    if (this.#heldBytes === 0) return undefined;
    const all = this.#held.length === 1 ? (this.#held[0] as Buffer) : Buffer.concat(this.#held, this.#heldBytes);
    const chunk = all.subarray(0, size);
    const rest = all.subarray(size);
    this.#held = rest.length > 0 ? [rest] : [];
    this.#heldBytes = rest.length;
    this.#hash.update(chunk);
    this.size += chunk.length;
    return chunk;
  }

  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}`;
  }

  /**
   * Stops the source. A Node stream is destroyed outright: its iterator's
   * return() would first wait for the read still in flight, which may never
   * come if the producer is itself stuck.
   */
  async close(): Promise<void> {
    const stream = this.#source as { destroy?: (err?: Error) => void };
    if (typeof stream.destroy === 'function') stream.destroy();
    else await this.#it.return?.();
  }
}
