import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerActivity } from './activity.ts';

const WORKER = '4:memory:/kubepods/pod1/worker\n';
const SIDECAR = '4:memory:/kubepods/pod1/sidecar\n';

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

describe('workerActivity', () => {
  it('ignores the sandbox, the idle worker and the sidecar container', async () => {
    const proc = fakeProc({
      1: [['/pause'], '4:memory:/kubepods/pod1\n'],
      7: [['sleep', '2147483647'], WORKER],
      12: [['/usr/local/bin/node', '/opt/runbox/sidecar/main.ts'], SIDECAR],
      20: [['node', '-e', 'probe'], SIDECAR],
    });
    expect(await workerActivity(proc, 12)).toEqual({ busy: 0, commands: [] });
  });

  it("counts what a user runs in the worker, a user's sleep included", async () => {
    const proc = fakeProc({
      1: [['/pause'], '4:memory:/kubepods/pod1\n'],
      7: [['sleep', '2147483647'], WORKER],
      12: [['/usr/local/bin/node', '/opt/runbox/sidecar/main.ts'], SIDECAR],
      40: [['python3', 'train.py', '--epochs', '3'], WORKER],
      41: [['bash', '-i'], WORKER],
      42: [['sleep', '60'], WORKER],
    });
    expect(await workerActivity(proc, 12)).toEqual({ busy: 3, commands: ['python3 train.py --epochs 3', 'bash -i', 'sleep 60'] });
  });
});
