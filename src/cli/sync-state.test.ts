import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

  it('stores entries as tuples (links with their target, files with a hash), and still reads the objects an older runbox stored', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-tuples-'));
    const link: Entry = { path: 'l', type: 'symlink', size: 0, mode: 0o777, mtimeMs: 5, target: '../elsewhere' };
    const hashed: Entry = { ...file('h'), hash: 'a'.repeat(64) };
    const dir: Entry = { path: 'd', type: 'dir', size: 0, mode: 0o755, mtimeMs: 7 };
    const state = manifest(dir, link, hashed);
    const s = new SyncState(cache, 'key', () => {});
    s.write({ state, remote: { token: 't.1', manifest: manifest(dir, link, hashed, file('new')) }, folders: { local: '1:2', remote: '3:4' } });
    const [name] = readdirSync(join(cache, 'sync'));
    const stored = JSON.parse(readFileSync(join(cache, 'sync', name!), 'utf8'));
    expect(stored.entries).toEqual([
      ['d', 'dir', 0, 0o755, 7],
      ['l', 'symlink', 0, 0o777, 5, '../elsewhere'],
      ['h', 'file', 1, 0o644, 1000, 'a'.repeat(64)],
    ]);
    expect(s.read()).toEqual({ state, remote: { token: 't.1', manifest: manifest(dir, link, hashed, file('new')) }, folders: { local: '1:2', remote: '3:4' } });

    const v1 = { version: 1, entries: [dir, link, hashed], folders: { local: '1:2', remote: '3:4' }, remote: { token: 't.0', changed: [file('new')], removed: ['d'] } };
    writeFileSync(join(cache, 'sync', name!), JSON.stringify(v1));
    expect(s.read()).toEqual({ state, remote: { token: 't.0', manifest: manifest(link, hashed, file('new')) }, folders: { local: '1:2', remote: '3:4' } });
  });

  it('sets aside a tuple that is not an entry', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-bad-tuple-'));
    const s = new SyncState(cache, 'key', () => {});
    s.write({ state: manifest(file('a')), remote: undefined, folders: undefined });
    const [name] = readdirSync(join(cache, 'sync'));
    for (const bad of [[['a', 'file', 1, 0o644]], [['/etc/passwd', 'file', 1, 0o644, 1]], [['a', 'file', 1, 0o644, 1, 'not-a-hash']], [['a', 'symlink', 0, 0o777, 1]]]) {
      writeFileSync(join(cache, 'sync', name!), JSON.stringify({ version: 2, entries: bad }));
      const warnings: string[] = [];
      expect(new SyncState(cache, 'key', (m) => warnings.push(m)).read(), JSON.stringify(bad)).toBeUndefined();
      expect(warnings).toEqual([expect.stringContaining('could not be read')]);
    }
  });
});
