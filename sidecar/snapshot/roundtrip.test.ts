import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, createReadStream, createWriteStream, linkSync, lutimesSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffTree } from './diff.ts';
import { diskRecords } from './disk-source.ts';
import { applyChanges, buildIndex, type ImageIndex } from './image-index.ts';
import { writeLayer } from './layer.ts';
import { describeTree, extractLayer } from './tree-fixture.ts';
import { walkAll } from './walk.ts';

const T0 = 1_600_000_000;
const LONG_DIR = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`;
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(90)}.txt`;
const UNICODE = 'café/naïve ✓ 文字.txt';
const MOUNTS = ['data', 'etc/hosts', 'proc'];

function write(root: string, path: string, content: string, opts: { mode?: number; uid?: number; gid?: number; mtime?: number } = {}) {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content);
  if (opts.uid !== undefined) chownSync(full, opts.uid, opts.gid ?? opts.uid);
  chmodSync(full, opts.mode ?? 0o644);
  utimesSync(full, opts.mtime ?? T0, opts.mtime ?? T0);
}

/** Fixes every directory's mtime, deepest first (children moved them while the tree was built). */
function settleDirs(root: string, dir = '') {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) if (e.isDirectory()) settleDirs(root, join(dir, e.name));
  if (dir !== '') utimesSync(join(root, dir), T0 + 7, T0 + 7);
}

function makeBase(root: string) {
  write(root, 'bin/tool', '#!/bin/sh\necho tool\n', { mode: 0o4755 });
  symlinkSync('tool', join(root, 'bin/sh'));
  lutimesSync(join(root, 'bin/sh'), T0 + 1, T0 + 1);
  write(root, 'etc/passwd', 'root:x:0:0::/root:/bin/sh\n');
  write(root, 'etc/shadow', 'root:*:1::::::\n', { mode: 0o000 });
  write(root, 'etc/app/conf', 'a=1\n', { uid: 1000, gid: 1000, mode: 0o640 });
  write(root, 'etc/motd', 'hello\n');
  write(root, 'etc/hosts', '127.0.0.1 localhost\n');
  symlinkSync('/usr/share/zoneinfo/UTC', join(root, 'etc/localtime'));
  write(root, 'usr/lib/libx.so', 'ELF...', { mode: 0o755 });
  linkSync(join(root, 'usr/lib/libx.so'), join(root, 'usr/lib/libx.so.1'));
  write(root, 'opt/app/a', 'a');
  write(root, 'opt/app/b', 'b');
  write(root, 'opt/app/sub/c', 'c');
  write(root, 'srv/old/child', 'old child');
  write(root, 'var/cache/x', 'cache');
  write(root, 'var/lib/big-uid', 'owned by a userns id', { uid: 3_000_000, gid: 3_000_001 });
  write(root, 'var/lib/future', 'after 2038', { mtime: 2 ** 31 + 1000 });
  write(root, 'share/doc/gone/readme', 'deleted later');
  write(root, 'share/doc/kept', 'kept');
  write(root, LONG_FILE, 'long name');
  write(root, UNICODE, 'unicode name');
  write(root, 'data/readme', 'on the volume');
  write(root, 'proc/1/status', 'State: S');
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  execFileSync('mkfifo', [join(root, 'run-fifo')]);
  execFileSync('mknod', [join(root, 'null-dev'), 'c', '1', '3']);
  for (const p of ['run-fifo', 'null-dev']) utimesSync(join(root, p), T0, T0);
  settleDirs(root);
}

function mutate(root: string) {
  const at = { mtime: T0 + 100 };
  write(root, 'new/dir/file.txt', 'added', at);
  write(root, 'etc/passwd', 'root:x:0:0::/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n', at);
  chmodSync(join(root, 'bin/tool'), 0o700);
  chownSync(join(root, 'etc/app/conf'), 2000, 2001);
  utimesSync(join(root, 'var/cache/x'), T0 + 50, T0 + 50); // mtime only
  rmSync(join(root, 'bin/sh'));
  symlinkSync('/bin/busybox', join(root, 'bin/sh')); // retargeted
  symlinkSync('../etc/passwd', join(root, 'bin/link-to-passwd'));
  write(root, 'new/h1', 'one inode', at);
  linkSync(join(root, 'new/h1'), join(root, 'new/h2'));
  linkSync(join(root, 'usr/lib/libx.so'), join(root, 'usr/lib/libx.so.2')); // new name for a base inode
  rmSync(join(root, 'share/doc/gone'), { recursive: true }); // a whole directory
  rmSync(join(root, 'etc/shadow'));
  rmSync(join(root, 'opt/app'), { recursive: true }); // deleted and recreated
  write(root, 'opt/app/new', 'fresh', at);
  rmSync(join(root, 'srv/old'), { recursive: true }); // a directory becomes a file
  write(root, 'srv/old', 'now a file', at);
  rmSync(join(root, 'etc/motd')); // a file becomes a directory
  write(root, 'etc/motd/part', 'motd part', at);
  chmodSync(join(root, 'usr/lib'), 0o700);
  write(root, `${LONG_DIR}/${'g'.repeat(120)}`, 'another long one', at);
  write(root, 'café/ünïcødé ✓ 2.txt', 'more unicode', at);
  // Behind mounts: the walk must not see these, and the image must keep what it had there.
  write(root, 'etc/hosts', '10.0.0.7 myrb\n', at);
  rmSync(join(root, 'proc/1'), { recursive: true });
  write(root, 'data/readme', 'changed on the volume', at);
}

async function snapshot(root: string, index: ImageIndex, skip: string[], file: string) {
  const walked = await walkAll(root, { skip });
  const changes = diffTree(index, walked.entries, [...skip, ...walked.problems.map((p) => p.path)]);
  const result = await writeLayer(diskRecords(root, changes.records), createWriteStream(file));
  return { walked, changes, result };
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe('snapshot round trip (walk -> diff -> layer -> apply)', () => {
  let work: string;
  const dirs = { original: '', running: '', applied: '' };
  const files = { base: '', snap: '' };
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'runbox-snap-'));
    for (const name of Object.keys(dirs) as Array<keyof typeof dirs>) mkdirSync((dirs[name] = join(work, name)));
    files.base = join(work, 'base.tar.gz');
    files.snap = join(work, 'snap.tar.gz');
    makeBase(dirs.original);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes a base layer that extracts to exactly the original tree', async () => {
    const { result } = await snapshot(dirs.original, new Map(), [], files.base);
    await extractLayer(createReadStream(files.base), dirs.running);
    expect(describeTree(dirs.running)).toEqual(describeTree(dirs.original));
    const blob = readFileSync(files.base);
    expect(result.digest).toBe(sha256(blob));
    expect(result.size).toBe(blob.length);
    expect(result.diffId).toBe(sha256(gunzipSync(blob)));
  });

  it('captures every kind of change, and applying it over the base gives the mutated tree', async () => {
    const index = await buildIndex([createReadStream(files.base)]);
    mutate(dirs.running);
    const { changes, result } = await snapshot(dirs.running, index, MOUNTS, files.snap);
    expect(changes.deleted).toEqual(['etc/shadow', 'share/doc/gone']);
    // srv lost its only child (a directory replaced by a file): the same as recreated.
    expect(changes.recreated).toEqual(['opt/app', 'srv']);
    expect(changes.records.map((r) => r.path)).not.toContain('etc/hosts');
    for (const path of ['proc', 'data']) expect(changes.records.some((r) => r.path.startsWith(path))).toBe(false);

    await extractLayer(createReadStream(files.base), dirs.applied);
    await extractLayer(createReadStream(files.snap), dirs.applied);
    expect(describeTree(dirs.applied, MOUNTS)).toEqual(describeTree(dirs.running, MOUNTS));
    // What the mounts hid is still the base's.
    expect(readFileSync(join(dirs.applied, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n');
    expect(readFileSync(join(dirs.applied, 'proc/1/status'), 'utf8')).toBe('State: S');
    expect(readFileSync(join(dirs.applied, 'data/readme'), 'utf8')).toBe('on the volume');

    const blob = readFileSync(files.snap);
    expect(result.digest).toBe(sha256(blob));
    expect(result.diffId).toBe(sha256(gunzipSync(blob)));
    expect(result.entries).toBe(changes.records.length);
  });

  it('brings the index up to date from the written changes: the next diff is empty', async () => {
    const index = await buildIndex([createReadStream(files.base)]);
    const { result } = await snapshot(dirs.running, index, MOUNTS, join(work, 'again.tar.gz'));
    applyChanges(index, result.written);
    expect(index).toEqual(await buildIndex([createReadStream(files.base), createReadStream(files.snap)]));
    const walked = await walkAll(dirs.running, { skip: MOUNTS });
    expect(diffTree(index, walked.entries, MOUNTS).records).toEqual([]);
  });

  it('produces layers GNU tar reads: PAX names, whiteouts, hardlinks, devices', () => {
    // Names as stored, whatever the locale (in a C locale GNU tar escapes non-ASCII bytes).
    const tarList = (file: string) => execFileSync('tar', ['--quoting-style=literal', '-tvzf', file], { encoding: 'utf8' });
    const listing = tarList(files.snap);
    expect(listing).toContain('etc/.wh.shadow');
    expect(listing).toContain('opt/app/.wh..wh..opq');
    expect(listing).toContain('café/ünïcødé ✓ 2.txt');
    expect(listing).toMatch(/new\/h2 link to new\/h1/);
    expect(listing).toContain(`${LONG_DIR}/${'g'.repeat(120)}`);
    const base = tarList(files.base);
    expect(base).toMatch(/^crw-r--r-- 0\/0 +1,3 .* null-dev$/m);
    expect(base).toMatch(/^prw-r--r-- .* run-fifo$/m);
    expect(base).toMatch(/^-rwsr-xr-x .* bin\/tool$/m);
    expect(base).toMatch(/^drwxrwxrwt .* tmp\/$/m);
    expect(base).toMatch(/^---------- .* etc\/shadow$/m);
    expect(base).toMatch(/3000000\/3000001 .* var\/lib\/big-uid$/m);
    expect(base).toMatch(/usr\/lib\/libx.so.1 link to usr\/lib\/libx.so$/m);
    expect(base).toContain(UNICODE);
    expect(base).toContain(LONG_FILE);
  });
});
