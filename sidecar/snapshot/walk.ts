/**
 * Walks a root directory (in production `/proc/<pid>/root` of a worker process) with lstat, never
 * following a symlink, skipping the given mount points and everything under them; yields batches
 * of entries, parents before children: `walk(root, { skip })`, or `walkAll` for all at once.
 */
import { lstatSync, readdirSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fullMode, joinPath, type EntryType, type FileMeta } from './entries.ts';

export interface WalkEntry extends FileMeta {
  path: string;
  /** Device and inode (bigint: overlayfs inode numbers can exceed 2^53) tell hardlinks apart. */
  dev: bigint;
  ino: bigint;
  nlink: number;
}

/**
 * A part of the tree the walk could not see: its children are unknown, so a diff must not take
 * their absence for deletion. `unreadable`: the directory could not be listed. `other-device`:
 * a directory on another file system that no mountinfo line named (not descended into, not listed).
 */
export interface WalkProblem {
  path: string;
  reason: 'unreadable' | 'other-device';
  code?: string;
}

export interface WalkBatch {
  entries: WalkEntry[];
  problems: WalkProblem[];
}

export interface WalkOptions {
  /** Relative paths not to enter or list (the mount points). */
  skip?: Iterable<string>;
  /** Entries per batch: the walk is synchronous inside a batch and yields to the event loop between. */
  batchSize?: number;
}

function typeOf(stats: BigIntStats): EntryType | undefined {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isCharacterDevice()) return 'char';
  if (stats.isBlockDevice()) return 'block';
  if (stats.isFIFO()) return 'fifo';
  return undefined; // a socket: meaningless in an image, as in docker commit
}

/** Whole seconds, rounded down (also before 1970) as a tar header would hold them. */
export function floorSeconds(ns: bigint): number {
  const seconds = ns / 1_000_000_000n;
  return Number(ns < 0n && seconds * 1_000_000_000n !== ns ? seconds - 1n : seconds);
}

/** Linux's encoding of major/minor in st_rdev (glibc's gnu_dev_major/minor). */
export const deviceNumbers = (rdev: bigint) => ({
  devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
  devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
});

/** A WalkEntry from an lstat result; undefined for sockets. */
export function entryFromStats(path: string, stats: BigIntStats, linkname: string): WalkEntry | undefined {
  const type = typeOf(stats);
  if (type === undefined) return undefined;
  const device = type === 'char' || type === 'block' ? deviceNumbers(stats.rdev) : { devmajor: 0, devminor: 0 };
  return {
    path,
    type,
    mode: fullMode(type, Number(stats.mode)),
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    size: type === 'file' ? Number(stats.size) : 0,
    mtime: floorSeconds(stats.mtimeNs),
    linkname,
    ...device,
    dev: stats.dev,
    ino: stats.ino,
    nlink: Number(stats.nlink),
  };
}

const errnoOf = (err: unknown) => (err as NodeJS.ErrnoException).code;

export async function* walk(root: string, options: WalkOptions = {}): AsyncGenerator<WalkBatch> {
  const skip = new Set(options.skip ?? []);
  const batchSize = options.batchSize ?? 2000;
  // statSync, not lstat: in production the root is the /proc/<pid>/root magic link.
  const rootDev = statSync(root, { bigint: true }).dev;
  let batch: WalkBatch = { entries: [], problems: [] };
  const pending: string[] = [''];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let names: string[];
    try {
      names = readdirSync(dir === '' ? root : `${root}/${dir}`).sort();
    } catch (err) {
      // Gone since we saw it: what it held is gone too. Anything else: we cannot tell.
      if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') batch.problems.push({ path: dir, reason: 'unreadable', code: errnoOf(err) });
      continue;
    }
    const subdirs: string[] = [];
    for (const name of names) {
      const path = joinPath(dir, name);
      if (skip.has(path)) continue;
      const full = `${root}/${path}`;
      let stats: BigIntStats | undefined;
      let linkname = '';
      try {
        stats = lstatSync(full, { bigint: true, throwIfNoEntry: false });
        if (stats?.isSymbolicLink()) linkname = readlinkSync(full);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') batch.problems.push({ path, reason: 'unreadable', code: errnoOf(err) });
        continue;
      }
      if (stats === undefined) continue; // vanished mid-walk
      if (stats.isDirectory() && stats.dev !== rootDev) {
        // A mount mountinfo did not name, or a directory swapped for a path outside the root: not ours.
        batch.problems.push({ path, reason: 'other-device' });
        continue;
      }
      const entry = entryFromStats(path, stats, linkname);
      if (entry === undefined) continue;
      batch.entries.push(entry);
      if (entry.type === 'dir') subdirs.push(path);
    }
    // Reversed onto the stack so the walk visits directories in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) pending.push(subdirs[i] as string);
    if (batch.entries.length >= batchSize) {
      yield batch;
      batch = { entries: [], problems: [] };
      await yieldToEventLoop();
    }
  }
  if (batch.entries.length > 0 || batch.problems.length > 0) yield batch;
}

export async function walkAll(root: string, options: WalkOptions = {}): Promise<WalkBatch> {
  const all: WalkBatch = { entries: [], problems: [] };
  for await (const batch of walk(root, options)) {
    for (const entry of batch.entries) all.entries.push(entry);
    all.problems.push(...batch.problems);
  }
  return all;
}
