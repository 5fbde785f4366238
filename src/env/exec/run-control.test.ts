import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf, signalCommand } from './run-control.ts';
import { RUN_FILE_DIRS } from './shell-state.ts';

// The side commands are plain sh: run them locally against a run file.
const id = `ctl-${process.pid}`;
const file = `${RUN_FILE_DIRS[1]}/runbox-${id}`;
const sh = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
afterEach(() => rmSync(file, { force: true }));

describe('run control', () => {
  it('tells the exit code only once the command has ended', () => {
    mkdirSync(RUN_FILE_DIRS[1], { recursive: true });
    writeFileSync(file, '123 0\n');
    expect(sh(exitCodeOf(id)).stdout).toBe('');
    writeFileSync(file, '123 0 42\n');
    expect(sh(exitCodeOf(id)).stdout).toBe('42\n');
  });

  it('signals the whole process group of the command', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & sleep 30; wait'], { detached: true, stdio: 'ignore' });
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, s) => r(s)));
    writeFileSync(file, `${child.pid} 0\n`);
    expect(sh(signalCommand(id, 'TERM')).stdout).toBe('sent\n');
    expect(await exited).toBe('SIGTERM');
    // The background sleep was in the group too: no live process is left in it (zombies wait for a reaper).
    const live = () => sh(['sh', '-c', `ps -eo pgid=,stat= | awk '$1 == ${child.pid} && $2 !~ /Z/' | wc -l`]).stdout.trim();
    for (let i = 0; i < 100 && live() !== '0'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(live()).toBe('0');
  });

  it('says nothing when there is no run file', () => {
    expect(sh(exitCodeOf('no-such-run')).stdout).toBe('');
  });
});
