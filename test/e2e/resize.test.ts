import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { laptopEnv, runbox } from './support/cli.ts';

// Per-command vertical resizing on the real kubelet and cgroups (v1), and the
// usage ledger.

const MEMORY = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
const CPU = '/sys/fs/cgroup/cpu/cpu.cfs_quota_us';
let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });

async function workerPod() {
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
  const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp)!;
  return { name: pod.metadata!.name!, restarts: pod.status!.containerStatuses!.find((c) => c.name === 'worker')!.restartCount };
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-resize');
  env = laptopEnv();
  const r = await rb('--create', 'myrb', '--image', DEBIAN);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('per-command resizing', () => {
  it('starts at one unit: 128 MiB and 1/8 CPU', async () => {
    expect((await rb('myrb', 'cat', MEMORY, CPU)).stdout).toBe('134217728\n12500\n');
  });

  it('-a 2 resizes the same pod in place, memory and CPU', async () => {
    const before = await workerPod();
    const r = await rb('-a', '2', 'myrb', 'cat', MEMORY, CPU);
    expect(r).toEqual({ code: 0, stdout: '268435456\n25000\n', stderr: '' });
    expect(await workerPod()).toEqual({ name: before.name, restarts: 0 });
  });

  it('keeps the allocation for later commands and records it on the Deployment', async () => {
    expect((await rb('myrb', 'cat', MEMORY)).stdout).toBe('268435456\n');
    const dep = await kube.apps.readNamespacedDeployment({ name: 'myrb', namespace: ns });
    expect(dep.metadata?.annotations?.['runbox.dev/allocation']).toBe('2');
    const list = JSON.parse((await rb('list', '-o', 'json')).stdout) as { allocation: number }[];
    expect(list[0]?.allocation).toBe(2);
    // runbox returns once the cgroup has the limit; the kubelet reports it in the pod status a little later.
    await waitFor('the kubelet to report 256Mi', 15_000, async () => {
      const status = JSON.parse((await rb('status', 'myrb', '-o', 'json')).stdout) as { applied: { memory: string } };
      return status.applied.memory === '256Mi';
    });
  });

  it('-a 0.5 lowers memory to 64 MiB (in place on 1.34.4)', async () => {
    const r = await rb('-a', '0.5', 'myrb', 'cat', MEMORY);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('67108864\n');
  });

  it('-a 1000 fails with the node allocatable figures and keeps the old size', async () => {
    const r = await rb('-a', '1000', 'myrb', 'true');
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^runbox: cannot resize myrb to 1000 units .*node runbox-dev allocatable: 2 CPU, \d+Ki memory.*keeps its size 63m CPU, 64Mi memory/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect((await rb('myrb', 'cat', MEMORY)).stdout).toBe('67108864\n');
  });

  it('replaces the pod when asked (the fallback path), with a one-line notice', async () => {
    const before = await workerPod();
    const r = await rb('resize', 'myrb', '1', '--replace');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^runbox: replacing the pod of myrb with one of 1 unit \(125m CPU, 128Mi\)$/m);
    expect((await workerPod()).name).not.toBe(before.name);
    expect((await rb('myrb', 'cat', MEMORY)).stdout).toBe('134217728\n');
  });

  it('a wake applies the recorded allocation', async () => {
    expect((await rb('stop', 'myrb')).code).toBe(0);
    const slept = await kube.apps.readNamespacedDeployment({ name: 'myrb', namespace: ns });
    expect(slept.spec?.replicas).toBe(0);
    const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
    expect(pods.items).toEqual([]);
    const r = await rb('resize', 'myrb', '3');
    expect(r.stderr).toMatch(/myrb will wake with 3 units/);
    expect((await rb('myrb', 'cat', MEMORY, CPU)).stdout).toBe('402653184\n37500\n');
    const woke = await kube.apps.readNamespacedDeployment({ name: 'myrb', namespace: ns });
    expect(woke.spec?.replicas).toBe(1);
    expect(woke.metadata?.annotations?.['runbox.dev/allocation']).toBe('3');
  });
});

describe('usage metering', () => {
  it('-u prints the capacity used: allocation x duration', async () => {
    const r = await rb('-u', '-a', '2', 'myrb', 'sleep', '1');
    expect(r.code).toBe(0);
    const m = /^Capacity used: ([\d.]+) units \((\d+) ms\)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const [units, ms] = [Number(m![1]), Number(m![2])];
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(3000);
    expect(units).toBeCloseTo((2 * ms) / 100, 0);
  });

  it('runbox usage lists the ledger, also after the pod was recycled and from another laptop', async () => {
    const pod = await workerPod();
    await kube.core.deleteNamespacedPod({ name: pod.name, namespace: ns });
    const other = laptopEnv();
    const r = await runbox(['-n', ns, 'usage', 'myrb', '-o', 'json'], { env: other });
    expect(r.code, r.stderr).toBe(0);
    const { entries } = JSON.parse(r.stdout) as { entries: { command: string; allocation: number; units: number; durationMs: number }[] };
    const sleep = entries.find((e) => e.command === 'sleep 1');
    expect(sleep).toMatchObject({ allocation: 2 });
    expect(sleep!.units).toBeCloseTo((2 * sleep!.durationMs) / 100, 1);
    const text = await runbox(['-n', ns, 'usage', 'myrb', '--since', '1h'], { env: other });
    expect(text.stdout).toMatch(/^TIME\s+COMMAND\s+DURATION\s+ALLOCATION\s+UNITS\s+EXIT$/m);
    expect(text.stdout).toMatch(/sleep 1\s+\d+ ms\s+2\s+[\d.]+\s+0/);
    expect(text.stdout).toMatch(/^Total: [\d.]+ units in \d+ commands$/m);
  });
});
