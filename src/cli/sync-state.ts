import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestFromDocument, manifestFromEntries, manifestToJson, sameStat } from '../env/sync/manifest.ts';
import type { RemoteTree, SyncedFolders } from '../env/sync/session.ts';
import type { Entry, Manifest } from '../env/sync/types.ts';

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
}

interface RemoteDiff {
  token: string;
  changed: Entry[];
  removed: string[];
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
    let doc: { remote?: RemoteDiff; folders?: SyncedFolders };
    let state: Manifest;
    try {
      doc = JSON.parse(text) as typeof doc;
      state = manifestFromDocument(doc);
    } catch {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      renameSync(this.file, aside);
      this.warn(`the last sync state ${this.file} could not be read; kept it as ${aside}; this sync deletes nothing`);
      return undefined;
    }
    return { state, remote: remoteFrom(state, doc.remote), folders: foldersFrom(doc.folders) };
  }

  write(synced: StoredSync): void {
    mkdirSync(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.tmp-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 8)}`;
    const extra = {
      ...(synced.folders && { folders: synced.folders }),
      ...(synced.remote && { remote: diffFrom(synced.state, synced.remote) }),
    };
    const text = `${manifestToJson(synced.state).slice(0, -1)}${Object.keys(extra).length > 0 ? `,${JSON.stringify(extra).slice(1)}` : '}'}`;
    writeFileSync(tmp, text);
    renameSync(tmp, this.file);
  }
}

function diffFrom(state: Manifest, remote: RemoteTree): RemoteDiff {
  const changed: Entry[] = [];
  for (const [p, e] of remote.manifest) {
    const s = state.get(p);
    if (!s || !sameStat(s, e)) changed.push(e);
  }
  const removed = [...state.keys()].filter((p) => !remote.manifest.has(p));
  return { token: remote.token, changed, removed };
}

function foldersFrom(f: SyncedFolders | undefined): SyncedFolders | undefined {
  return f && typeof f.local === 'string' ? { local: f.local, remote: typeof f.remote === 'string' ? f.remote : undefined } : undefined;
}

/** The remote tree stored beside the state; undefined (a full manifest next time) if absent or damaged. */
function remoteFrom(state: Manifest, diff: RemoteDiff | undefined): RemoteTree | undefined {
  try {
    if (!diff || typeof diff.token !== 'string' || !Array.isArray(diff.removed)) return undefined;
    const changed = manifestFromEntries(diff.changed, 'The stored sync state');
    const manifest = new Map(state);
    for (const p of diff.removed) manifest.delete(String(p));
    for (const [p, e] of changed) manifest.set(p, e);
    return { token: diff.token, manifest };
  } catch {
    return undefined;
  }
}
