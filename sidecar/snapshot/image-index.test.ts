import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fullMode, type EntryType, type FileMeta } from './entries.ts';
import { applyChanges, buildIndex } from './image-index.ts';
import { decodeIndex, encodeIndex, loadIndex, saveIndex } from './index-file.ts';
import { writeLayer, type LayerRecord } from './layer.ts';

const meta = (type: EntryType, extra: Partial<FileMeta> = {}): FileMeta => ({
  type, mode: fullMode(type, 0o755), uid: 0, gid: 0, size: 0, mtime: 1, linkname: '', devmajor: 0, devminor: 0, ...extra,
});
const entry = (path: string, type: EntryType = 'dir', extra: Partial<FileMeta> = {}) => ({ kind: 'entry' as const, path, meta: meta(type, extra) });

async function layer(records: LayerRecord[], gzip = true): Promise<PassThrough> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
  await writeLayer(records, out);
  const bytes = gzip ? Buffer.concat(chunks) : (await import('node:zlib')).gunzipSync(Buffer.concat(chunks));
  const s = new PassThrough();
  s.end(bytes);
  return s;
}

describe('image index', () => {
  it('applies whiteouts and opaque markers to lower layers only, in order, from gzip or plain tars', async () => {
    const index = await buildIndex([
      await layer([entry('a'), entry('a/x', 'file', { size: 0 }), entry('a/y'), entry('a/y/z', 'file'), entry('b'), entry('b/old', 'file')]),
      await layer(
        [entry('a'), { kind: 'whiteout', path: 'a/y' }, entry('b'), { kind: 'opaque', path: 'b' }, entry('b/new', 'file'), entry('c', 'symlink', { linkname: '/a/x' })],
        false,
      ),
    ]);
    expect([...index.keys()].sort()).toEqual(['a', 'a/x', 'b', 'b/new', 'c']);
    expect(index.get('c')?.linkname).toBe('/a/x');
  });

  it('lets a whiteout and a new entry of the same path share a layer; a file over a directory drops its children', () => {
    const index = new Map<string, FileMeta>([['d', meta('dir')], ['d/k', meta('file')], ['e', meta('dir')], ['e/k', meta('file')]]);
    applyChanges(index, [{ kind: 'whiteout', path: 'd' }, entry('d', 'file'), entry('e', 'symlink', { linkname: 'x' })]);
    expect([...index].sort()).toEqual([['d', meta('file')], ['e', meta('symlink', { linkname: 'x' })]]);
  });

  it('gives a hardlink its target metadata', () => {
    const index = new Map<string, FileMeta>();
    applyChanges(index, [entry('f', 'file', { size: 9, mtime: 5 }), entry('g', 'hardlink', { linkname: 'f' })]);
    expect(index.get('g')).toEqual({ ...meta('file', { size: 9, mtime: 5 }), type: 'hardlink', linkname: 'f' });
  });

  it('round-trips 50k entries through its file quickly', async () => {
    const index = new Map<string, FileMeta>();
    for (let i = 0; i < 50_000; i++) index.set(`usr/share/pkg${i % 700}/file-${i}.txt`, meta('file', { size: i, mtime: 1_700_000_000 + i, uid: i % 3 }));
    index.set('dev/null', meta('char', { devmajor: 1, devminor: 3 }));
    index.set('bin/sh', meta('symlink', { linkname: 'dash' }));
    const started = performance.now();
    const bytes = encodeIndex(index);
    const back = decodeIndex(bytes);
    const elapsed = performance.now() - started;
    expect(back).toEqual(index);
    expect(elapsed).toBeLessThan(2000);
    const dir = mkdtempSync(join(tmpdir(), 'runbox-index-'));
    try {
      await saveIndex(join(dir, 'index'), index);
      expect(await loadIndex(join(dir, 'index'))).toEqual(index);
      expect(await loadIndex(join(dir, 'missing'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
