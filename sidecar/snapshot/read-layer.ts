/**
 * Reads one layer blob (gzip'd or plain tar, told apart by the gzip magic) as the changes it
 * makes, each with its tar member's content stream: `readLayer(blob)`. A consumer may read the
 * content or leave it: whatever is left is drained before the next member (or the tar stalls).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { LayerChange } from './entries.ts';
import { fromHeader } from './tar-header.ts';

export type LayerItem = LayerChange & { content: AsyncIterable<Uint8Array> };

const GZIP_MAGIC = [0x1f, 0x8b];

/** The blob as a plain tar byte stream, gunzipped if it starts with the gzip magic. */
async function* tarBytes(blob: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const chunks = blob[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  // Peek until two bytes are known (a first chunk of one byte is legal).
  while (head.length < 2 && !done) {
    const next = await chunks.next();
    if (next.done) done = true;
    else head = Buffer.concat([head, next.value]);
  }
  const rest = (async function* () {
    if (head.length > 0) yield head;
    if (done) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  })();
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) return yield* rest;
  const gunzip = createGunzip();
  // pipeline hands a failure of the source on to gunzip, whose iteration below then throws it.
  pipeline(Readable.from(rest, { objectMode: false }), gunzip).catch(() => undefined);
  yield* gunzip;
}

async function drain(content: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of content);
}

export async function* readLayer(blob: AsyncIterable<Uint8Array>): AsyncGenerator<LayerItem> {
  const extract = tar.extract();
  const feeding = pipeline(Readable.from(tarBytes(blob), { objectMode: false }), extract);
  // The iterator below reports the failure; this only keeps it from being unhandled meanwhile.
  feeding.catch(() => undefined);
  try {
    for await (const entry of extract) {
      // streamx readables iterate at runtime; their typings do not say so.
      const content = entry as unknown as AsyncIterable<Uint8Array>;
      const change = fromHeader(entry.header);
      if (change !== undefined) yield { ...change, content };
      await drain(content);
    }
    await feeding;
  } finally {
    extract.destroy();
  }
}
