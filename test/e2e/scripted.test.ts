import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { RUNBOX, laptopEnv, runProgram, runbox, startRunbox } from './support/cli.ts';

// runbox NAME CMD standing in for CMD in scripts: parallel runs, signals,
// terminals, pipes, memory, and sizes that do not fit; on the real cluster.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });
const shell = (script: string, laptop = env) => runProgram('/bin/sh', ['-c', script, process.execPath, RUNBOX, ns], { env: laptop });

/** The worker's processes, as argv lines, read from /proc (busybox has no ps). */
async function workerProcesses(): Promise<string[]> {
  const r = await rb('sc', 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done');
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

async function replicas(name: string): Promise<{ spec: number; pods: number }> {
  const dep = await kube.apps.readNamespacedDeployment({ name, namespace: ns });
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `runbox.dev/env=${name}` });
  return { spec: dep.spec?.replicas ?? -1, pods: pods.items.length };
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-scripted');
  env = laptopEnv();
  const r = await rb('create', 'sc', '--image', BUSYBOX);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('usage under parallel commands', () => {
  it('records all 50 of 50 commands run 8 at a time from one laptop', async () => {
    const total = async () => (JSON.parse((await rb('usage', 'sc', '-o', 'json')).stdout) as { total: { commands: number } }).total.commands;
    const before = await total();
    const r = await shell('seq 50 | xargs -P 8 -I{} "$0" "$1" -n "$2" sc echo {}');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(50);
    expect(await total()).toBe(before + 50);
  });
});

describe('signals', () => {
  it('Ctrl-C reaches the remote command: sleep 60 is gone, runbox exits 130', async () => {
    const run = startRunbox(['-n', ns, 'sc', 'sh', '-c', 'echo started; exec sleep 60'], { env });
    await run.output(/started/);
    process.kill(run.pid, 'SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    await waitFor('sleep 60 gone from the worker', 2_000, async () => !(await workerProcesses()).includes('sleep 60'));
  });

  it('a second Ctrl-C kills a command that ignores the first', async () => {
    const run = startRunbox(['-n', ns, 'sc', 'sh', '-c', 'trap "" INT; echo started; sleep 45; echo survived'], { env });
    await run.output(/started/);
    process.kill(run.pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    process.kill(run.pid, 'SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stdout).not.toContain('survived');
    await waitFor('sleep 45 gone from the worker', 2_000, async () => !(await workerProcesses()).includes('sleep 45'));
  });

  it('Ctrl-C during a wake cancels it and leaves the environment asleep', async () => {
    expect((await rb('stop', 'sc')).code).toBe(0);
    const run = startRunbox(['-n', ns, 'sc', 'true'], { env });
    await waitFor('the wake under way', 10_000, async () => (await replicas('sc')).spec === 1);
    process.kill(run.pid, 'SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('runbox: interrupted\n');
    expect(await replicas('sc')).toEqual({ spec: 0, pods: 0 });
  });
});

describe('terminals and pipes', () => {
  it('gives a command a terminal when runbox has one, and none through a pipe', async () => {
    expect((await rb('sc', 'true')).code).toBe(0); // awake, so no progress is drawn on the terminal
    const cmd = `"${process.execPath}" "${RUNBOX}" -n ${ns} sc tty`;
    const onPty = await runProgram('script', ['-qefc', cmd, '/dev/null'], { env });
    expect(onPty.stdout, JSON.stringify(onPty)).toMatch(/\/dev\/pts\/\d+\r*\n$/);
    expect(await rb('sc', 'tty')).toEqual({ code: 1, stdout: 'not a tty\n', stderr: '' });
    expect((await rb('-t', 'sc', 'tty')).stdout).toMatch(/^\/dev\/pts\/\d+/);
  });

  it('ends quietly with 141 when its reader goes away: runbox sc seq 1000000 | head -1', async () => {
    const r = await runProgram('/bin/bash', ['-c', '"$0" "$1" -n "$2" sc seq 1000000 | head -1; echo "rc=${PIPESTATUS[0]}"', process.execPath, RUNBOX, ns], { env });
    expect(r).toEqual({ code: 0, stdout: '1\nrc=141\n', stderr: '' });
  });

  // Retried: about once in six full runs under load, containerd 1.6 tears the session down
  // (stdin still flowing into an exited command) before it has sent head's output, so `y`
  // never reaches runbox although the exit code (read from the run file) is right. Three
  // failures in a row still fail the test.
  it('returns as soon as the command is done, whatever stdin still holds: yes | runbox sc head -1', { retry: 2 }, async () => {
    const started = Date.now();
    const r = await shell('yes | "$0" "$1" -n "$2" sc head -1');
    const ms = Date.now() - started;
    console.log(`yes | runbox sc head -1 returned in ${ms} ms`);
    expect(r).toEqual({ code: 0, stdout: 'y\n', stderr: '' });
    // Without the fix it never returns (the test's own timeout ends it).
    expect(ms).toBeLessThan(5_000);
  });
});

describe('failures said in one line', () => {
  it('a command that cannot run says what a shell would', async () => {
    expect(await rb('sc', '/nonexistent/cmd')).toEqual({ code: 127, stdout: '', stderr: '/nonexistent/cmd: not found\n' });
    expect(await rb('sc', '/etc/passwd')).toEqual({ code: 126, stdout: '', stderr: '/etc/passwd: Permission denied\n' });
  });

  it('a command killed for memory says so, with the limit and the way out', async () => {
    // tail holds the whole of an endless line in memory.
    const r = await rb('sc', 'tail', '/dev/zero');
    expect(r.code).toBe(137);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^runbox: the command ran out of memory \(limit 128Mi, 1 unit\) and was killed; give it more with: runbox -a 4 sc tail \/dev\/zero$/m);
  });

  it('refuses the name of a runbox command and a malformed timeout before touching the cluster', async () => {
    const named = await rb('create', 'status', '--image', BUSYBOX);
    expect(named.code).toBe(125);
    expect(named.stderr).toMatch(/^runbox: "status" is a runbox command/);
    const timeout = await rb('resize', 'sc', '2', '--timeout', 'abc');
    expect(timeout.code).toBe(125);
    expect(timeout.stderr).toMatch(/--timeout.*must be a number of seconds above 0, not "abc"/);
  });
});

describe('sizes that do not fit', () => {
  it('a wake that no node can take fails at once and leaves the environment asleep; a smaller size wakes', async () => {
    expect((await rb('stop', 'sc')).code).toBe(0);
    // 16 units is all of the node's 2 CPUs: it passes the allocatable check, but other pods hold some.
    expect((await rb('resize', 'sc', '16')).code).toBe(0);
    const r = await rb('sc', 'true');
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^runbox: cannot wake sc: no node can fit it: 0\/1 nodes are available: 1 Insufficient cpu; it stays asleep; ask for less with: runbox resize sc UNITS\n$/);
    expect(await replicas('sc')).toEqual({ spec: 0, pods: 0 });
    const recorded = await rb('resize', 'sc', '1000');
    expect(recorded.code).toBe(125);
    expect(recorded.stderr).toMatch(/no node of the cluster has that much/);
  });

  it('a resize replaces a pod that cannot be scheduled', async () => {
    // The failed wake above left the template at 16 units: scaling up by hand gives a Pending pod.
    expect((await runProgram(process.env.HOME + '/.cache/runbox-dev/bin/v1.34.4/kubectl', ['--kubeconfig', env.KUBECONFIG!, '-n', ns, 'scale', 'deployment', 'sc', '--replicas', '1'], {})).code).toBe(0);
    await waitFor('a Pending pod', 20_000, async () => (await replicas('sc')).pods === 1);
    const r = await rb('resize', 'sc', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/replacing it with one of 2 units/);
    expect(await rb('sc', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes')).toEqual({ code: 0, stdout: '268435456\n', stderr: '' });
  });
});
