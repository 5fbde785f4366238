/**
 * The image index as a compact file for the environment's volume: gzip'd JSON, one array per
 * path, defaults left out. `encodeIndex(index): Buffer` and `decodeIndex(bytes)` are pure;
 * `saveIndex` writes atomically (temp file + rename), `loadIndex` reads (undefined if absent).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EntryType, FileMeta } from './entries.ts';
import type { ImageIndex } from './image-index.ts';

const FORMAT = 'runbox-image-index/1';

const CODE: Record<EntryType, string> = { file: 'f', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' };
const TYPE = Object.fromEntries(Object.entries(CODE).map(([type, code]) => [code, type])) as Record<string, EntryType>;

type Row = [string, string, number, number, number, number, number, ...(string | number)[]];

function toRow(path: string, m: FileMeta): Row {
  const row: Row = [path, CODE[m.type], m.mode, m.uid, m.gid, m.size, m.mtime];
  if (m.linkname !== '' || m.devmajor !== 0 || m.devminor !== 0) row.push(m.linkname);
  if (m.devmajor !== 0 || m.devminor !== 0) row.push(m.devmajor, m.devminor);
  return row;
}

function fromRow(row: unknown[]): [string, FileMeta] {
  const [path, code, mode, uid, gid, size, mtime, linkname = '', devmajor = 0, devminor = 0] = row;
  const type = TYPE[String(code)];
  if (typeof path !== 'string' || type === undefined) throw new Error(`bad index row ${JSON.stringify(row)}`);
  const num = (v: unknown) => (typeof v === 'number' ? v : Number.NaN);
  return [path, { type, mode: num(mode), uid: num(uid), gid: num(gid), size: num(size), mtime: num(mtime), linkname: String(linkname), devmajor: num(devmajor), devminor: num(devminor) }];
}

export function encodeIndex(index: ImageIndex): Buffer {
  const rows: Row[] = [];
  for (const [path, meta] of index) rows.push(toRow(path, meta));
  // Level 1: the file is rewritten after every snapshot; speed matters more than a few KiB.
  return gzipSync(JSON.stringify({ format: FORMAT, rows }), { level: 1 });
}

export function decodeIndex(bytes: Uint8Array): ImageIndex {
  const parsed = JSON.parse(gunzipSync(bytes).toString('utf8')) as { format?: unknown; rows?: unknown };
  if (parsed.format !== FORMAT || !Array.isArray(parsed.rows)) throw new Error(`not a ${FORMAT} file`);
  return new Map(parsed.rows.map((row: unknown[]) => fromRow(row)));
}

export async function saveIndex(file: string, index: ImageIndex): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, encodeIndex(index));
  await rename(temp, file);
}

export async function loadIndex(file: string): Promise<ImageIndex | undefined> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return bytes === undefined ? undefined : decodeIndex(bytes);
}
