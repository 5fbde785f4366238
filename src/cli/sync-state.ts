import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestFromDocument, manifestFromEntries, sameStat } from '../env/sync/manifest.ts';
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
  entries: unknown;
  remote?: RemoteDiff;
  folders?: SyncedFolders;
}

export class SyncState {
  private readonly file: string;
  private readonly warn: (m: string) => void;

  constructor(cacheDir: string, key: string, warn: (m: string) => void) {
    this.warn = warn;
    this.file = join(cacheDir, 'sync', `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  read(): StoredSync | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    let doc: StateDocument;
    let state: Manifest;
    try {
      doc = JSON.parse(text) as StateDocument;
      state = doc.version === STATE_VERSION ? manifestFromTuples(doc.entries) : manifestFromDocument(doc);
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      renameSync(this.file, aside);
      this.warn(`the last sync state ${this.file} could not be read; kept it as ${aside}; this sync deletes nothing`);
      return undefined;
    }
    return { state, remote: remoteFrom(state, doc.remote, doc.version), folders: foldersFrom(doc.folders) };
  }

  write(synced: StoredSync): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.tmp-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`;
    const remote = synced.remote && (synced.remoteDiff ? { token: synced.remote.token, changed: synced.remoteDiff.map(entryTuple), removed: [] } : diffFrom(synced.state, synced.remote));
    const doc: StateDocument = {
      version: STATE_VERSION,
      entries: Array.from(synced.state.values(), entryTuple),
      ...(synced.folders && { folders: synced.folders }),
      ...(remote && { remote }),
    };
    writeFileSync(tmp, JSON.stringify(doc));
    renameSync(tmp, this.file);
  }
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
