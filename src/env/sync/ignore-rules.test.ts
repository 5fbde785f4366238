import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ignoreRules, readIgnoreRules } from './ignore-rules.ts';

const RULES = `
# build output
node_modules/
dist/
*.log
!keep.log
/top-only
**/cache
tmp/*.bin
.runboxignore
`;

describe('ignoreRules', () => {
  const ignored = ignoreRules(RULES);
  it.each([
    // path, isDir, ignored?
    ['node_modules', true, true],
    ['node_modules', false, false], // "dir/" patterns match directories only
    ['pkg/node_modules', true, true],
    ['dist', true, true],
    ['src/dist', true, true],
    ['a.log', false, true],
    ['deep/er/a.log', false, true],
    ['keep.log', false, false], // re-included with "!"
    ['A.LOG', false, false], // case-sensitive, as git on Linux
    ['top-only', false, true],
    ['sub/top-only', false, false], // anchored with a leading "/"
    ['x/y/cache', true, true],
    ['cache', false, true],
    ['tmp/a.bin', false, true],
    ['tmp/a.txt', false, false],
    ['tmp/sub/a.bin', false, false],
    ['src/main.ts', false, false],
    ['.runboxignore', false, false], // always synced, even when it lists itself
    ['sub/.runboxignore', false, true], // only the root one is special
  ] as const)('%s (dir: %s) -> %s', (p, isDir, want) => {
    expect(ignored(p, isDir)).toBe(want);
  });

  it('ignores nothing without a file, or with only comments and blank lines', () => {
    for (const text of [undefined, '', '\n# nothing\n\n']) {
      const f = ignoreRules(text);
      expect([f('a', false), f('node_modules', true), f('.git', true)]).toEqual([false, false, false]);
    }
  });
});

describe('readIgnoreRules', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads root/.runboxignore', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runbox-ignore-'));
    await writeFile(path.join(dir, '.runboxignore'), 'build/\n*.tmp\n');
    const f = await readIgnoreRules(dir);
    expect([f('build', true), f('x.tmp', false), f('x.ts', false)]).toEqual([true, true, false]);
  });

  it('ignores nothing when the file is missing', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runbox-ignore-'));
    const f = await readIgnoreRules(dir);
    expect(f('build', true)).toBe(false);
  });

  it('fails with a RunboxError when .runboxignore cannot be read', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runbox-ignore-'));
    await writeFile(path.join(dir, 'x'), '');
    // A root that is a file: reading x/.runboxignore fails with ENOTDIR, not ENOENT.
    await expect(readIgnoreRules(path.join(dir, 'x'))).rejects.toMatchObject({ name: 'RunboxError', message: expect.stringContaining('.runboxignore') });
  });
});
