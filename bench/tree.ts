// A deterministic file tree for the sync benchmark: the same seed gives the
// same names, sizes and bytes on every machine. Sizes are log-uniform (a few
// bytes within each class of files, e.g. many small sources and a few large
// assets), scaled to the exact total; the bytes are an AES-256-CTR keystream (incompressible, and fast to
// make). The tree hash is what `find . -type f -print0 | LC_ALL=C sort -z |
// xargs -0 sha256sum | sha256sum` prints for it, so a pod can check it.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TreeSpec {
  seed: number;
  bytes: number;
  /** Classes of files: how many, and the smallest and largest size before scaling to `bytes` (equal for equal sizes). */
  classes: { files: number; minSize: number; maxSize: number }[];
  /** Top folders, each with as many subfolders; a tenth of the files sit above the subfolders. */
  folders: number;
}

export interface Tree {
  root: string;
  files: { path: string; size: number }[];
  bytes: number;
  /** What the pod's `sha256sum` pipeline prints (see above). */
  hash: string;
}

/** mulberry32: a small seeded PRNG, enough to pick names and sizes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` bytes of keystream for (seed, label): deterministic, incompressible. */
export function content(seed: number, label: string, size: number): Buffer {
  const key = createHash('sha256').update(`runbox-bench ${seed}`).digest();
  const iv = createHash('sha256').update(label).digest().subarray(0, 16);
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(size));
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes the tree under `root` (which must be empty or absent). */
export function makeTree(root: string, spec: TreeSpec): Tree {
  const rand = prng(spec.seed);
  const weights = spec.classes.flatMap((c) => Array.from({ length: c.files }, () => c.minSize * (c.maxSize / c.minSize) ** rand()));
  for (let i = weights.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [weights[i], weights[j]] = [weights[j]!, weights[i]!];
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((w / sum) * spec.bytes));
  sizes[0]! += spec.bytes - sizes.reduce((a, b) => a + b, 0);
  const files = sizes.map((size, i) => {
    const top = `d${Math.floor(rand() * spec.folders)}`;
    const dir = rand() < 0.1 ? top : `${top}/s${Math.floor(rand() * spec.folders)}`;
    return { path: `${dir}/f${String(i).padStart(5, '0')}.bin`, size };
  });
  const lines: string[] = [];
  for (const f of files) {
    const bytes = content(spec.seed, f.path, f.size);
    mkdirSync(join(root, f.path, '..'), { recursive: true });
    writeFileSync(join(root, f.path), bytes);
    lines.push(`${sha256(bytes)}  ./${f.path}\n`);
  }
  return { root, files, bytes: spec.bytes, hash: treeHash(lines) };
}

/** The tree hash of `root` as it is now on disk (after a file changed). */
export function rehash(tree: Tree): string {
  return treeHash(tree.files.map((f) => `${sha256(readFileSync(join(tree.root, f.path)))}  ./${f.path}\n`));
}

function treeHash(lines: string[]): string {
  // LC_ALL=C sort -z sorts by bytes; the paths are ASCII, so sorting the lines by path is the same.
  const sorted = [...lines].sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : 1));
  return createHash('sha256').update(sorted.join('')).digest('hex');
}

/** The shell that prints `FILES BYTES HASH` of a folder in the pod, to compare with a Tree. */
export const remoteCheck = (dir: string) =>
  `cd '${dir}' && n=$(find . -type f | wc -l) && b=$(find . -type f -printf '%s\\n' | awk '{s+=$1} END {print s+0}') && ` +
  `h=$(find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1) && echo "$n $b $h"`;
