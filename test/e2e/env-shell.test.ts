import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster } from './support/cluster.ts';
import { RUNBOX, laptopEnv, runbox, runProgram } from './support/cli.ts';

// runbox shell through a real pseudo-terminal: util-linux's script(1) gives
// the CLI a pty, as a terminal emulator would.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-shell');
  env = laptopEnv({ TERM: 'xterm' });
  const r = await runbox(['-n', ns, 'create', 'myrb', '--image', DEBIAN], { env });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('runbox shell', () => {
  it('runs an interactive shell on a terminal and returns its exit code', async () => {
    const cmd = `"${process.execPath}" "${RUNBOX}" -n ${ns} shell myrb`;
    const r = await runProgram('script', ['-qefc', cmd, '/dev/null'], { env, input: 'echo hi; exit 3\n' });
    expect(r.stdout, JSON.stringify(r)).toMatch(/[\r\n]hi\r*\n/);
    expect(r.code).toBe(3);
  });

  it('refuses without a terminal', async () => {
    const r = await runbox(['-n', ns, 'shell', 'myrb'], { env });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/runbox shell needs a terminal/);
  });
});
