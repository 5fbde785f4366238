import { describe, expect, it } from 'vitest';
import { diffTree } from './diff.ts';
import { fullMode, type EntryType, type FileMeta } from './entries.ts';
import { testMeta } from './tree-fixture.ts';
import type { WalkEntry } from './walk.ts';

let nextIno = 1n;
const meta = (type: EntryType, extra: Partial<FileMeta> = {}): FileMeta => testMeta(type, 100, extra);
const walked = (path: string, m: FileMeta, extra: Partial<WalkEntry> = {}): WalkEntry => ({ ...m, path, dev: 1n, ino: nextIno++, nlink: 1, ...extra });

/** An image and a walk that starts out identical to it. */
function fixture(tree: Record<string, FileMeta>) {
  const index = new Map(Object.entries(tree));
  const now = new Map(Object.entries(tree).map(([p, m]) => [p, walked(p, m)]));
  const run = (hidden: string[] = []) => diffTree(index, [...now.values()], hidden);
  return { index, now, run };
}

const summary = (records: ReturnType<typeof diffTree>['records']) => records.map((r) => `${r.kind} ${r.path}`);

const TREE = {
  etc: meta('dir'),
  'etc/passwd': meta('file', { size: 10 }),
  'etc/hosts': meta('file', { size: 5 }),
  usr: meta('dir'),
  'usr/bin': meta('dir'),
  'usr/bin/a': meta('file', { size: 1 }),
  'usr/bin/b': meta('file', { size: 1 }),
  'usr/share': meta('dir'),
  proc: meta('dir'),
  'proc/1': meta('file'),
  opt: meta('dir'),
  'opt/x': meta('dir'),
  'opt/x/y': meta('dir'),
  'opt/x/y/z': meta('file'),
  'opt/keep': meta('file'),
};

describe('diffTree', () => {
  it('finds nothing when nothing changed, whatever the directories mtimes did', () => {
    const f = fixture(TREE);
    f.now.set('etc', { ...(f.now.get('etc') as WalkEntry), mtime: 999 });
    expect(f.run().records).toEqual([]);
  });

  it.each([
    ['mode', { mode: fullMode('file', 0o4755) }],
    ['uid', { uid: 7 }],
    ['gid', { gid: 7 }],
    ['size', { size: 11 }],
    ['mtime', { mtime: 101 }],
  ])('sees a file whose %s changed, and writes its parents', (_, change) => {
    const f = fixture(TREE);
    f.now.set('etc/passwd', { ...(f.now.get('etc/passwd') as WalkEntry), ...change });
    const result = f.run();
    expect(result.changed).toEqual(['etc/passwd']);
    expect(summary(result.records)).toEqual(['entry etc', 'entry etc/passwd']);
  });

  it('sees a directory only through mode and ownership', () => {
    const f = fixture(TREE);
    f.now.set('usr/bin', { ...(f.now.get('usr/bin') as WalkEntry), mode: fullMode('dir', 0o700), mtime: 5 });
    expect(summary(f.run().records)).toEqual(['entry usr', 'entry usr/bin']);
  });

  it('whites out only the top of a deleted subtree', () => {
    const f = fixture(TREE);
    for (const p of ['opt/x', 'opt/x/y', 'opt/x/y/z']) f.now.delete(p);
    const result = f.run();
    expect(result.deleted).toEqual(['opt/x']);
    expect(summary(result.records)).toEqual(['entry opt', 'whiteout opt/x']);
  });

  it('uses an opaque marker instead when a directory lost its every image child', () => {
    const f = fixture(TREE);
    for (const p of ['opt/x', 'opt/x/y', 'opt/x/y/z', 'opt/keep']) f.now.delete(p);
    const result = f.run();
    expect([result.deleted, result.recreated]).toEqual([[], ['opt']]);
    expect(summary(result.records)).toEqual(['entry opt', 'opaque opt']);
  });

  it('does not delete what mounts hide, nor what lies below them', () => {
    const f = fixture(TREE);
    for (const p of ['etc/hosts', 'proc/1']) f.now.delete(p);
    expect(f.run(['etc/hosts', 'proc']).records).toEqual([]);
    expect(summary(f.run(['proc']).records)).toEqual(['entry etc', 'whiteout etc/hosts']);
  });

  it('writes a whiteout before the entry that replaces a directory with a file', () => {
    const f = fixture(TREE);
    f.now.delete('usr/bin/a');
    f.now.delete('usr/bin/b');
    f.now.set('usr/bin', walked('usr/bin', meta('symlink', { linkname: 'usr/local/bin' })));
    f.now.set('usr/lib', walked('usr/lib', meta('dir')));
    const result = f.run();
    expect(result.deleted).toEqual(['usr/bin']);
    expect(summary(result.records)).toEqual(['entry usr', 'whiteout usr/bin', 'entry usr/bin', 'entry usr/lib']);
  });

  it('marks a directory recreated when none of its image children survive, and writes all it holds', () => {
    const f = fixture(TREE);
    f.now.delete('usr/bin/a');
    f.now.delete('usr/bin/b');
    f.now.set('usr/bin/c', walked('usr/bin/c', meta('file')));
    const result = f.run();
    expect(result.recreated).toEqual(['usr/bin']);
    expect(summary(result.records)).toEqual(['entry usr', 'entry usr/bin', 'opaque usr/bin', 'entry usr/bin/c']);
  });

  it('keeps whiteouts when some image children survive', () => {
    const f = fixture(TREE);
    f.now.delete('usr/bin/a');
    expect(summary(f.run().records)).toEqual(['entry usr', 'entry usr/bin', 'whiteout usr/bin/a']);
  });

  it('adds every name of a changed multiply-linked file', () => {
    const f = fixture(TREE);
    const shared = { dev: 1n, ino: 4242n, nlink: 2 };
    f.now.set('usr/bin/a', { ...(f.now.get('usr/bin/a') as WalkEntry), ...shared });
    f.now.set('etc/a-again', walked('etc/a-again', meta('file', { size: 1 }), shared));
    expect(summary(f.run().records)).toEqual(['entry etc', 'entry etc/a-again', 'entry usr', 'entry usr/bin', 'entry usr/bin/a']);
  });

  it('takes an image hardlink for the file the walk sees', () => {
    const f = fixture(TREE);
    f.index.set('usr/bin/a', meta('hardlink', { size: 1, linkname: 'usr/bin/b' }));
    expect(f.run().records).toEqual([]);
  });

  it('diffs 50k unchanged entries quickly (a smoke check, not a benchmark)', () => {
    const tree: Record<string, FileMeta> = {};
    for (let d = 0; d < 500; d++) {
      tree[`d${d}`] = meta('dir');
      for (let i = 0; i < 100; i++) tree[`d${d}/f${i}`] = meta('file', { size: i });
    }
    const f = fixture(tree);
    const started = performance.now();
    expect(f.run(['proc', 'etc/hosts']).records).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
