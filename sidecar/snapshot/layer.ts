/**
 * Writes layer records as an OCI layer blob: tar (tar-stream) -> gzip (node:zlib) -> `out`,
 * hashing on the way: `writeLayer(records, out)` resolves to the blob's digest and size, the
 * diff_id (sha256 of the tar) and the changes written. Content streams through; it is never
 * held whole. The caller orders the records (parents first); duplicates are refused.
 * Extended attributes (security.capability, ACLs) are not written: Node has no API to read them.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar, { type Pack } from 'tar-stream';
import type { LayerChange } from './entries.ts';
import { toHeader, type TarHeader } from './tar-header.ts';

/** A change to write; a regular file's entry brings exactly `meta.size` bytes of content. */
export type LayerRecord = LayerChange & { content?: AsyncIterable<Uint8Array> | Iterable<Uint8Array> };

export interface LayerResult {
  /** sha256 of the gzip'd blob, as the manifest's layer descriptor wants it. */
  digest: string;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids. */
  diffId: string;
  /** Bytes of the gzip'd blob. */
  size: number;
  entries: number;
  /** What the layer holds, in order, without content: apply it to the image index. */
  written: LayerChange[];
}

export interface LayerOptions {
  /** zlib level (default 6, gzip's own): lower is faster, higher makes smaller blobs to push and pull. */
  gzipLevel?: number;
}

/** A pass-through that feeds every chunk to `hash` and counts bytes. */
function tap(hash: Hash): Transform & { bytes: number } {
  const t = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      t.bytes += chunk.length;
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/** Coalesced size of what reaches gzip: node's zlib takes a thread-pool round trip per write, and
 * tar-stream emits a header, a body and a padding chunk per member (~10 s for 50k small files). */
const BATCH = 64 * 1024;

function coalesce(): Transform {
  let pending: Buffer[] = [];
  let bytes = 0;
  const flush = (t: Transform) => {
    if (bytes > 0) t.push(Buffer.concat(pending, bytes));
    pending = [];
    bytes = 0;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pending.push(chunk);
      bytes += chunk.length;
      if (bytes >= BATCH) flush(this);
      done();
    },
    flush(done) {
      flush(this);
      done();
    },
  });
}

/** Adds one member; resolves once tar-stream has taken all of it. */
async function addMember(pack: Pack, header: TarHeader, content: LayerRecord['content']): Promise<void> {
  const whole = Array.isArray(content) && content.length === 1 ? (content[0] as Uint8Array) : undefined;
  if (header.type !== 'file' || (header.size ?? 0) === 0 || content === undefined || whole !== undefined) {
    // No body, or all of it at hand: with a Buffer body tar-stream closes the member itself (a
    // 0-byte file needs one too). It takes the size from the buffer, so check it matches.
    if (whole !== undefined && whole.length !== header.size) throw new Error(`size mismatch for ${header.name}`);
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error | null) => (err ? reject(err) : resolve());
      if (header.type === 'file') pack.entry(header, whole ?? Buffer.alloc(0), settle);
      else pack.entry(header, settle);
    });
    return;
  }
  let settle: (err?: Error | null) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  const sink = pack.entry(header, (err) => settle(err));
  try {
    for await (const chunk of content) if (!sink.write(chunk)) await once(sink, 'drain');
    sink.end(undefined); // streamx's typing wants an argument
  } catch (err) {
    sink.destroy(err as Error);
  }
  await done;
}

export async function writeLayer(records: AsyncIterable<LayerRecord> | Iterable<LayerRecord>, out: Writable, options: LayerOptions = {}): Promise<LayerResult> {
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  const tarTap = tap(tarHash);
  const blobTap = tap(blobHash);
  const pack = tar.pack();
  const output = pipeline(pack, coalesce(), tarTap, createGzip({ level: options.gzipLevel ?? 6 }), blobTap, out);
  output.catch(() => undefined); // awaited below; meanwhile a failure ends the loop through pack
  const names = new Set<string>();
  const written: LayerChange[] = [];
  try {
    for await (const record of records) {
      const { content, ...change } = record;
      const header = toHeader(change);
      if (names.has(header.name)) throw new Error(`duplicate path in layer: ${header.name}`);
      names.add(header.name);
      await addMember(pack, header, content);
      written.push(change);
    }
    pack.finalize();
    await output;
  } catch (err) {
    pack.destroy(err as Error);
    await output.catch(() => undefined);
    throw err;
  }
  return {
    digest: `sha256:${blobHash.digest('hex')}`,
    diffId: `sha256:${tarHash.digest('hex')}`,
    size: blobTap.bytes,
    entries: written.length,
    written,
  };
}
