import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, REPO_ROOT, createNamespace, deleteNamespace, devCluster } from './support/cluster.ts';
import { KUBECTL, RUNBOX, laptopEnv, runProgram, runbox } from './support/cli.ts';

// How runbox fits its ecosystem: a kubectl plugin, progress drawn with ink only
// on a terminal (without colour under NO_COLOR), completion scripts that parse.

let kube: Kube;
let ns: string;

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-cli');
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('the CLI in its ecosystem', () => {
  it('works as a kubectl plugin', async () => {
    // kubectl's plugin lookup finds kubectl-runbox on PATH; bin/ must come with Node 24 first.
    const env = laptopEnv({ PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH}` });
    const r = await runProgram(KUBECTL, ['runbox', '-n', ns, 'list', '-o', 'json'], { env });
    expect(r, r.stderr).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('draws progress with ink on a terminal, in colour unless NO_COLOR', async () => {
    const cmd = (name: string) => `"${process.execPath}" "${RUNBOX}" -n ${ns} create ${name} --image ${BUSYBOX}`;
    const colour = await runProgram('script', ['-qefc', cmd('tty1'), '/dev/null'], { env: laptopEnv({ TERM: 'xterm', NO_COLOR: '' }) });
    expect(colour.code, colour.stdout).toBe(0);
    expect(colour.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(colour.stdout).toContain('\x1b[36m');
    expect(colour.stdout).toMatch(/tty1 created \(running/);
    const env = laptopEnv({ TERM: 'xterm', NO_COLOR: '1' });
    const plain = await runProgram('script', ['-qefc', cmd('tty2'), '/dev/null'], { env });
    expect(plain.code, plain.stdout).toBe(0);
    expect(plain.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(plain.stdout).not.toContain('\x1b[36m');
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const r = await runbox(['-n', ns, 'create', 'pipe1', '--image', BUSYBOX], { env: laptopEnv() });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\.\.\. creating volume pipe1-data \(10Gi\)$/m);
    expect(r.stderr).not.toContain('\x1b[');
  });

  it('prints completion scripts that bash parses', async () => {
    const script = await runbox(['completion', 'bash'], { env: laptopEnv() });
    expect(script.code).toBe(0);
    const parsed = await runProgram('bash', ['-n'], { input: script.stdout });
    expect(parsed.code, parsed.stderr).toBe(0);
    expect((await runbox(['completion', 'zsh'], { env: laptopEnv() })).stdout).toContain('compdef _runbox runbox');
  });
});
