import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from '../e2e/support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster } from '../e2e/support/cluster.ts';
import { laptopEnv, runbox } from '../e2e/support/cli.ts';

// On the dev cluster variant without in-place resize (InPlacePodVerticalScaling
// off on the API server and kubelet), -a N takes the replace-the-pod path for
// real: one notice line, files and shell state intact.

const MEMORY = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });

async function podName(): Promise<string> {
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
  return pods.items.find((p) => !p.metadata?.deletionTimestamp)!.metadata!.name!;
}

beforeAll(async () => {
  kube = await devCluster();
  // This variant has no resize subresource: make sure the test runs where it claims to.
  const discovery = (await kube.core.getAPIResources()).resources.map((r) => r.name);
  expect(discovery).not.toContain('pods/resize');
  ns = await createNamespace(kube, 'e2e-restart');
  env = laptopEnv();
  const r = await rb('create', 'myrb', '--image', DEBIAN);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('resizing where in-place resize is off', () => {
  it('-a 2 replaces the pod with one notice line; files and shell state survive', async () => {
    expect((await rb('myrb', 'sh', '-c', 'mkdir -p /data/work && echo kept > /data/work/file')).code).toBe(0);
    expect((await rb('myrb', 'cd', '/data/work')).code).toBe(0);
    expect((await rb('myrb', 'export', 'EPOCHS=3')).code).toBe(0);
    const before = await podName();
    const r = await rb('-a', '2', 'myrb', 'cat', MEMORY);
    expect(r.stdout).toBe('268435456\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^runbox: resizing myrb in place is not possible here \(the cluster has no pod resize subresource: .*InPlacePodVerticalScaling feature gate is off\); replacing its pod with one of 2 units \(250m CPU, 256Mi\)\n$/);
    expect(await podName()).not.toBe(before);
    expect(await rb('myrb', 'sh', '-c', 'pwd; cat file; echo $EPOCHS')).toEqual({ code: 0, stdout: '/data/work\nkept\n3\n', stderr: '' });
  });

  it('-a 0.5 then gives 64 MiB', async () => {
    const r = await rb('-a', '0.5', 'myrb', 'cat', MEMORY);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('67108864\n');
  });
});

describe('runbox doctor on this variant', () => {
  it('reports the restart path and still passes', async () => {
    const r = await rb('doctor');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ in-place resize not available: runbox resizes by replacing the pod/m);
  });
});
