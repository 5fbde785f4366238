import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_PATH } from '../../contract/names.ts';
import { RUN_FILE_DIRS, commandInState, type RunMode } from './shell-state.ts';

// The prologue is plain POSIX sh: run it with the local /bin/sh, its /data
// pointed at a temporary folder.
let data: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'runbox-state-'));
});
afterEach(() => rmSync(data, { recursive: true, force: true }));

let runs = 0;
function runWith(opts: { mode: RunMode; input?: string }, ...argv: string[]) {
  const id = `t${process.pid}-${++runs}`;
  const [sh, flag, script, ...rest] = commandInState(argv, { id, mode: opts.mode });
  const r = spawnSync(sh!, [flag!, script!.replaceAll(DATA_PATH, data), ...rest], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: data },
    input: opts.input ?? '',
  });
  return { code: r.status, out: r.stdout, err: r.stderr, id };
}
const run = (...argv: string[]) => {
  const { code, out, err } = runWith({ mode: 'pipes' }, ...argv);
  return { code, out, err };
};
const runFile = (id: string) => {
  for (const dir of RUN_FILE_DIRS) {
    try {
      return readFileSync(join(dir, `runbox-${id}`), 'utf8');
    } catch {
      // try the next place
    }
  }
  return undefined;
};

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

  it('says what a shell would when the command cannot run: 127 not found, 126 not executable', () => {
    expect(run('/nonexistent/cmd', 'x')).toEqual({ code: 127, out: '', err: '/nonexistent/cmd: not found\n' });
    expect(run('no-such-command-here')).toEqual({ code: 127, out: '', err: 'no-such-command-here: not found\n' });
    writeFileSync(join(data, 'plain'), 'echo hi\n');
    expect(run(join(data, 'plain'))).toEqual({ code: 126, out: '', err: `${join(data, 'plain')}: Permission denied\n` });
    expect(run('/tmp')).toEqual({ code: 126, out: '', err: '/tmp: Is a directory\n' });
  });

  it('passes argv through exactly and returns the exit code', () => {
    expect(run('printf', '[%s]', 'a b', '$X', '*', '').out).toBe('[a b][$X][*][]');
    expect(run('sh', '-c', 'exit 42').code).toBe(42);
  });

  it('gives the command its stdin although it runs as a child, and writes down pid and exit code', () => {
    const r = runWith({ mode: 'pipes', input: 'one\ntwo\n' }, 'sh', '-c', 'cat; exit 3');
    expect([r.code, r.out]).toEqual([3, 'one\ntwo\n']);
    expect(runFile(r.id)).toMatch(/^\d+ \d+ 3\n$/);
  });

  it('leaves SIGINT to the command (sh would have a background job ignore it)', () => {
    const r = runWith({ mode: 'pipes' }, 'sh', '-c', 'kill -INT $$; sleep 5; echo survived');
    expect([r.code, r.out]).toEqual([130, '']);
  });

  it('reports a command killed by a signal as 128 + the signal', () => {
    expect(run('sh', '-c', 'kill -TERM $$').code).toBe(143);
  });

  it('execs the command itself on a terminal, leaving its pid', () => {
    const r = runWith({ mode: 'tty' }, 'sh', '-c', 'echo $$');
    expect(r.code).toBe(0);
    expect(runFile(r.id)).toBe(`${r.out.trim()} ${runFile(r.id)!.split(' ')[1]}`);
  });
});
