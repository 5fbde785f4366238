import { appendFile, chmod, lutimes, mkdir, readFile, readlink, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pack, unpack } from './archive.ts';
import { allPaths, craftTar, listTree, streamOf, tempDir } from './archive-test-util.ts';
import type { Entry } from './types.ts';

const T0 = 1_700_000_000_123; // ms, not a whole second

/** A tree with every kind of entry the sync carries, with distinct modes and ms mtimes. */
async function buildTree(root: string): Promise<void> {
  const files: [string, string | Buffer, number][] = [
    ['f600', 'secret', 0o600],
    ['f640', 'group-readable', 0o640],
    ['x755', '#!/bin/sh\necho hi\n', 0o755],
    ['setuid', 'suid', 0o4755],
    ['none', 'no permissions at all', 0o000],
    ['empty', '', 0o644],
    ['sub/deeper/file', 'deep', 0o644],
    ['üñíçødé/日本語 ✓.txt', 'unicode', 0o644],
    [`long/${'n'.repeat(200)}`, '200-character name', 0o644],
    [`${'d'.repeat(120)}/${'e'.repeat(120)}/f`, 'long path', 0o644],
    ['binary', Buffer.from([0, 1, 2, 255, 254, 0]), 0o644],
  ];
  let i = 0;
  const stamp = async (p: string) => {
    const t = new Date(T0 + 1001 * i++);
    await lutimes(path.join(root, p), t, t);
  };
  for (const [p, data, mode] of files) {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), data);
    await chmod(path.join(root, p), mode);
    await stamp(p);
  }
  await mkdir(path.join(root, 'empty-dir'));
  await mkdir(path.join(root, 'private-dir'), { mode: 0o700 });
  await chmod(path.join(root, 'private-dir'), 0o750);
  await symlink('sub/deeper/file', path.join(root, 'rel-link'));
  await symlink('/etc/hostname', path.join(root, 'abs-link'));
  await symlink('../nowhere/at/all', path.join(root, 'sub', 'dangling'));
  for (const p of ['rel-link', 'abs-link', 'sub/dangling']) await stamp(p);
  // Directories last, deepest first, so writing their children does not move their mtimes.
  for (const p of ['sub/deeper', 'sub', 'empty-dir', 'private-dir', 'long', 'üñíçødé']) await stamp(p);
}

async function roundTrip(src: string, dst: string, entries: Entry[]) {
  const stream = pack(src, entries);
  const result = await unpack(dst, stream);
  return { ...result, skipped: stream.skipped };
}

describe('pack + unpack round trip', () => {
  it('keeps types, contents, modes, ms mtimes, link targets, empty dirs, long and unicode names', async () => {
    const src = await tempDir();
    const dst = await tempDir();
    await buildTree(src);
    const entries = await listTree(src);
    expect(entries.filter((e) => e.mtimeMs % 1000 !== 0).length).toBeGreaterThan(15);

    const got = await roundTrip(src, dst, entries);

    expect(got.skipped).toEqual([]);
    expect(got.refused).toEqual([]);
    expect(await listTree(dst)).toEqual(entries);
    expect([...got.written].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(entries);
    for (const e of entries.filter((x) => x.type === 'file')) {
      expect(await readFile(path.join(dst, e.path))).toEqual(await readFile(path.join(src, e.path)));
    }
    expect(await readlink(path.join(dst, 'abs-link'))).toBe('/etc/hostname');
    expect(await readlink(path.join(dst, 'sub/dangling'))).toBe('../nowhere/at/all');
  });

  it('calls onEntry once per written entry', async () => {
    const src = await tempDir();
    await buildTree(src);
    const entries = await listTree(src);
    const seen: string[] = [];
    await unpack(await tempDir(), pack(src, entries), { onEntry: (e) => seen.push(e.path) });
    expect(seen.sort()).toEqual(entries.map((e) => e.path).sort());
  });

  it('sends only the listed entries, into a root it creates', async () => {
    const src = await tempDir();
    const dst = path.join(await tempDir(), 'not', 'yet');
    await buildTree(src);
    const entries = (await listTree(src)).filter((e) => e.path.startsWith('sub/'));
    await roundTrip(src, dst, entries);
    expect(await allPaths(dst)).toEqual(['sub', 'sub/dangling', 'sub/deeper', 'sub/deeper/file']);
  });

  it('replaces an existing file with a link and a link with a file, without writing through the link', async () => {
    const src = await tempDir();
    const dst = await tempDir();
    const outside = path.join(await tempDir(), 'target');
    await writeFile(outside, 'outside, untouched');
    await writeFile(path.join(src, 'was-link'), 'now a file');
    await symlink('elsewhere', path.join(src, 'was-file'));
    await symlink(outside, path.join(dst, 'was-link'));
    await writeFile(path.join(dst, 'was-file'), 'old');

    await roundTrip(src, dst, await listTree(src));

    expect(await readFile(path.join(dst, 'was-link'), 'utf8')).toBe('now a file');
    expect(await readlink(path.join(dst, 'was-file'))).toBe('elsewhere');
    expect(await readFile(outside, 'utf8')).toBe('outside, untouched');
  });
});

describe('pack skips what changed', () => {
  it('skips a file that vanished or changed since it was listed, and the rest still arrives', async () => {
    const src = await tempDir();
    const dst = await tempDir();
    await writeFile(path.join(src, 'a'), 'aaa');
    await writeFile(path.join(src, 'grew'), 'short');
    await writeFile(path.join(src, 'z'), 'zzz');
    const entries = await listTree(src);
    const ghost: Entry = { path: 'ghost', type: 'file', size: 3, mode: 0o644, mtimeMs: T0 };
    await appendFile(path.join(src, 'grew'), ' and longer');

    const got = await roundTrip(src, dst, [ghost, ...entries]);

    expect(got.skipped.map((s) => s.path)).toEqual(['ghost', 'grew']);
    expect(got.skipped[0]?.why).toBe('vanished');
    expect(got.skipped[1]?.why).toMatch(/^changed since it was listed \(size 5 -> 16/);
    expect(await allPaths(dst)).toEqual(['a', 'z']);
  });

  it('skips an entry whose type changed, and refuses unsafe or symlinked paths asked of it', async () => {
    const src = await tempDir();
    const outside = await tempDir();
    await writeFile(path.join(outside, 'secret'), 'outside');
    await symlink(outside, path.join(src, 'link'));
    await writeFile(path.join(src, 'f'), 'x');
    const [f] = await listTree(src).then((l) => l.filter((e) => e.path === 'f'));
    const asked: Entry[] = [
      { path: '../etc/passwd', type: 'file', size: 1, mode: 0o644, mtimeMs: T0 },
      { path: 'link/secret', type: 'file', size: 7, mode: 0o644, mtimeMs: T0 },
      { path: 'link', type: 'file', size: 7, mode: 0o644, mtimeMs: T0 },
      { ...(f as Entry), type: 'dir' },
    ];
    const stream = pack(src, asked);
    const got = await unpack(await tempDir(), stream);
    expect(got.written).toEqual([]);
    expect(stream.skipped).toEqual([
      { path: '../etc/passwd', why: 'not a safe relative path' },
      { path: 'link/secret', why: '"link" is a symbolic link' },
      { path: 'link', why: 'cannot read it (ELOOP)' },
      { path: 'f', why: 'no longer a directory' },
    ]);
  });

  it('discards a file that shrank while being sent; the stream stays valid and the old copy stays', async () => {
    const src = await tempDir();
    const dst = await tempDir();
    const size = 8 * 1024 * 1024;
    await writeFile(path.join(src, 'big'), Buffer.alloc(size, 7));
    await writeFile(path.join(src, 'zz-after'), 'after');
    await writeFile(path.join(dst, 'big'), 'old copy');
    const entries = await listTree(src);

    const stream = pack(src, entries);
    // Cut the file down as soon as its data starts to flow: backpressure keeps the reader near the start.
    let cut = false;
    const tap = new PassThrough({
      transform(chunk: Buffer, _enc, cb) {
        if (!cut) {
          cut = true;
          truncate(path.join(src, 'big'), 1000).then(() => cb(null, chunk), cb);
        } else cb(null, chunk);
      },
    });
    const got = await unpack(dst, stream.pipe(tap));

    expect(stream.skipped).toHaveLength(1);
    expect(stream.skipped[0]).toMatchObject({ path: 'big', why: expect.stringMatching(/^shrank while being sent/) });
    expect(got.refused).toEqual([{ path: 'big', why: 'the sender saw it change while sending it' }]);
    expect(got.written.map((e) => e.path)).toEqual(['zz-after']);
    expect(await readFile(path.join(dst, 'big'), 'utf8')).toBe('old copy');
    expect(await allPaths(dst)).toEqual(['big', 'zz-after']);
  });
});

describe('unpack mtimes', () => {
  it('restores whole seconds from the tar header when the ms PAX key is missing or malformed', async () => {
    const dst = await tempDir();
    const mtime = new Date(T0);
    const tar = await craftTar([
      { header: { name: 'plain', type: 'file', mode: 0o644, mtime }, data: 'x' },
      { header: { name: 'bad-pax', type: 'file', mode: 0o644, mtime, pax: { 'runbox.mtimems': '12e3' } }, data: 'x' },
      { header: { name: 'ms', type: 'file', mode: 0o644, mtime, pax: { 'runbox.mtimems': String(T0) } }, data: 'x' },
    ]);
    await unpack(dst, streamOf(tar));
    const byPath = new Map((await listTree(dst)).map((e) => [e.path, e.mtimeMs]));
    expect(byPath.get('plain')).toBe(Math.floor(T0 / 1000) * 1000);
    expect(byPath.get('bad-pax')).toBe(Math.floor(T0 / 1000) * 1000);
    expect(byPath.get('ms')).toBe(T0);
  });
});
