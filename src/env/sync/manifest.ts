/*
 * The state of one side of a sync: every file, directory and symlink under a
 * root, read with lstat (links are recorded with their target, never
 * followed). decide.ts compares two of these with the last synced one.
 *
 * - Skipped: ignored paths (and everything under an ignored directory, which
 *   is not even listed), the state folder `.runbox-sync` at the root, and
 *   anything that is not a file, directory or symlink (sockets, FIFOs,
 *   devices: they cannot be copied).
 * - An entry that vanishes while it is being read is left out, as if the walk
 *   had come a moment later. Any other error (a directory we may not list,
 *   EIO...) fails the whole read: leaving that directory out would look like a
 *   delete, and sync would delete it on the other side.
 * - Content is hashed only where size and mtime cannot decide: when
 *   `previous` has the path as a file of the same size but another mtime (a
 *   touch, a checkout, an editor's save without change). Files are read in
 *   chunks, at most CONCURRENCY at once, so memory stays bounded whatever the
 *   tree (the manifest itself aside).
 */
import { createHash } from 'node:crypto';
import { constants, lstatSync, readdirSync, readlinkSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { RunboxError } from '../../errors.ts';
import { codeOf, safePath } from './safe-path.ts';
import { abandoned, isTempName } from './temp-name.ts';
import type { Entry, EntryType, Manifest } from './types.ts';

/** The folder at the synced root where runbox keeps its own state; never synced. */
export const STATE_DIR = '.runbox-sync';

/** Files open for hashing at once. */
const CONCURRENCY = 32;

/** Bytes read at a time while hashing: memory stays at CONCURRENCY * CHUNK whatever the file sizes. */
const CHUNK = 64 * 1024;

export interface ReadManifestOptions {
  ignore: (path: string, isDir: boolean) => boolean;
  /** The last manifest of this side (or the last synced one): where a file's size is the same but its mtime is not, its content is hashed. */
  previous?: Manifest | undefined;
  signal?: AbortSignal | undefined;
  /** Called with each directory just before it is listed (a watch set up there misses nothing the listing does not show). */
  onDir?: ((dir: string) => void) | undefined;
}

export async function readManifest(root: string, opts: ReadManifestOptions): Promise<Manifest> {
  await checkRoot(root);
  return collect(root, undefined, opts);
}

/**
 * Part of a tree read again (a watch said these paths changed): the entry of
 * each path that still exists and is not ignored, and with `deep`, for a
 * directory, everything under it too. The caller makes sure a path's parent
 * is a directory it syncs (not an ignored one).
 */
export async function readPaths(root: string, paths: { path: string; deep: boolean }[], opts: ReadManifestOptions): Promise<Manifest> {
  await checkRoot(root);
  return collect(root, paths, opts);
}

async function collect(root: string, only: { path: string; deep: boolean }[] | undefined, opts: ReadManifestOptions): Promise<Manifest> {
  const out: Manifest = new Map();
  const toHash: Entry[] = [];
  const temps: { rel: string; base: string }[] = [];
  // Paths are built by concatenation: path.join's normalising was a tenth of a 10,000-file walk.
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  const abs = path.sep === '/' ? (rel: string) => prefix + rel : (rel: string) => prefix + rel.split('/').join(path.sep);

  /** The entry at `rel` (undefined: skipped or vanished); directories go on `dirs` to be listed. */
  function visit(rel: string, known: EntryType | undefined, dirs: string[]): void {
    if (rel === STATE_DIR) return;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (isTempName(base)) return void temps.push({ rel, base });
    // readdir usually says what a name is: an ignored one then costs no lstat.
    if (known !== undefined && opts.ignore(rel, known === 'dir')) return;
    const st = vanishes(() => lstatSync(abs(rel)));
    if (st === undefined) return;
    const type = typeOf(st);
    if (type === undefined) return;
    if (known !== type && opts.ignore(rel, type === 'dir')) return;
    const size = type === 'file' ? st.size : 0;
    const mode = st.mode & 0o7777;
    const mtimeMs = Math.floor(st.mtimeMs);
    const prev = opts.previous?.get(rel);
    // Unchanged since the previous read: that entry itself (and its hash), so that the comparisons
    // after the walk find the same object, and 10,000 entries are not made again.
    if (prev !== undefined && type !== 'symlink' && prev.type === type && prev.size === size && prev.mode === mode && prev.mtimeMs === mtimeMs) {
      out.set(rel, prev);
      if (type === 'dir') dirs.push(rel);
      return;
    }
    const entry: Entry = { path: rel, type, size, mode, mtimeMs };
    if (type === 'symlink') {
      // EINVAL: no longer a link. Left out like a vanished entry; the next read sees what it became.
      const target = vanishes(() => readlinkSync(abs(rel)), 'EINVAL');
      if (target === undefined) return;
      entry.target = target;
    } else if (type === 'file' && needsHash(entry, prev)) {
      toHash.push(entry);
    }
    out.set(rel, entry);
    if (type === 'dir') dirs.push(rel);
  }

  try {
    // Metadata is read synchronously: lstat and readdir answer from the kernel's caches in
    // microseconds, and a promise (or a thread-pool round trip) per entry made a walk of
    // 10,000 files several times slower. The event loop gets a turn every YIELD_EVERY entries.
    const dirs = only === undefined ? [''] : [];
    for (const p of only ?? []) {
      const below: string[] = [];
      visit(p.path, undefined, below);
      if (p.deep) dirs.push(...below);
    }
    let seen = 0;
    for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
      opts.signal?.throwIfAborted();
      opts.onDir?.(dir);
      // The root vanishing is an error, not an empty tree: that would read as "everything deleted".
      const list = dir === '' ? readdirSync(root, { withFileTypes: true }) : vanishes(() => readdirSync(abs(dir), { withFileTypes: true }));
      if (list === undefined) continue;
      for (const d of list) visit(dir === '' ? d.name : `${dir}/${d.name}`, direntType(d), dirs);
      seen += list.length;
      if (seen >= YIELD_EVERY) {
        seen = 0;
        await new Promise((r) => setImmediate(r));
      }
    }
    await hashAll(toHash, abs, opts.signal);
    for (const t of temps) sweepTemp(abs(t.rel), t.base);
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (err instanceof RunboxError) throw err;
    const where = isRecord(err) && typeof err.path === 'string' ? err.path : root;
    throw new RunboxError(`Cannot read ${where}`, {
      cause: err,
      hint: 'Fix its permissions, or add it to .runboxignore.',
    });
  }
  return out;
}

/** Entries listed between two turns of the event loop (a few milliseconds of lstat). */
const YIELD_EVERY = 250;

/** A file half written by a sync that died is never part of the tree; once its writer is gone, it goes too. */
function sweepTemp(file: string, base: string): void {
  const st = vanishes(() => lstatSync(file));
  if (st?.isFile() && abandoned(base, st.mtimeMs, Date.now())) vanishes(() => unlinkSync(file));
}

/** Hashes each entry's file (at most CONCURRENCY open at once); one that changed while read keeps no hash. */
async function hashAll(entries: Entry[], abs: (rel: string) => string, outer: AbortSignal | undefined): Promise<void> {
  // The first failure aborts: queued hashes then fail at once instead of running.
  const failed = new AbortController();
  const signal = outer ? AbortSignal.any([outer, failed.signal]) : failed.signal;
  const run = limiter(CONCURRENCY, signal, (err) => failed.abort(err));
  await settleAll(
    entries.map((entry) =>
      run(async () => {
        const hash = await hashFile(abs(entry.path), entry);
        if (hash !== undefined) entry.hash = hash;
      }),
    ),
  );
}

/** Same type, and for files the same size and (mtime or hash); symlinks the same target. Mode is not compared. */
export function sameContent(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'dir':
      return true;
    case 'symlink':
      return a.target === b.target;
    case 'file':
      return a.size === b.size && (a.mtimeMs === b.mtimeMs || (a.hash !== undefined && a.hash === b.hash));
    default: {
      const never: never = a.type;
      return never;
    }
  }
}

const JSON_VERSION = 1;

/** A manifest as JSON, entries sorted by path: how the last synced state is stored on the laptop. */
export function manifestToJson(m: Manifest): string {
  const entries = [...m.values()]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => {
      const { path: p, type, size, mode, mtimeMs, target, hash } = e;
      return { path: p, type, size, mode, mtimeMs, ...(target !== undefined && { target }), ...(hash !== undefined && { hash }) };
    });
  return JSON.stringify({ version: JSON_VERSION, entries });
}

/** Reads manifestToJson's output back; throws a RunboxError if it is not that (the caller may then sync without a base). */
export function manifestFromJson(text: string, what = 'The stored sync state'): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RunboxError(`${what} is damaged: not JSON`, { cause: err });
  }
  return manifestFromDocument(doc, what);
}

/** manifestFromJson for text parsed already (a document that carries more beside the manifest). */
export function manifestFromDocument(doc: unknown, what = 'The stored sync state'): Manifest {
  const bad = (why: string) => new RunboxError(`${what} is damaged: ${why}`);
  if (!isRecord(doc) || doc.version !== JSON_VERSION || !Array.isArray(doc.entries)) {
    throw bad(`expected {"version":${JSON_VERSION},"entries":[...]}`);
  }
  const m: Manifest = new Map();
  for (const raw of doc.entries as unknown[]) {
    const e = parseEntry(raw);
    if (typeof e === 'string') throw bad(e);
    if (m.has(e.path)) throw bad(`${JSON.stringify(e.path)} appears twice`);
    m.set(e.path, e);
  }
  return m;
}

function parseEntry(raw: unknown): Entry | string {
  if (!isRecord(raw)) return 'an entry is not an object';
  const { path: p, type, size, mode, mtimeMs, target, hash } = raw;
  return checkedEntry(p, type, size, mode, mtimeMs, target, hash);
}

/** An entry from its fields as read from outside (a stored state, an agent's answer), or what is wrong with them. */
export function checkedEntry(p: unknown, type: unknown, size: unknown, mode: unknown, mtimeMs: unknown, target: unknown, hash: unknown): Entry | string {
  if (typeof p !== 'string' || safePath(p) !== p) return `bad path ${JSON.stringify(p)}`;
  if (type !== 'file' && type !== 'dir' && type !== 'symlink') return `${p}: bad type`;
  if (!whole(size) || !whole(mode) || mode > 0o7777 || !whole(mtimeMs)) return `${p}: bad size, mode or mtime`;
  if (type === 'symlink' ? typeof target !== 'string' : target !== undefined) return `${p}: bad target`;
  if (hash !== undefined && (type !== 'file' || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash))) return `${p}: bad hash`;
  const e: Entry = { path: p, type, size, mode, mtimeMs };
  if (typeof target === 'string') e.target = target;
  if (typeof hash === 'string') e.hash = hash;
  return e;
}

const whole = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Hash when the previous state had a file of this size with another mtime: only the content can tell. */
function needsHash(now: Entry, prev: Entry | undefined): boolean {
  return prev !== undefined && prev.type === 'file' && prev.size === now.size && prev.mtimeMs !== now.mtimeMs;
}

/**
 * sha256 of the file, or undefined if it cannot be trusted: it vanished, is no
 * longer a regular file, or its size or mtime moved while it was read (then it
 * is simply reported changed). Opened without following a link that replaced
 * it, and non-blocking so a FIFO put in its place cannot hang the walk.
 */
async function hashFile(file: string, seen: Entry): Promise<string | undefined> {
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  let fh;
  try {
    fh = await open(file, flags);
  } catch (err) {
    // Gone, replaced by a link, or unreadable: no hash; the archive reports what it cannot read.
    if (['ENOENT', 'ELOOP', 'EACCES', 'EPERM'].includes(codeOf(err) ?? '')) return undefined;
    throw err;
  }
  try {
    const unchanged = (st: Stats) => st.isFile() && st.size === seen.size && Math.floor(st.mtimeMs) === seen.mtimeMs;
    if (!unchanged(await fh.stat())) return undefined;
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(seen.size + 1, CHUNK));
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    if (!unchanged(await fh.stat())) return undefined;
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

function typeOf(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

function direntType(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType | undefined {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  return undefined; // unknown to readdir, or a kind we skip: lstat decides
}

async function checkRoot(root: string): Promise<void> {
  let st;
  try {
    st = await stat(root);
  } catch (err) {
    throw new RunboxError(`Cannot read the folder ${root}`, { cause: err, hint: 'Check that the folder exists.' });
  }
  if (!st.isDirectory()) throw new RunboxError(`${root} is not a folder`);
}

/** The call's result, or undefined when the path vanished (or a directory became a file) meanwhile. */
function vanishes<T>(call: () => T, alsoCode?: string): T | undefined {
  try {
    return call();
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || (code !== undefined && code === alsoCode)) return undefined;
    throw err;
  }
}

/** Waits for every promise to settle (so nothing runs on after we return), then throws the first failure. */
async function settleAll(ps: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/**
 * Runs at most `n` tasks at once. A task's failure is passed to `onFail` at
 * once; once `signal` aborts, waiting tasks throw its reason instead of running.
 */
function limiter(n: number, signal: AbortSignal, onFail: (err: unknown) => void) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      signal.throwIfAborted();
      return await task();
    } catch (err) {
      onFail(err);
      throw err;
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Two entries alike in every field a manifest records. */
export function sameEntry(a: Entry, b: Entry): boolean {
  return sameStat(a, b) && a.hash === b.hash;
}

/** sameEntry, a content hash aside. */
export function sameStat(a: Entry, b: Entry): boolean {
  if (a === b) return true;
  return a.type === b.type && a.size === b.size && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.target === b.target;
}

/**
 * Puts what readPaths found into a manifest read before: each path read again
 * (and, where `deep`, or where a directory is gone or no longer one,
 * everything under it) now holds what `fresh` says. Returns the entries that
 * changed and the paths that went. A file whose stat data did not move keeps
 * its content hash.
 */
export function patchManifest(m: Manifest, paths: { path: string; deep: boolean }[], fresh: Manifest): { changed: Entry[]; removed: string[] } {
  const changed: Entry[] = [];
  const removed: string[] = [];
  const gone = (p: string) => {
    if (m.delete(p)) removed.push(p);
  };
  for (const { path: p, deep } of paths) {
    const before = m.get(p);
    const now = fresh.get(p);
    if (before?.type === 'dir' && (deep || now?.type !== 'dir')) {
      const under = `${p}/`;
      for (const q of [...m.keys()]) if (q.startsWith(under) && !fresh.has(q)) gone(q);
    }
    if (now === undefined) gone(p);
  }
  for (const [p, now] of fresh) {
    const before = m.get(p);
    const entry = before?.hash !== undefined && now.hash === undefined && now.type === 'file' && sameContent(before, now) && before.mtimeMs === now.mtimeMs ? { ...now, hash: before.hash } : now;
    if (before !== undefined && sameEntry(before, entry)) continue;
    m.set(p, entry);
    changed.push(entry);
  }
  return { changed, removed };
}

/**
 * Which folder this is, beyond its path: inode and birth time. A folder
 * deleted and made again (an environment recreated under the same name, a
 * clone checked out afresh) is another folder, and its last synced state
 * must not make its emptiness look like deletions to carry over.
 */
export function folderIdentity(root: string): string {
  const st = statSync(root, { bigint: true });
  return `${st.ino}:${st.birthtimeNs}`;
}

/** Entries that came from elsewhere (the agent's delta, a stored diff), checked as a stored manifest's are. */
export const manifestFromEntries = (entries: unknown, what: string): Manifest => manifestFromDocument({ version: JSON_VERSION, entries }, what);
