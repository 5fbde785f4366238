import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestFromDocument, manifestFromEntries, sameEntry, sameStat } from '../env/sync/manifest.ts';
import type { RemoteTree, SyncedFolders } from '../env/sync/session.ts';
import type { Entry, Manifest } from '../env/sync/types.ts';
import { STATE_VERSION, entryTuple, manifestFromTuples, type EntryTuple } from './sync-state-format.ts';

/*
 * The last synced state of one (laptop folder, environment, remote path) on
 * this laptop: what makes a sync three-way. Lost or unreadable, the next
 * sync runs without it and deletes nothing.
 *
 * Beside it, in the same file (so the two never disagree), the environment's
 * tree as its agent last told it, with the agent's token: stored as its
 * difference from the state, which after a sync is usually nothing.
 *
 * A sync that changed a few entries appends them to a log beside the file
 * (one JSON line: the entries set and removed, the remote tree and folders
 * as of then) instead of writing 10,000 entries again; the file is written
 * whole once the log holds more than a quarter of it. Lines name the file
 * they follow (its id); a line cut short by a crash ends the log, which only
 * leaves an older state: one that deletes nothing the sides still hold alike.
 */

export interface StoredSync {
  state: Manifest;
  remote: RemoteTree | undefined;
  /** The two folders the state was synced between (absent in state from an older runbox). */
  folders: SyncedFolders | undefined;
  /** The remote tree's entries that differ from the state, where the caller found them already (else they are looked for). */
  remoteDiff?: Entry[] | undefined;
}

/** As stored: entries as tuples (sync-state-format.ts), or objects in version 1. */
interface RemoteDiff {
  token: string;
  changed: EntryTuple[] | Entry[];
  removed: string[];
}

/** The stored file's document. */
interface StateDocument {
  version: number;
  /** Which whole file the log's lines follow. */
  id?: string;
  entries: unknown;
  remote?: RemoteDiff;
  folders?: SyncedFolders;
}

/** One line of the log. */
interface LogLine {
  id: string;
  set: EntryTuple[];
  unset: string[];
  remote?: RemoteDiff;
  folders?: SyncedFolders;
}

/** What was read, to log only what changed since. */
interface Loaded {
  id: string;
  state: Manifest;
  /** Entries logged since the whole file. */
  logged: number;
}

export class SyncState {
  private readonly file: string;
  private readonly log: string;
  private readonly warn: (m: string) => void;
  private loaded: Loaded | undefined;

  constructor(cacheDir: string, key: string, warn: (m: string) => void) {
    this.warn = warn;
    this.file = join(cacheDir, 'sync', `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
    this.log = `${this.file}.log`;
  }

  read(): StoredSync | undefined {
    this.loaded = undefined;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    let doc: StateDocument;
    let state: Manifest;
    let logged = 0;
    try {
      doc = JSON.parse(text) as StateDocument;
      state = doc.version === STATE_VERSION ? manifestFromTuples(doc.entries) : manifestFromDocument(doc);
      if (doc.version === STATE_VERSION && typeof doc.id === 'string') {
        for (const line of this.logLines(doc.id)) {
          for (const p of line.unset) state.delete(String(p));
          for (const [p, e] of manifestFromTuples(line.set)) state.set(p, e);
          logged += line.set.length + line.unset.length;
          doc.remote = line.remote;
          doc.folders = line.folders;
        }
      }
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      renameSync(this.file, aside);
      rmSync(this.log, { force: true });
      this.warn(`the last sync state ${this.file} could not be read; kept it as ${aside}; this sync deletes nothing`);
      return undefined;
    }
    if (doc.version === STATE_VERSION && typeof doc.id === 'string') this.loaded = { id: doc.id, state, logged };
    return { state, remote: remoteFrom(state, doc.remote, doc.version), folders: foldersFrom(doc.folders) };
  }

  /** The log's whole lines for the file `id`, up to the first that is not (a write cut short). */
  private logLines(id: string): LogLine[] {
    let text: string;
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    const lines: LogLine[] = [];
    for (const raw of text.split('\n')) {
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        break;
      }
      if (line.id !== id || !Array.isArray(line.set) || !Array.isArray(line.unset)) break;
      lines.push(line);
    }
    return lines;
  }

  write(synced: StoredSync): void {
    const remote = synced.remote && (synced.remoteDiff ? { token: synced.remote.token, changed: synced.remoteDiff.map(entryTuple), removed: [] } : diffFrom(synced.state, synced.remote));
    const extra = { ...(synced.folders && { folders: synced.folders }), ...(remote && { remote }) };
    if (this.loaded) {
      const { set, unset } = changesSince(this.loaded.state, synced.state);
      const logged = this.loaded.logged + set.length + unset.length;
      if (logged <= Math.max(LOG_MIN, synced.state.size / 4)) {
        appendFileSync(this.log, `${JSON.stringify({ id: this.loaded.id, set, unset, ...extra } satisfies LogLine)}\n`);
        this.loaded = { id: this.loaded.id, state: synced.state, logged };
        return;
      }
    }
    mkdirSync(join(this.file, '..'), { recursive: true });
    const id = randomBytes(8).toString('hex');
    const tmp = `${this.file}.tmp-${id}`;
    const doc: StateDocument = { version: STATE_VERSION, id, entries: Array.from(synced.state.values(), entryTuple), ...extra };
    writeFileSync(tmp, JSON.stringify(doc));
    renameSync(tmp, this.file);
    rmSync(this.log, { force: true });
    this.loaded = { id, state: synced.state, logged: 0 };
  }
}

/** Entries logged, at least, before the file is written whole again. */
const LOG_MIN = 64;

/** What `now` sets and removes relative to `was`: entries that are not the very ones read (a sync keeps those it did not touch). */
function changesSince(was: Manifest, now: Manifest): { set: EntryTuple[]; unset: string[] } {
  const set: EntryTuple[] = [];
  let kept = 0;
  for (const [p, e] of now) {
    const before = was.get(p);
    if (before !== undefined) kept += 1;
    if (before !== e && (before === undefined || !sameEntry(before, e))) set.push(entryTuple(e));
  }
  const unset = kept === was.size ? [] : [...was.keys()].filter((p) => !now.has(p));
  return { set, unset };
}

function diffFrom(state: Manifest, remote: RemoteTree): RemoteDiff {
  const changed: EntryTuple[] = [];
  let shared = 0;
  for (const [p, e] of remote.manifest) {
    const s = state.get(p);
    if (s !== undefined) shared += 1;
    if (s !== e && (s === undefined || !sameStat(s, e))) changed.push(entryTuple(e));
  }
  // The state is what both sides hold alike, so every path of it is usually there: no second pass.
  const removed = shared === state.size ? [] : [...state.keys()].filter((p) => !remote.manifest.has(p));
  return { token: remote.token, changed, removed };
}

function foldersFrom(f: SyncedFolders | undefined): SyncedFolders | undefined {
  return f && typeof f.local === 'string' ? { local: f.local, remote: typeof f.remote === 'string' ? f.remote : undefined } : undefined;
}

/** The remote tree stored beside the state; undefined (a full manifest next time) if absent or damaged. */
function remoteFrom(state: Manifest, diff: RemoteDiff | undefined, version: number): RemoteTree | undefined {
  try {
    if (!diff || typeof diff.token !== 'string' || !Array.isArray(diff.removed)) return undefined;
    const changed = version === STATE_VERSION ? manifestFromTuples(diff.changed) : manifestFromEntries(diff.changed, 'The stored sync state');
    const manifest = new Map(state);
    for (const p of diff.removed) manifest.delete(String(p));
    for (const [p, e] of changed) manifest.set(p, e);
    return { token: diff.token, manifest };
  } catch {
    return undefined;
  }
}
