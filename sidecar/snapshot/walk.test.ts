import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceNumbers, floorSeconds, walk, walkAll } from './walk.ts';

describe('walk', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'runbox-walk-'));
    mkdirSync(join(root, 'etc/sub'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'x');
    writeFileSync(join(root, 'etc/hosts'), 'mounted');
    mkdirSync(join(root, 'proc/1'), { recursive: true });
    writeFileSync(join(root, 'proc/1/status'), 's');
    symlinkSync('/etc', join(root, 'etc-link'));
    symlinkSync('/', join(root, 'etc/sub/escape'));
    writeFileSync(join(root, 'etc/sub/a'), 'aa');
    linkSync(join(root, 'etc/sub/a'), join(root, 'etc/sub/b'));
    chmodSync(join(root, 'etc/passwd'), 0o4711);
    utimesSync(join(root, 'etc/passwd'), 1_600_000_000.9, 1_600_000_000.9);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('lists parents before children, skips mount points and never follows symlinks', async () => {
    const { entries, problems } = await walkAll(root, { skip: ['proc', 'etc/hosts'] });
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.path)).toEqual(['etc', 'etc-link', 'etc/passwd', 'etc/sub', 'etc/sub/a', 'etc/sub/b', 'etc/sub/escape']);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('etc-link')).toMatchObject({ type: 'symlink', linkname: '/etc', size: 0 });
    expect(byPath.get('etc/passwd')).toMatchObject({ type: 'file', mode: 0o104711, size: 1, mtime: 1_600_000_000, nlink: 1 });
    const [a, b] = [byPath.get('etc/sub/a'), byPath.get('etc/sub/b')];
    expect(a?.nlink).toBe(2);
    expect([a?.dev, a?.ino]).toEqual([b?.dev, b?.ino]);
  });

  it('yields batches and lets the event loop run between them', async () => {
    for (let i = 0; i < 50; i++) writeFileSync(join(root, `f${i}`), '');
    let turns = 0;
    const sizes: number[] = [];
    for await (const batch of walk(root, { batchSize: 10 })) {
      sizes.push(batch.entries.length);
      setImmediate(() => turns++);
    }
    expect(sizes.length).toBeGreaterThan(1);
    expect(turns).toBeGreaterThan(0);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(61); // 50 files + the 11 of the fixture
  });

  it('takes a directory that vanished for gone, not for a problem', async () => {
    rmSync(join(root, 'etc'), { recursive: true });
    const { entries, problems } = await walkAll(root, { skip: ['proc'] });
    expect(entries.map((e) => e.path)).toEqual(['etc-link']);
    expect(problems).toEqual([]);
  });

  it('rounds times down to whole seconds, also before 1970, and decodes device numbers', () => {
    expect(floorSeconds(1_500_000_000n)).toBe(1);
    expect(floorSeconds(-1_500_000_000n)).toBe(-2);
    expect(floorSeconds(-2_000_000_000n)).toBe(-2);
    expect(deviceNumbers(0x0103n)).toEqual({ devmajor: 1, devminor: 3 });
    expect(deviceNumbers(0x10882cn)).toEqual({ devmajor: 136, devminor: 300 });
  });
});
