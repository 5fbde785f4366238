import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Entry, Manifest } from '../env/sync/types.ts';
import { SyncState } from './sync-state.ts';

const file = (path: string, mtimeMs = 1000): Entry => ({ path, type: 'file', size: 1, mode: 0o644, mtimeMs });
const manifest = (...entries: Entry[]): Manifest => new Map(entries.map((e) => [e.path, e]));

describe('the stored sync state', () => {
  it('keeps the state, the folders, and the remote tree as its difference from the state', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-'));
    const state = manifest(file('a'), file('b'));
    const remoteTree = manifest(file('a'), file('b', 2000), file('only-there'));
    const folders = { local: '1:2', remote: '3:4' };
    new SyncState(cache, 'key', () => {}).write({ state, remote: { token: 'abc.7', manifest: remoteTree }, folders });
    const back = new SyncState(cache, 'key', () => {}).read();
    expect(back).toEqual({ state, remote: { token: 'abc.7', manifest: remoteTree }, folders });
  });

  it('reads a state without the newer parts (an older runbox wrote it), and sets a damaged one aside', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-old-'));
    const s = new SyncState(cache, 'key', () => {});
    s.write({ state: manifest(file('a')), remote: undefined, folders: undefined });
    expect(s.read()).toEqual({ state: manifest(file('a')), remote: undefined, folders: undefined });
    const [name] = readdirSync(join(cache, 'sync'));
    writeFileSync(join(cache, 'sync', name!), '{"version":1,"entries":[{"path":"../x"}]}');
    const warnings: string[] = [];
    expect(new SyncState(cache, 'key', (m) => warnings.push(m)).read()).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('could not be read')]);
  });
});
