import { appendFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

  it('logs what a sync changed instead of writing every entry again, and reads the log back', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-log-'));
    const many = Array.from({ length: 400 }, (_, i) => file(`f${i}`));
    new SyncState(cache, 'key', () => {}).write({ state: manifest(...many), remote: undefined, folders: { local: '1:2', remote: '3:4' } });
    const s = new SyncState(cache, 'key', () => {});
    const read = s.read()!;
    // A sync keeps the entries it did not touch: the same objects.
    const next = new Map(read.state);
    next.set('f1', file('f1', 2000));
    next.delete('f2');
    next.set('new', file('new'));
    const remote = { token: 't.9', manifest: new Map([...next, ['only-there', file('only-there')]]) };
    s.write({ state: next, remote, folders: { local: '1:2', remote: '3:4' } });
    const files = readdirSync(join(cache, 'sync')).sort();
    expect(files).toHaveLength(2);
    const [whole, log] = files.map((f) => readFileSync(join(cache, 'sync', f), 'utf8'));
    expect(JSON.parse(whole!).entries).toHaveLength(400);
    expect(JSON.parse(log!)).toMatchObject({ set: [['f1', 'file', 1, 0o644, 2000], ['new', 'file', 1, 0o644, 1000]], unset: ['f2'] });
    expect(new SyncState(cache, 'key', () => {}).read()).toEqual({ state: next, remote, folders: { local: '1:2', remote: '3:4' } });
  });

  it('reads the log up to a line cut short (a crash while writing it), and ignores the lines of a file written whole since', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-torn-'));
    const s = new SyncState(cache, 'key', () => {});
    s.write({ state: manifest(file('a'), file('b')), remote: undefined, folders: undefined });
    const first = s.read()!.state;
    const second = new Map(first).set('c', file('c'));
    s.write({ state: second, remote: undefined, folders: undefined });
    const logFile = readdirSync(join(cache, 'sync')).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(cache, 'sync', logFile), '{"id":"cut sh');
    expect(new SyncState(cache, 'key', () => {}).read()?.state).toEqual(second);
    // A whole file written since (by another runbox, which then lost the race to remove the log): the old lines are not its own.
    const oldLines = readFileSync(join(cache, 'sync', logFile), 'utf8');
    new SyncState(cache, 'key', () => {}).write({ state: manifest(file('z')), remote: undefined, folders: undefined });
    writeFileSync(join(cache, 'sync', logFile), oldLines);
    expect(new SyncState(cache, 'key', () => {}).read()?.state).toEqual(manifest(file('z')));
  });

  it('writes the file whole again once the log holds more than a quarter of it (at least 64 entries)', () => {
    const cache = mkdtempSync(join(tmpdir(), 'rb-state-compact-'));
    const s = new SyncState(cache, 'key', () => {});
    s.write({ state: manifest(...Array.from({ length: 100 }, (_, i) => file(`f${i}`))), remote: undefined, folders: undefined });
    let state = s.read()!.state;
    for (let round = 1; round <= 3; round++) {
      state = new Map(state);
      for (let i = 0; i < 30; i++) state.set(`f${i}`, file(`f${i}`, 1000 + round));
      s.write({ state, remote: undefined, folders: undefined });
    }
    // 30 and 60 entries were logged; 90 is over 64: the third write was whole.
    expect(readdirSync(join(cache, 'sync'))).toHaveLength(1);
    expect(new SyncState(cache, 'key', () => {}).read()?.state).toEqual(state);
  });
});
