/* Helpers for the archive tests: temp dirs, listing a tree as Entry[], crafting tars by hand. */
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { afterEach } from 'vitest';
import type { PaxHeaders } from './archive-format.ts';
import type { Entry } from './types.ts';

const made: string[] = [];
afterEach(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'runbox-archive-'));
  made.push(d);
  return d;
}

/** Every entry under root (root itself excluded), sorted by path, as a manifest would list them. */
export async function listTree(root: string, rel = ''): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const p = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(path.join(root, p));
    const base = { path: p, size: 0, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs) };
    if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', target: await readlink(path.join(root, p)) });
    else if (st.isDirectory()) out.push({ ...base, type: 'dir' }, ...(await listTree(root, p)));
    else out.push({ ...base, type: 'file', size: st.size });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Every path under root, including temp files. */
export async function allPaths(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

export interface Crafted {
  header: PaxHeaders;
  data?: string | Buffer;
}

/** A tar built entry by entry with tar-stream, names and types exactly as given. */
export async function craftTar(entries: Crafted[]): Promise<Buffer> {
  const p = tarPack();
  for (const { header, data } of entries) {
    if (data === undefined) p.entry(header);
    else p.entry(header, data);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export function streamOf(buf: Buffer): Readable {
  return Readable.from([buf], { objectMode: false });
}
