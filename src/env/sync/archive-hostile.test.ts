import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RunboxError } from '../../errors.ts';
import { removeEntries, unpack } from './archive.ts';
import { allPaths, craftTar, streamOf, tempDir, type Crafted } from './archive-test-util.ts';

const file = (name: string, data: string): Crafted => ({ header: { name, type: 'file', mode: 0o644 }, data });

/** root inside a temp dir, with a sibling "outside" dir that must stay empty. */
async function arena() {
  const base = await tempDir();
  const root = path.join(base, 'root');
  const outside = path.join(base, `outside-${Math.random().toString(36).slice(2)}`);
  await mkdir(root);
  await mkdir(outside);
  return { base, root, outside };
}

describe('unpack refuses hostile archives', () => {
  it('writes nothing outside root, reports every refusal, and still writes the good entries after them', async () => {
    const { base, root, outside } = await arena();
    const tar = await craftTar([
      file('../evil', 'x'),
      file(`${outside}/absolute-evil`, 'x'),
      file('a/../../evil2', 'x'),
      file('./../evil3', 'x'),
      file('..\\evil4', 'x'),
      { header: { name: 'link', type: 'symlink', linkname: outside } },
      file('link/evil', 'x'),
      file('link/deeper/evil', 'x'),
      { header: { name: 'link/newdir', type: 'directory', mode: 0o755 } },
      { header: { name: 'link/l2', type: 'symlink', linkname: '/etc' } },
      { header: { name: 'hard', type: 'link', linkname: 'good.txt' } },
      { header: { name: 'hard-passwd', type: 'link', linkname: '/etc/passwd' } },
      { header: { name: 'fifo', type: 'fifo', mode: 0o644 } },
      { header: { name: 'null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 } },
      { header: { name: 'disk', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0 } },
      file('good.txt', 'good content'),
      { header: { name: 'good-dir', type: 'directory', mode: 0o755 } },
    ]);

    const got = await unpack(root, streamOf(tar));

    expect(await readdir(outside)).toEqual([]);
    expect((await readdir(base)).sort()).toEqual([path.basename(outside), 'root'].sort());
    expect(await allPaths(root)).toEqual(['good-dir', 'good.txt', 'link']);
    expect(await readFile(path.join(root, 'good.txt'), 'utf8')).toBe('good content');
    expect(await readlink(path.join(root, 'link'))).toBe(outside);
    expect(got.written.map((e) => e.path)).toEqual(['link', 'good.txt', 'good-dir']);
    expect(got.refused).toEqual([
      { path: '../evil', why: expect.stringMatching(/^not a safe relative path/) },
      { path: `${outside}/absolute-evil`, why: expect.stringMatching(/^not a safe relative path/) },
      { path: 'a/../../evil2', why: expect.stringMatching(/^not a safe relative path/) },
      { path: './../evil3', why: expect.stringMatching(/^not a safe relative path/) },
      { path: '..\\evil4', why: expect.stringMatching(/^not a safe relative path/) },
      { path: 'link/evil', why: '"link" is a symbolic link' },
      { path: 'link/deeper/evil', why: '"link" is a symbolic link' },
      { path: 'link/newdir', why: '"link" is a symbolic link' },
      { path: 'link/l2', why: '"link" is a symbolic link' },
      { path: 'hard', why: 'hard links are not supported' },
      { path: 'hard-passwd', why: 'hard links are not supported' },
      { path: 'fifo', why: 'fifo entries are not supported' },
      { path: 'null', why: 'character-device entries are not supported' },
      { path: 'disk', why: 'block-device entries are not supported' },
    ]);
  });

  it('refuses to go through a symlink that was already on disk', async () => {
    const { root, outside } = await arena();
    await mkdir(path.join(root, 'real'));
    await symlink(outside, path.join(root, 'real', 'escape'));
    const got = await unpack(root, streamOf(await craftTar([file('real/escape/evil', 'x'), file('real/ok', 'ok')])));
    expect(await readdir(outside)).toEqual([]);
    expect(got.refused).toEqual([{ path: 'real/escape/evil', why: '"real/escape" is a symbolic link' }]);
    expect(await readFile(path.join(root, 'real', 'ok'), 'utf8')).toBe('ok');
  });

  it('with the list of entries asked for, refuses any other entry: nothing lands in an ignored folder or over a local-only file', async () => {
    const { root } = await arena();
    await mkdir(path.join(root, '.git', 'hooks'), { recursive: true });
    await writeFile(path.join(root, 'mine.txt'), 'my local edit');
    const expected = new Map([['a.txt', 'file' as const], ['d', 'dir' as const]]);
    const got = await unpack(
      root,
      streamOf(await craftTar([file('a.txt', 'asked'), file('.git/hooks/post-checkout', 'evil'), file('mine.txt', 'overwritten'), file('d', 'a file, not the dir asked for')])),
      { expected },
    );
    expect(got.refused).toEqual([
      { path: '.git/hooks/post-checkout', why: 'not asked for' },
      { path: 'mine.txt', why: 'not asked for' },
      { path: 'd', why: 'sent as a file, asked for a dir' },
    ]);
    expect(await readFile(path.join(root, 'a.txt'), 'utf8')).toBe('asked');
    expect(await readdir(path.join(root, '.git', 'hooks'))).toEqual([]);
    expect(await readFile(path.join(root, 'mine.txt'), 'utf8')).toBe('my local edit');
  });

  it('puts a file or link where a file or link was, a directory over a file, and refuses to overwrite a directory', async () => {
    const { root } = await arena();
    await mkdir(path.join(root, 'dir-stays'));
    await writeFile(path.join(root, 'dir-stays', 'child'), 'c');
    await mkdir(path.join(root, 'dir-too'));
    await writeFile(path.join(root, 'was-file'), 'f');
    const got = await unpack(
      root,
      streamOf(
        await craftTar([
          file('dir-stays', 'would replace a directory'),
          { header: { name: 'dir-too', type: 'symlink', linkname: 'x' } },
          { header: { name: 'was-file', type: 'directory', mode: 0o755 } },
        ]),
      ),
    );
    expect(got.refused).toEqual([
      { path: 'dir-stays', why: 'a directory is in the way' },
      { path: 'dir-too', why: 'a directory is in the way' },
    ]);
    expect((await lstat(path.join(root, 'was-file'))).isDirectory()).toBe(true);
    expect(await readFile(path.join(root, 'dir-stays', 'child'), 'utf8')).toBe('c');
  });

  it('drops a file followed by its discard marker, keeping the old copy, and reports a stray marker', async () => {
    const { root } = await arena();
    await writeFile(path.join(root, 'x'), 'old');
    const marker = (name: string): Crafted => ({
      header: { name, type: 'file', mode: 0o644, pax: { 'runbox.discard': '1' } },
      data: '',
    });
    const got = await unpack(root, streamOf(await craftTar([file('x', 'torn'), marker('x'), marker('y'), file('z', 'z')])));
    expect(await readFile(path.join(root, 'x'), 'utf8')).toBe('old');
    expect(got.refused).toEqual([
      { path: 'x', why: 'the sender saw it change while sending it' },
      { path: 'y', why: 'discard marker for a file not just sent' },
    ]);
    expect(await allPaths(root)).toEqual(['x', 'z']);
  });
});

describe('unpack of a stream that breaks off', () => {
  async function setup() {
    const { root } = await arena();
    await writeFile(path.join(root, 'big.bin'), 'OLD');
    const tar = await craftTar([file('first.txt', '1'), file('big.bin', 'N'.repeat(1024 * 1024))]);
    return { root, tar };
  }

  it('cut mid-file: rejects, keeps the old file, leaves no temp files', async () => {
    const { root, tar } = await setup();
    const err = await unpack(root, streamOf(tar.subarray(0, tar.length / 2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunboxError);
    expect(String((err as Error).message)).toMatch(/could not unpack .*Unexpected end of data/);
    expect(await readFile(path.join(root, 'big.bin'), 'utf8')).toBe('OLD');
    expect(await allPaths(root)).toEqual(['big.bin', 'first.txt']);
  });

  it('source errors mid-file: rejects with it as the cause, same guarantees', async () => {
    const { root, tar } = await setup();
    const source = new Readable({ read() {} });
    source.push(tar.subarray(0, 300_000));
    setImmediate(() => source.destroy(new Error('connection lost')));
    const err = await unpack(root, source).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunboxError);
    expect((err as Error).cause).toMatchObject({ message: 'connection lost' });
    expect(await readFile(path.join(root, 'big.bin'), 'utf8')).toBe('OLD');
    // first.txt is in place only if big.bin had started (which commits it) before the error.
    const left = await allPaths(root);
    expect(left.filter((p) => p !== 'first.txt')).toEqual(['big.bin']);
    if (left.includes('first.txt')) expect(await readFile(path.join(root, 'first.txt'), 'utf8')).toBe('1');
  });

  it('cut right after a complete file: that file is not committed either (it could still be discarded)', async () => {
    const { root, tar } = await setup();
    const end = tar.length - 1024; // drop only the two zero blocks that end a tar...
    const cut = tar.subarray(0, end - 1); // ...and one byte of big.bin's padding
    await expect(unpack(root, streamOf(cut))).rejects.toBeInstanceOf(RunboxError);
    expect(await readFile(path.join(root, 'big.bin'), 'utf8')).toBe('OLD');
    expect(await allPaths(root)).toEqual(['big.bin', 'first.txt']);
  });
});

describe('removeEntries', () => {
  it('removes files, links and empty dirs children first; refuses unsafe paths, paths under links, non-empty dirs', async () => {
    const { base, root, outside } = await arena();
    await writeFile(path.join(base, 'x'), 'sibling of root');
    await writeFile(path.join(outside, 'victim'), 'v');
    await mkdir(path.join(root, 'd'));
    await writeFile(path.join(root, 'd', 'f'), 'f');
    await mkdir(path.join(root, 'empty'));
    await mkdir(path.join(root, 'full'));
    await writeFile(path.join(root, 'full', 'keep'), 'k');
    await symlink(outside, path.join(root, 'link'));
    await symlink(path.join(outside, 'victim'), path.join(root, 'file-link'));

    const got = await removeEntries(root, ['d', '../x', 'link/victim', 'empty', 'full', 'd/f', 'link', 'file-link', 'gone', `${base}/x`]);

    expect(got.removed.sort()).toEqual(['d', 'd/f', 'empty', 'file-link', 'gone', 'link']);
    expect(got.refused.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: '../x', why: expect.stringMatching(/^not a safe relative path/) },
      { path: `${base}/x`, why: expect.stringMatching(/^not a safe relative path/) },
      { path: 'full', why: 'directory not empty' },
      { path: 'link/victim', why: '"link" is a symbolic link' },
    ]);
    expect(await readFile(path.join(base, 'x'), 'utf8')).toBe('sibling of root');
    expect(await readFile(path.join(outside, 'victim'), 'utf8')).toBe('v');
    expect(await allPaths(root)).toEqual(['full', 'full/keep']);
  });
});
