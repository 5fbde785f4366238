import { describe, expect, it } from 'vitest';
import { PassThrough, Writable } from 'node:stream';
import { fullMode, type EntryType, type FileMeta, type LayerChange } from './entries.ts';
import { writeLayer } from './layer.ts';
import { readLayer } from './read-layer.ts';
import { fromHeader, sanitizePath, tarName } from './tar-header.ts';

const meta = (type: EntryType, extra: Partial<FileMeta> = {}): FileMeta => ({
  type, mode: fullMode(type, 0o644), uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, linkname: '', devmajor: 0, devminor: 0, ...extra,
});

async function roundTrip(changes: LayerChange[]): Promise<LayerChange[]> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
  await writeLayer(changes.map((c) => (c.kind === 'entry' && c.meta.type === 'file' ? { ...c, content: [Buffer.alloc(c.meta.size, 120)] } : c)), out);
  const source = new PassThrough();
  source.end(Buffer.concat(chunks));
  const back: LayerChange[] = [];
  for await (const { content: _, ...change } of readLayer(source)) back.push(change);
  return back;
}

describe('tar headers', () => {
  it('names whiteouts and opaque markers as OCI says', () => {
    expect(tarName({ kind: 'whiteout', path: 'etc/shadow' })).toBe('etc/.wh.shadow');
    expect(tarName({ kind: 'whiteout', path: 'top' })).toBe('.wh.top');
    expect(tarName({ kind: 'opaque', path: 'opt/app' })).toBe('opt/app/.wh..wh..opq');
    expect(tarName({ kind: 'entry', path: 'opt', meta: meta('dir') })).toBe('opt/');
  });

  it.each([
    ['./etc/passwd', 'etc/passwd'],
    ['/etc//passwd/', 'etc/passwd'],
    ['./', ''],
    ['../etc/passwd', undefined],
    ['a/../../b', undefined],
  ])('sanitises %s', (name, path) => expect(sanitizePath(name)).toBe(path));

  it('reads aufs metadata and unsafe names as nothing', () => {
    expect(fromHeader({ name: '.wh..wh.plnk/1.2', type: 'file' })).toBeUndefined();
    expect(fromHeader({ name: '../x', type: 'file' })).toBeUndefined();
    expect(fromHeader({ name: 'a', type: 'link', linkname: '../../b' })).toBeUndefined();
  });

  it('keeps every field through write and read, PAX included', async () => {
    const changes: LayerChange[] = [
      { kind: 'entry', path: 'd', meta: meta('dir', { mode: fullMode('dir', 0o1777) }) },
      { kind: 'entry', path: 'd/secret', meta: meta('file', { mode: fullMode('file', 0), size: 3 }) },
      { kind: 'entry', path: 'd/suid', meta: meta('file', { mode: fullMode('file', 0o6755), size: 1 }) },
      { kind: 'entry', path: 'd/big-ids', meta: meta('file', { uid: 5_000_000, gid: 4_000_000, size: 2 }) },
      { kind: 'entry', path: 'd/y2038', meta: meta('file', { mtime: 2 ** 32 + 5 }) },
      { kind: 'entry', path: 'd/old', meta: meta('file', { mtime: -86_400 }) },
      { kind: 'entry', path: `d/${'x'.repeat(200)}`, meta: meta('symlink', { mode: fullMode('symlink', 0o777), linkname: `/${'t'.repeat(150)}` }) },
      { kind: 'entry', path: 'd/日本語 ✓', meta: meta('symlink', { mode: fullMode('symlink', 0o777), linkname: 'ünïcødé' }) },
      { kind: 'entry', path: 'd/tty', meta: meta('char', { devmajor: 136, devminor: 300 }) },
      { kind: 'entry', path: 'd/sda', meta: meta('block', { devmajor: 8, devminor: 1 }) },
      { kind: 'entry', path: 'd/fifo', meta: meta('fifo') },
      { kind: 'entry', path: 'd/hard', meta: meta('hardlink', { linkname: 'd/secret', mode: fullMode('file', 0) }) },
      { kind: 'whiteout', path: 'd/gone' },
      { kind: 'opaque', path: 'd' },
    ];
    expect(await roundTrip(changes)).toEqual(changes);
  });
});
