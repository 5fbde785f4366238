import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './archive-test-util.ts';
import { UnsafePathError, resolveInside, safePath } from './safe-path.ts';

describe('safePath', () => {
  it.each([
    ['a', 'a'],
    ['a/b/c', 'a/b/c'],
    ['a//b/./c/', 'a/b/c'],
    ['./a', 'a'],
    ['dir/', 'dir'],
    ['..a/b..', '..a/b..'],
    ['...', '...'],
    ['日本語/✓ file', '日本語/✓ file'],
    ['with\nnewline', 'with\nnewline'],
  ])('keeps %j as %j', (input, want) => {
    expect(safePath(input)).toBe(want);
  });

  it.each([
    ['', 'empty'],
    ['.', 'only "."'],
    ['./', 'only "."'],
    ['/', 'absolute'],
    ['/etc/passwd', 'absolute'],
    ['//etc', 'absolute'],
    ['..', 'parent'],
    ['../evil', 'parent'],
    ['a/../../evil', 'escapes after normalising'],
    ['a/../b', '".." even when it would stay inside'],
    ['a/..', 'trailing ".."'],
    ['a\0b', 'NUL'],
    ['..\\evil', 'backslash (a separator on Windows)'],
    ['a\\b', 'backslash anywhere'],
  ])('refuses %j (%s)', (input) => {
    expect(safePath(input)).toBeUndefined();
  });
});

/** What `f` throws (undefined if it returns). */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('resolveInside', () => {
  it('returns the path under root when the parents are real directories or missing', async () => {
    const root = await tempDir();
    await mkdir(path.join(root, 'a'));
    expect(resolveInside(root, 'a/b/c.txt')).toBe(path.join(root, 'a/b/c.txt'));
    expect(resolveInside(root, 'x//y/')).toBe(path.join(root, 'x/y'));
    expect(await readdir(path.join(root, 'a'))).toEqual([]); // nothing created
  });

  it('refuses a name that safePath refuses', async () => {
    const root = await tempDir();
    expect(() => resolveInside(root, '../x')).toThrow(UnsafePathError);
    expect(() => resolveInside(root, '/x')).toThrow(UnsafePathError);
  });

  it('refuses a path under a symlink, saying which component', async () => {
    const base = await tempDir();
    const root = path.join(base, 'root');
    await mkdir(path.join(root, 'a'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await symlink(path.join(base, 'outside'), path.join(root, 'a', 'link'));
    const err = thrownBy(() => resolveInside(root, 'a/link/evil'));
    expect(err).toBeInstanceOf(UnsafePathError);
    expect(err).toMatchObject({ path: 'a/link/evil', why: '"a/link" is a symbolic link' });
  });

  it('refuses a relative symlink even when it points inside root', async () => {
    const root = await tempDir();
    await mkdir(path.join(root, 'real'));
    await symlink('real', path.join(root, 'alias'));
    expect(thrownBy(() => resolveInside(root, 'alias/f'))).toMatchObject({ why: '"alias" is a symbolic link' });
  });

  it('allows the last component to be a symlink (callers replace it, never write through it)', async () => {
    const root = await tempDir();
    await symlink('/etc', path.join(root, 'link'));
    expect(resolveInside(root, 'link')).toBe(path.join(root, 'link'));
  });

  it('refuses a parent that is a file', async () => {
    const root = await tempDir();
    await writeFile(path.join(root, 'f'), 'x');
    expect(thrownBy(() => resolveInside(root, 'f/g'))).toMatchObject({ why: '"f" is not a directory' });
  });

  it('creates missing parents when asked, and still refuses a symlink further down', async () => {
    const root = await tempDir();
    expect(resolveInside(root, 'n/m/f', { createParents: true })).toBe(path.join(root, 'n/m/f'));
    expect(await readdir(path.join(root, 'n'))).toEqual(['m']);
    await symlink('/tmp', path.join(root, 'n', 'm', 'l'));
    expect(() => resolveInside(root, 'n/m/l/x/f', { createParents: true })).toThrow(UnsafePathError);
    expect(await readdir(path.join(root, 'n', 'm'))).toEqual(['l']);
  });
});

describe('safePath on names in normal form (checked without splitting)', () => {
  /** The rule spelled out segment by segment, as the slow path does it. */
  function bySegments(p: string): string | undefined {
    if (p.length === 0 || p.startsWith('/') || p.includes('\0') || p.includes('\\')) return undefined;
    const segs = p.split('/');
    if (segs.includes('..')) return undefined;
    const kept = segs.filter((s) => s !== '' && s !== '.');
    return kept.length === 0 ? undefined : kept.join('/');
  }

  it('answers as the segment-by-segment rule does, for every mix of odd segments', () => {
    const parts = ['a', '.', '..', '', '..a', 'a..', '.a', '...', 'é', 'x\\y', 'n\0', ' '];
    for (const x of parts) for (const y of parts) for (const z of parts) for (const sep of ['/', '//']) {
      for (const p of [x, x + sep + y, x + sep + y + sep + z, `/${x}`, `${x}/`, sep + x + sep + y]) expect(safePath(p), JSON.stringify(p)).toBe(bySegments(p));
    }
  });
});
