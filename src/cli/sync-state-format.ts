import { RunboxError } from '../errors.ts';
import { checkedEntry } from '../env/sync/manifest.ts';
import type { Entry, EntryType, Manifest } from '../env/sync/types.ts';

/*
 * How the last synced state's entries are stored on the laptop (version 2):
 * each as a tuple [path, type, size, mode, mtimeMs], with a symlink's target
 * or a file's content hash after it, in no particular order. The file is read
 * and written on every sync of the folder, 10,000 entries for a tree of
 * 10,000 files: tuples take half the bytes of objects and half the time to
 * parse, and need no sort. Version 1 (manifestToJson's objects) is still read.
 */

export const STATE_VERSION = 2;

export type EntryTuple = [string, EntryType, number, number, number] | [string, EntryType, number, number, number, string];

export function entryTuple(e: Entry): EntryTuple {
  const extra = e.type === 'symlink' ? e.target : e.hash;
  return extra === undefined ? [e.path, e.type, e.size, e.mode, e.mtimeMs] : [e.path, e.type, e.size, e.mode, e.mtimeMs, extra];
}

/** Tuples read back into a manifest, checked as any entry from outside; throws a RunboxError saying what is wrong. */
export function manifestFromTuples(raw: unknown, what = 'The stored sync state'): Manifest {
  const bad = (why: string) => new RunboxError(`${what} is damaged: ${why}`);
  if (!Array.isArray(raw)) throw bad('its entries are not a list');
  const m: Manifest = new Map();
  for (const t of raw as unknown[]) {
    if (!Array.isArray(t) || t.length < 5 || t.length > 6) throw bad('an entry is not [path, type, size, mode, mtimeMs, target or hash]');
    // Indexed, not destructured: this loop runs once per sync, mostly before the JIT gets to it,
    // and array destructuring goes through an iterator.
    const link = t[1] === 'symlink';
    const e = checkedEntry(t[0], t[1], t[2], t[3], t[4], link ? t[5] : undefined, link ? undefined : t[5]);
    if (typeof e === 'string') throw bad(e);
    if (m.has(e.path)) throw bad(`${JSON.stringify(e.path)} appears twice`);
    m.set(e.path, e);
  }
  return m;
}
