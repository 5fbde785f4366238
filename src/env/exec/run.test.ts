import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from './run.ts';

describe('shellWord', () => {
  it('quotes only what a shell would split or expand', () => {
    expect(['python3', 'train.py', '--lr=0.1', 'a b', "it's", '$HOME', ''].map(shellWord).join(' ')).toBe(
      `python3 train.py --lr=0.1 'a b' 'it'\\''s' '$HOME' ''`,
    );
    const r = spawnSync('sh', ['-c', `printf '[%s]' ${["a b", "it's", '$HOME'].map(shellWord).join(' ')}`], { encoding: 'utf8' });
    expect(r.stdout).toBe("[a b][it's][$HOME]");
  });
});
