import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_MARKER, WORKER_IDLE_COMMAND } from '../src/contract/sidecar.ts';
import { podActivity } from './activity.ts';

const WORKER = '4:memory:/kubepods/pod1/worker\n';
const SIDECAR = '4:memory:/kubepods/pod1/sidecar\n';
const BASE: Record<number, [string[], string]> = {
  1: [['/pause'], '4:memory:/kubepods/pod1\n'],
  6: [[...WORKER_IDLE_COMMAND], WORKER],
  7: [['sleep', '2147483647'], WORKER],
  12: [['/usr/local/bin/node', '/opt/runbox/sidecar.mjs'], SIDECAR],
};

function fakeProc(processes: Record<number, [string[], string]>): string {
  const proc = mkdtempSync(join(tmpdir(), 'runbox-proc-'));
  for (const [pid, [argv, cgroup]] of Object.entries(processes)) {
    mkdirSync(join(proc, pid));
    writeFileSync(join(proc, pid, 'cmdline'), argv.map((a) => `${a}\0`).join(''));
    writeFileSync(join(proc, pid, 'cgroup'), cgroup);
  }
  mkdirSync(join(proc, 'self'));
  return proc;
}

describe('podActivity', () => {
  it('ignores the sandbox, the idle worker, the sidecar server and a probe in its container', async () => {
    const proc = fakeProc({ ...BASE, 20: [['node', '-e', 'probe'], SIDECAR] });
    expect(await podActivity(proc, 12)).toEqual({ busy: 0, commands: [], agents: [] });
  });

  it("counts what a user runs in the worker, a user's sleep included", async () => {
    const proc = fakeProc({
      ...BASE,
      40: [['python3', 'train.py', '--epochs', '3'], WORKER],
      41: [['bash', '-i'], WORKER],
      42: [['sleep', '60'], WORKER],
      // runbox's prologue waiting for the sleep above: not counted twice.
      43: [['/bin/sh', '-c', 'script', 'runbox', 'pipes', 'id1', 'sleep', '60'], WORKER],
    });
    expect(await podActivity(proc, 12)).toEqual({
      busy: 3,
      commands: ['python3 train.py --epochs 3', 'bash -i', 'sleep 60'],
      agents: [],
    });
  });

  it('counts a sync or snapshot agent running in the sidecar container', async () => {
    const proc = fakeProc({ ...BASE, 30: [['node', '/opt/runbox/sidecar.mjs', AGENT_MARKER, 'sync'], SIDECAR] });
    expect(await podActivity(proc, 12)).toEqual({
      busy: 1,
      commands: [],
      agents: [`node /opt/runbox/sidecar.mjs ${AGENT_MARKER} sync`],
    });
  });

  it('counts a waiting prologue while draining: its command may not have started yet', async () => {
    const proc = fakeProc({ ...BASE, 43: [['/bin/sh', '-c', 'script', 'runbox', 'pipes', 'id1', 'make'], WORKER] });
    expect((await podActivity(proc, 12)).busy).toBe(0);
    expect(await podActivity(proc, 12, { countPrologues: true })).toEqual({ busy: 1, commands: ['/bin/sh -c script runbox pipes id1 make'], agents: [] });
  });
});
