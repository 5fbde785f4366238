import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ignoreRules } from './ignore-rules.ts';
import { manifestFromJson, manifestToJson, readManifest, sameContent, STATE_DIR } from './manifest.ts';
import type { Entry, Manifest } from './types.ts';

// readManifest on real temporary folders. node:fs/promises is wrapped to
// count the calls in flight and to fail chosen ones; node:fs's metadata
// calls (lstatSync, readdirSync, readlinkSync) to fail chosen ones.

const probe = vi.hoisted(() => ({
  counting: false,
  inFlight: 0,
  max: 0,
  opened: 0,
  /** path -> errno code to fail lstat/readdir with. */
  fail: new Map<string, string>(),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const enter = () => {
    if (!probe.counting) return () => {};
    probe.inFlight++;
    probe.max = Math.max(probe.max, probe.inFlight);
    return () => void probe.inFlight--;
  };
  const failing = (p: unknown) => {
    const code = probe.fail.get(String(p));
    if (code) throw Object.assign(new Error(`${code}: injected, '${String(p)}'`), { code, path: String(p) });
  };
  const wrap = <F extends (...a: never[]) => Promise<unknown>>(f: F) =>
    (async (...args: Parameters<F>) => {
      const leave = enter();
      try {
        failing(args[0]);
        return await f(...args);
      } finally {
        leave();
      }
    }) as unknown as F;
  const open = async (...args: Parameters<typeof real.open>) => {
    const leave = enter();
    const fh = await real.open(...args).catch((err: unknown) => {
      leave();
      throw err;
    });
    if (probe.counting) probe.opened++;
    const close = fh.close.bind(fh);
    let closed = false; // Node's read stream closes its FileHandle again after us
    fh.close = async () => {
      if (!closed) leave();
      closed = true;
      return close();
    };
    return fh;
  };
  const mocked = { ...real, lstat: wrap(real.lstat), readdir: wrap(real.readdir), readlink: wrap(real.readlink), open };
  return { ...mocked, default: mocked };
});

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const failing = <F extends (...a: never[]) => unknown>(f: F) =>
    ((...args: Parameters<F>) => {
      const code = probe.fail.get(String(args[0]));
      if (code) throw Object.assign(new Error(`${code}: injected, '${String(args[0])}'`), { code, path: String(args[0]) });
      return f(...args);
    }) as unknown as F;
  const mocked = { ...real, lstatSync: failing(real.lstatSync), readdirSync: failing(real.readdirSync), readlinkSync: failing(real.readlinkSync) };
  return { ...mocked, default: mocked };
});

const T = 1_700_000_000_000;
const nothing = () => false;
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'runbox-manifest-'));
  Object.assign(probe, { counting: false, inFlight: 0, max: 0, opened: 0 });
  probe.fail.clear();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` (path -> content) under root, creating folders, with mtime T unless given. */
async function put(files: Record<string, string>, mtimeMs = T) {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
    await utimes(abs, mtimeMs / 1000, mtimeMs / 1000);
  }
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const brief = (m: Manifest) => [...m.values()].map((e) => `${e.type} ${e.path}`).sort();

describe('readManifest', () => {
  it('leaves out half-written temp files, and sweeps away those whose writer is gone', async () => {
    const live = `.runbox-tmp-${process.pid}-0123456789abcdef`;
    const dead = '.runbox-tmp-2147483646-0123456789abcdef'; // no such pid
    await put({ 'a.txt': 'a', [`src/${live}`]: 'half', [`src/${dead}`]: 'half' }, Date.now());
    const m = await readManifest(root, { ignore: nothing });
    expect(brief(m)).toEqual(['dir src', 'file a.txt']);
    expect(existsSync(path.join(root, 'src', live))).toBe(true);
    expect(existsSync(path.join(root, 'src', dead))).toBe(false);
  });

  it('records files, dirs, empty dirs and symlinks, without the root or the state folder', async () => {
    await put({ 'a.txt': 'hello', 'src/main.ts': 'x', 'src/deep/er.ts': 'yy', [`${STATE_DIR}/base.json`]: '{}', [`src/${STATE_DIR}`]: 'kept' });
    await mkdir(path.join(root, 'empty'));
    await symlink('src', path.join(root, 'to-src')); // a link to a dir is not followed
    await symlink('nowhere', path.join(root, 'dangling'));
    const m = await readManifest(root, { ignore: nothing });
    expect(brief(m)).toEqual([
      'dir empty',
      'dir src',
      'dir src/deep',
      'file a.txt',
      `file src/${STATE_DIR}`,
      'file src/deep/er.ts',
      'file src/main.ts',
      'symlink dangling',
      'symlink to-src',
    ]);
    expect(m.get('to-src')).toMatchObject({ type: 'symlink', target: 'src', size: 0 });
    expect(m.get('dangling')?.target).toBe('nowhere');
    expect(m.get('src')).toMatchObject({ type: 'dir', size: 0 });
  });

  it('gives back the previous entry itself (its hash too) where the stat did not move, a new one where it did', async () => {
    await put({ 'same.txt': 'same', 'moved.txt': 'old', 'src/kept.ts': 'k' }, T);
    const first = await readManifest(root, { ignore: nothing });
    const previous = new Map([...first].map(([p, e]) => [p, e.type === 'file' ? { ...e, hash: sha(p) } : { ...e }]));
    await put({ 'moved.txt': 'new!' }, T + 5000);
    const again = await readManifest(root, { ignore: nothing, previous });
    expect(again.get('same.txt')).toBe(previous.get('same.txt'));
    expect(again.get('src')).toBe(previous.get('src'));
    expect(again.get('src/kept.ts')).toBe(previous.get('src/kept.ts'));
    expect(again.get('moved.txt')).toEqual({ path: 'moved.txt', type: 'file', size: 4, mode: previous.get('moved.txt')?.mode, mtimeMs: T + 5000 });
  });

  it('records size, permission bits and whole-millisecond mtime', async () => {
    await put({ 'run.sh': 'echo hi\n' }, T + 0.75);
    await chmod(path.join(root, 'run.sh'), 0o4755);
    const e = (await readManifest(root, { ignore: nothing })).get('run.sh');
    expect(e).toEqual({ path: 'run.sh', type: 'file', size: 8, mode: 0o4755, mtimeMs: T });
  });

  it('skips ignored paths and never looks inside an ignored dir', async () => {
    await put({ 'node_modules/x/index.js': 'x', 'keep.ts': 'k', 'debug.log': 'l', 'sub/node_modules/y.js': 'y', '.runboxignore': 'node_modules/\n*.log\n' });
    const asked: string[] = [];
    const rules = ignoreRules('node_modules/\n*.log\n');
    const m = await readManifest(root, {
      ignore: (p, isDir) => {
        asked.push(`${p}${isDir ? '/' : ''}`);
        return rules(p, isDir);
      },
    });
    expect(brief(m)).toEqual(['dir sub', 'file .runboxignore', 'file keep.ts']);
    expect(asked.filter((p) => p.includes('node_modules/'))).toEqual(['node_modules/', 'sub/node_modules/']);
  });

  it('skips what is not a file, dir or symlink (a FIFO)', async () => {
    await put({ a: 'a' });
    try {
      execFileSync('mkfifo', [path.join(root, 'pipe')]);
    } catch {
      return; // no mkfifo here: nothing to check
    }
    expect(brief(await readManifest(root, { ignore: nothing }))).toEqual(['file a']);
  });

  describe('hashing, only where size and mtime cannot decide', () => {
    const prev = (e: Partial<Entry> & { path: string }): Manifest =>
      new Map([[e.path, { type: 'file', size: 5, mode: 0o644, mtimeMs: T, ...e } as Entry]]);

    it.each([
      ['same size, other mtime: hashed', { path: 'f', mtimeMs: T - 1 }, true],
      ['same size and mtime: not hashed', { path: 'f' }, false],
      ['other size: not hashed (it changed)', { path: 'f', size: 6, mtimeMs: T - 1 }, false],
      ['was a dir: not hashed', { path: 'f', type: 'dir' as const, size: 5, mtimeMs: T - 1 }, false],
      ['no previous entry: not hashed', { path: 'other', mtimeMs: T - 1 }, false],
    ])('%s', async (_name, previous, hashed) => {
      await put({ f: 'hello' });
      const e = (await readManifest(root, { ignore: nothing, previous: prev(previous) })).get('f');
      expect(e?.hash).toBe(hashed ? sha('hello') : undefined);
    });

    it('a touched file whose previous entry has the same hash is the same content', async () => {
      await put({ f: 'hello' });
      const first = await readManifest(root, { ignore: nothing, previous: prev({ path: 'f', mtimeMs: T - 1 }) });
      await utimes(path.join(root, 'f'), (T + 5000) / 1000, (T + 5000) / 1000); // touch
      const second = await readManifest(root, { ignore: nothing, previous: first });
      expect(second.get('f')?.mtimeMs).toBe(T + 5000);
      expect(sameContent(first.get('f') as Entry, second.get('f') as Entry)).toBe(true);
      await put({ f: 'HELLO' }, T + 9000); // same size, other content
      const third = await readManifest(root, { ignore: nothing, previous: second });
      expect(third.get('f')?.hash).toBe(sha('HELLO'));
      expect(sameContent(second.get('f') as Entry, third.get('f') as Entry)).toBe(false);
    });

    it('streams a large file', async () => {
      const big = 'x'.repeat(3 * 1024 * 1024 + 7);
      await put({ big });
      const e = (await readManifest(root, { ignore: nothing, previous: prev({ path: 'big', size: big.length, mtimeMs: 1 }) })).get('big');
      expect(e?.hash).toBe(sha(big));
    });
  });

  it('keeps at most 32 calls or open files in flight on a tree of 10,000 files', async () => {
    const previous: Manifest = new Map();
    for (let d = 0; d < 50; d++) {
      await mkdir(path.join(root, `d${d}`, 'sub'), { recursive: true });
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const rel = `d${d}/${i % 2 ? 'sub/' : ''}f${i}`;
          previous.set(rel, { path: rel, type: 'file', size: 1, mode: 0o644, mtimeMs: 1, hash: sha('?') });
          return writeFile(path.join(root, rel), '!');
        }),
      );
    }
    probe.counting = true;
    const m = await readManifest(root, { ignore: nothing, previous }); // every file hashed
    probe.counting = false;
    expect(m.size).toBe(10_000 + 100);
    expect(probe.opened).toBe(10_000);
    expect(probe.max).toBeGreaterThan(1);
    expect(probe.max).toBeLessThanOrEqual(32);
    expect(probe.inFlight).toBe(0);
    expect(m.get('d7/sub/f9')?.hash).toBe(sha('!'));
  }, 60_000);

  it('leaves out an entry that vanishes while it is read', async () => {
    await put({ a: 'a', b: 'b' });
    probe.fail.set(path.join(root, 'b'), 'ENOENT');
    expect(brief(await readManifest(root, { ignore: nothing }))).toEqual(['file a']);
  });

  it('fails, naming the path, on a dir it may not list (leaving it out would read as a delete)', async () => {
    await put({ 'ok/a': 'a', 'locked/b': 'b', 'more/c': 'c' });
    probe.fail.set(path.join(root, 'locked'), 'EACCES');
    probe.counting = true;
    const err = await readManifest(root, { ignore: nothing }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RunboxError', message: `Cannot read ${path.join(root, 'locked')}` });
    expect((err as Error).cause).toMatchObject({ code: 'EACCES' });
    expect(probe.inFlight).toBe(0); // nothing still running after the rejection
  });

  it('fails when the root is missing or not a folder', async () => {
    await put({ f: 'x' });
    await expect(readManifest(path.join(root, 'nope'), { ignore: nothing })).rejects.toMatchObject({ name: 'RunboxError' });
    await expect(readManifest(path.join(root, 'f'), { ignore: nothing })).rejects.toThrow('is not a folder');
  });

  it('stops when the signal aborts', async () => {
    await put({ a: 'a' });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(readManifest(root, { ignore: nothing, signal: ac.signal })).rejects.toThrow('stop');
  });
});

describe('sameContent', () => {
  const f = (more: Partial<Entry> = {}): Entry => ({ path: 'p', type: 'file', size: 3, mode: 0o644, mtimeMs: T, ...more });
  const H = 'b'.repeat(64);
  it.each([
    ['same size and mtime', f(), f(), true],
    ['other mtime, no hashes', f(), f({ mtimeMs: T + 1 }), false],
    ['other mtime, one hash', f({ hash: H }), f({ mtimeMs: T + 1 }), false],
    ['other mtime, equal hashes', f({ hash: H }), f({ mtimeMs: T + 1, hash: H }), true],
    ['other mtime, different hashes', f({ hash: H }), f({ mtimeMs: T + 1, hash: 'c'.repeat(64) }), false],
    ['other size, equal hashes (stale hash)', f({ hash: H }), f({ size: 4, hash: H }), false],
    ['other mode only', f(), f({ mode: 0o755 }), true],
    ['file vs dir', f(), f({ type: 'dir', size: 0 }), false],
    ['dirs always', f({ type: 'dir', size: 0 }), f({ type: 'dir', size: 0, mtimeMs: 5, mode: 0o700 }), true],
    ['symlinks, same target', f({ type: 'symlink', target: 'x' }), f({ type: 'symlink', target: 'x', mtimeMs: 1 }), true],
    ['symlinks, other target', f({ type: 'symlink', target: 'x' }), f({ type: 'symlink', target: 'y' }), false],
  ])('%s', (_name, a, b, want) => {
    expect(sameContent(a, b)).toBe(want);
    expect(sameContent(b, a)).toBe(want);
  });
});

describe('manifestToJson / manifestFromJson', () => {
  const m: Manifest = new Map<string, Entry>([
    ['z', { path: 'z', type: 'file', size: 3, mode: 0o644, mtimeMs: T, hash: 'd'.repeat(64) }],
    ['a', { path: 'a', type: 'dir', size: 0, mode: 0o755, mtimeMs: T }],
    ['a/l', { path: 'a/l', type: 'symlink', size: 0, mode: 0o777, mtimeMs: T, target: '../z' }],
  ]);

  it('round-trips, entries sorted by path, undefined fields left out', () => {
    const json = manifestToJson(m);
    expect(JSON.parse(json).entries.map((e: Entry) => e.path)).toEqual(['a', 'a/l', 'z']);
    expect(json).not.toContain('undefined');
    expect(manifestFromJson(json)).toEqual(m);
  });

  it.each([
    ['not JSON', '{'],
    ['wrong version', JSON.stringify({ version: 2, entries: [] })],
    ['no entries', JSON.stringify({ version: 1 })],
    ['unsafe path', JSON.stringify({ version: 1, entries: [{ path: '../x', type: 'file', size: 1, mode: 420, mtimeMs: 1 }] })],
    ['absolute path', JSON.stringify({ version: 1, entries: [{ path: '/x', type: 'file', size: 1, mode: 420, mtimeMs: 1 }] })],
    ['bad type', JSON.stringify({ version: 1, entries: [{ path: 'x', type: 'fifo', size: 1, mode: 420, mtimeMs: 1 }] })],
    ['negative size', JSON.stringify({ version: 1, entries: [{ path: 'x', type: 'file', size: -1, mode: 420, mtimeMs: 1 }] })],
    ['symlink without target', JSON.stringify({ version: 1, entries: [{ path: 'x', type: 'symlink', size: 0, mode: 511, mtimeMs: 1 }] })],
    ['bad hash', JSON.stringify({ version: 1, entries: [{ path: 'x', type: 'file', size: 1, mode: 420, mtimeMs: 1, hash: 'xyz' }] })],
    ['duplicate path', JSON.stringify({ version: 1, entries: [{ path: 'x', type: 'dir', size: 0, mode: 493, mtimeMs: 1 }, { path: 'x', type: 'dir', size: 0, mode: 493, mtimeMs: 1 }] })],
  ])('refuses damaged state: %s', (_name, text) => {
    expect(() => manifestFromJson(text)).toThrow(/sync state is damaged/);
  });
});
