import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_PATH } from './names.ts';
import { commandInState } from './shell-state.ts';

// The prologue is plain POSIX sh: run it with the local /bin/sh, its /data
// pointed at a temporary folder.
let data: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'runbox-state-'));
});
afterEach(() => rmSync(data, { recursive: true, force: true }));

function run(...argv: string[]) {
  const [sh, flag, script, ...rest] = commandInState(argv);
  const r = spawnSync(sh!, [flag!, script!.replaceAll(DATA_PATH, data), ...rest], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: data },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('shell state prologue', () => {
  it('starts in /data and keeps a cd for later commands', () => {
    expect(run('pwd').out).toBe(`${data}\n`);
    expect(run('cd', '/tmp').code).toBe(0);
    expect(run('pwd').out).toBe('/tmp\n');
  });

  it('reports a failed cd and keeps the old directory', () => {
    const r = run('cd', '/no/such/dir');
    expect(r.code).not.toBe(0);
    expect(run('pwd').out).toBe(`${data}\n`);
  });

  it('keeps exported variables, quotes and newlines included', () => {
    expect(run('export', 'A=1', "B=it's \"x\" $HOME", 'C=line1\nline2').code).toBe(0);
    expect(run('sh', '-c', 'printf "%s|%s|%s" "$A" "$B" "$C"').out).toBe(`1|it's "x" $HOME|line1\nline2`);
  });

  it('does not let a user variable clobber its own', () => {
    run('export', 's=/nowhere', 'f=x', 'v=y');
    run('cd', '/tmp');
    expect(run('pwd').out).toBe('/tmp\n');
  });

  it('unsets variables', () => {
    run('export', 'A=1');
    run('unset', 'A');
    expect(run('sh', '-c', 'echo "${A-unset}"').out).toBe('unset\n');
  });

  it('rejects invalid variable names', () => {
    const r = run('export', '1A=2');
    expect(r.code).toBe(1);
    expect(r.err).toContain('not a valid variable name: 1A');
  });

  it('passes argv through exactly and returns the exit code', () => {
    expect(run('printf', '[%s]', 'a b', '$X', '*', '').out).toBe('[a b][$X][*][]');
    expect(run('sh', '-c', 'exit 42').code).toBe(42);
  });
});
