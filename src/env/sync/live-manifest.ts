import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IGNORE_FILE, readIgnoreRules, type IgnoreFn } from './ignore-rules.ts';
import { STATE_DIR, patchManifest, readManifest, readPaths } from './manifest.ts';
import { watchTree, type TreeWatch } from './tree-watch.ts';
import type { Entry, Manifest } from './types.ts';

/*
 * The manifest of one folder, kept current by an inotify watch instead of a
 * walk per sync: a walk of 10,000 files is ~0.1 s of CPU, two seconds at the
 * sidecar's resting 50m. After the first walk, a read stats only the paths
 * the watch named since the last one.
 *
 * Every change gets a generation number, so a reader that holds the tree as
 * of token `INSTANCE.GEN` is sent only what changed since (and the paths that
 * went). Another instance (the sidecar restarted, the folder was walked
 * afresh because the watch could not be trusted) gets the whole manifest.
 *
 * When the watch cannot be trusted, the next read walks the whole tree:
 * a watch failed (no inotify watches left), `.runboxignore` changed, or so
 * many events came since the last walk that the kernel's event queue may have
 * overflowed (it then drops events; libuv does not say so, but an overflow
 * means the queue held max_queued_events events, and we would have seen them).
 */

export interface ManifestRead {
  token: string;
  /** Everything, when the reader's token was not given or not this tree's. */
  manifest?: Manifest;
  /** What changed since the reader's token. */
  delta?: { changed: Entry[]; removed: string[] };
}

export interface LiveManifest {
  read(since: string | undefined): Promise<ManifestRead>;
  /** Paths this process wrote or removed: read again next time, whatever the watch says. */
  touched(paths: Iterable<string>): void;
  /** Called on every change the watch reports (not on ignored paths). Returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Someone listens to its changes (a `sync --watch`). */
  readonly watched: boolean;
  readonly size: number;
  close(): void;
}

/** Trees bigger than this are not kept in memory: each read walks them. */
export const LIVE_MAX_ENTRIES = 200_000;
/** Paths named since the last read beyond which a read walks the whole tree instead. */
const DIRTY_MAX = 5_000;
/** Tombstones kept before old tokens stop getting deltas. */
const TOMBS_MAX = 50_000;

function eventLimit(): number {
  try {
    return Math.max(256, Math.floor(Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8')) / 2));
  } catch {
    return 8192;
  }
}

const parentOf = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));

export async function startLiveManifest(root: string, opts: { previous?: Manifest | undefined } = {}): Promise<LiveManifest> {
  const instance = randomBytes(6).toString('hex');
  const limit = eventLimit();
  let ignore: IgnoreFn = await readIgnoreRules(root);
  const entries: Manifest = new Map();
  const gens = new Map<string, number>();
  const tombs = new Map<string, number>();
  // Paths in the order their changes were recorded (generations ascending), so that a read
  // visits only what changed since its token, not every path of a large tree; the maps above
  // say what each path's latest change was. Rebuilt from them when it grows too long.
  // Two arrays, not one of objects: a tree of 200,000 paths keeps this small.
  let logGens: number[] = [];
  let logPaths: string[] = [];
  let gen = 0;
  let floor = 0;
  let dirty = new Set<string>();
  let rewalk = new Set<string>();
  let events = 0;
  let whole = true; // the next read walks everything
  let failed = false; // watching failed: every read walks
  const listeners = new Set<() => void>();

  const mark = (p: string, deep: boolean) => {
    if (p === STATE_DIR || p.startsWith(`${STATE_DIR}/`)) return;
    if (p === IGNORE_FILE) whole = true;
    dirty.add(p);
    if (deep) rewalk.add(p);
    const parent = parentOf(p);
    if (parent !== '') dirty.add(parent); // its mtime moved
  };
  const watch: TreeWatch = watchTree(root, {
    changed(p) {
      if (++events >= limit) whole = true;
      mark(p, false);
      const dir = entries.get(p)?.type === 'dir';
      if (!ignore(p, dir)) for (const l of listeners) l();
    },
    failed() {
      failed = true;
      whole = true;
    },
  });
  // Each directory is watched just before a walk lists it.
  const onDir = (dir: string) => {
    if (!failed) watch.add([dir]);
  };

  const record = (changes: { changed: Entry[]; removed: string[] }) => {
    if (changes.changed.length === 0 && changes.removed.length === 0) return;
    gen += 1;
    for (const e of changes.changed) {
      gens.set(e.path, gen);
      tombs.delete(e.path);
    }
    for (const p of changes.removed) {
      gens.delete(p);
      tombs.set(p, gen);
    }
    for (const p of [...changes.changed.map((e) => e.path), ...changes.removed]) {
      logGens.push(gen);
      logPaths.push(p);
    }
    if (tombs.size > TOMBS_MAX) {
      tombs.clear();
      floor = gen;
    }
    if (logPaths.length > 2 * (gens.size + tombs.size) + 1024) {
      const latest = [...gens, ...tombs].sort((a, b) => a[1] - b[1]);
      logGens = latest.map(([, g]) => g);
      logPaths = latest.map(([p]) => p);
    }
    for (const p of changes.removed) watch.drop(p);
  };

  /** What changed after generation `from`, each path once, as it is now. */
  const changesSince = (from: number): { changed: Entry[]; removed: string[] } => {
    let lo = 0;
    let hi = logGens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((logGens[mid] as number) > from) hi = mid;
      else lo = mid + 1;
    }
    const changed: Entry[] = [];
    const removed: string[] = [];
    const seen = new Set<string>();
    for (let i = lo; i < logPaths.length; i++) {
      const path = logPaths[i] as string;
      if (seen.has(path)) continue;
      seen.add(path);
      if ((gens.get(path) ?? -1) > from) changed.push(entries.get(path) as Entry);
      else if ((tombs.get(path) ?? -1) > from) removed.push(path);
    }
    return { changed, removed };
  };

  async function walkAll(previous: Manifest | undefined): Promise<void> {
    dirty = new Set();
    rewalk = new Set();
    events = 0;
    whole = failed;
    ignore = await readIgnoreRules(root);
    const fresh = await readManifest(root, { ignore, previous: previous ?? entries, onDir });
    const removed = [...entries.keys()].filter((p) => !fresh.has(p));
    const changes = patchManifest(entries, [], fresh);
    for (const p of removed) entries.delete(p);
    record({ changed: changes.changed, removed });
  }

  async function refresh(): Promise<void> {
    const named = [...dirty].sort();
    const deep = rewalk;
    dirty = new Set();
    rewalk = new Set();
    const known = (p: string) => p === '' || entries.get(p)?.type === 'dir';
    // A path under an ignored (unlisted) directory is not ours; one under a new directory is read with it.
    const paths: { path: string; deep: boolean }[] = [];
    const walked = new Set<string>();
    for (const p of named) {
      const parent = parentOf(p);
      if (!known(parent) || [...ancestors(p)].some((a) => walked.has(a))) continue;
      const isDeep = deep.has(p) || entries.get(p)?.type !== 'dir';
      paths.push({ path: p, deep: isDeep });
      if (isDeep) walked.add(p);
    }
    const fresh = await readPaths(root, paths, { ignore, previous: entries, onDir });
    record(patchManifest(entries, paths, fresh));
  }

  return {
    async read(since) {
      // An event queued before the request came (a write just done in this process, whose answer
      // brought the request) is delivered at the loop's next poll: let one pass first.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      if (whole || dirty.size > DIRTY_MAX) await walkAll(gen === 0 ? opts.previous : undefined);
      else if (dirty.size > 0) await refresh();
      const token = `${instance}.${gen}`;
      const m = /^([0-9a-f]+)\.(\d+)$/.exec(since ?? '');
      const from = m && m[1] === instance ? Number(m[2]) : -1;
      if (from < floor || from > gen) return { token, manifest: new Map(entries) };
      return { token, delta: changesSince(from) };
    },
    touched(paths) {
      for (const p of paths) mark(p, true);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get watched() {
      return listeners.size > 0;
    },
    get size() {
      return entries.size;
    },
    close() {
      watch.close();
      listeners.clear();
    },
  };
}

function* ancestors(p: string): Generator<string> {
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) yield p.slice(0, i);
}

/** The live manifests one agent process keeps, by folder: a few, the most recently used. */
export interface LiveManifests {
  get(root: string): LiveManifest | undefined;
  open(root: string, previous: Manifest | undefined): Promise<LiveManifest>;
  /** After a read: a tree too big to keep is let go (its next read walks again), unless a watch listens to it. */
  release(root: string): void;
  close(): void;
}

export function liveManifests(max = 4): LiveManifests {
  const live = new Map<string, LiveManifest>();
  const forget = (root: string) => {
    live.get(root)?.close();
    live.delete(root);
  };
  return {
    get(root) {
      const m = live.get(root);
      if (m) {
        live.delete(root);
        live.set(root, m); // most recent last
      }
      return m;
    },
    async open(root, previous) {
      forget(root);
      const m = await startLiveManifest(root, { previous });
      live.set(root, m);
      while (live.size > max) forget(live.keys().next().value as string);
      return m;
    },
    release(root) {
      const m = live.get(root);
      if (m && m.size > LIVE_MAX_ENTRIES && !m.watched) forget(root);
    },
    close() {
      for (const root of [...live.keys()]) forget(root);
    },
  };
}
