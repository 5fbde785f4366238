import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { kubectl, laptopEnv, runbox } from './support/cli.ts';

// The seed transcript of the 2019 talk, word for word, then the exit codes,
// the streams and the shell state, all through the real CLI on the dev cluster.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-env');
  kube = await devCluster(ns);
  env = laptopEnv();
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

/** The environment's pods, terminating ones included. */
async function podNames(): Promise<string[]> {
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
  return pods.items.map((p) => p.metadata?.name ?? '');
}

describe('the seed transcript', () => {
  it('runbox --create myrb --image debian', async () => {
    const r = await rb('--create', 'myrb', '--image', DEBIAN);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^myrb created \(running, pod myrb-/);
  });

  it('kubectl get pod,deployment shows the pod 2/2 Running', async () => {
    const r = await kubectl(['-n', ns, 'get', 'pod,deployment']);
    expect(r.stdout).toMatch(/pod\/myrb-\S+\s+2\/2\s+Running\s+0/);
    expect(r.stdout).toMatch(/deployment.apps\/myrb\s+1\/1/);
  });

  it('runbox myrb hostname prints myrb', async () => {
    expect(await rb('myrb', 'hostname')).toEqual({ code: 0, stdout: 'myrb\n', stderr: '' });
  });

  it('wakes a sleeping environment for runbox myrb ls /data', async () => {
    await rb('myrb', 'touch', '/data/my_file');
    const scaled = await kubectl(['-n', ns, 'scale', '--replicas', '0', 'deployment', 'myrb']);
    expect(scaled.code).toBe(0);
    await waitFor('pods gone', 60_000, async () => (await podNames()).length === 0);
    const r = await rb('myrb', 'ls', '/data');
    expect(r).toEqual({ code: 0, stdout: 'my_file\n', stderr: '' });
  });

  it('runbox --list shows myrb', async () => {
    const r = await rb('--list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATE\s+IMAGE\s+ALLOCATION\s+LAST ACTIVITY\s+AGE\n/);
    expect(r.stdout).toMatch(new RegExp(`myrb\\s+running\\s+${DEBIAN.replaceAll('.', '\\.')}\\s+1\\s`));
    const json = JSON.parse((await rb('list', '-o', 'json')).stdout) as { name: string; state: string; owner: string }[];
    expect(json).toMatchObject([{ name: 'myrb', state: 'running', owner: 'kubernetes-admin' }]);
  });

  it('runbox --kill myrb true leaves it at 0/0', async () => {
    const r = await rb('--kill', 'myrb', 'true');
    expect(r.code).toBe(0);
    const dep = await kube.apps.readNamespacedDeployment({ name: 'myrb', namespace: ns });
    expect(dep.spec?.replicas).toBe(0);
    expect(dep.status?.readyReplicas ?? 0).toBe(0);
    const list = JSON.parse((await rb('list', '-o', 'json')).stdout) as { state: string }[];
    expect(list[0]?.state).toBe('sleeping');
  });
});

describe('commands', () => {
  it.each([0, 1, 42, 255])('passes exit code %i through', async (code) => {
    const r = await rb('myrb', 'sh', '-c', `exit ${code}`);
    expect(r.code).toBe(code);
  });

  it('reports a command killed by SIGTERM as 143', async () => {
    expect((await rb('myrb', 'sh', '-c', 'kill -TERM $$')).code).toBe(143);
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await rb('myrb', 'sh', '-c', 'echo to-out; echo to-err >&2; echo more-out');
    expect(r).toEqual({ code: 0, stdout: 'to-out\nmore-out\n', stderr: 'to-err\n' });
  });

  it('keeps argv exactly, without a shell in between', async () => {
    const r = await rb('myrb', 'printf', '[%s]', 'a b', '$HOME', '*', "it's");
    expect(r.stdout).toBe("[a b][$HOME][*][it's]");
  });

  it('keeps cd and export between commands and across pod recycling', async () => {
    expect((await rb('myrb', 'cd', '/tmp')).code).toBe(0);
    expect((await rb('myrb', 'pwd')).stdout).toBe('/tmp\n');
    expect((await rb('myrb', 'export', 'A=1')).code).toBe(0);
    expect((await rb('myrb', 'sh', '-c', 'echo $A')).stdout).toBe('1\n');
    const [before] = await podNames();
    await kube.core.deleteNamespacedPod({ name: before!, namespace: ns });
    // Once the old pod is gone for good, the remembered name fails and runbox finds the new one.
    await waitFor('the old pod gone', 60_000, async () => !(await podNames()).includes(before!));
    expect((await rb('myrb', 'pwd')).stdout).toBe('/tmp\n');
    expect((await rb('myrb', 'sh', '-c', 'echo $A')).stdout).toBe('1\n');
    expect(await podNames()).not.toContain(before);
  });

  it('runbox stop scales to zero and leaves no pod; the next command wakes it', async () => {
    expect(await podNames()).toHaveLength(1);
    const r = await rb('stop', 'myrb');
    expect(r.code, r.stderr).toBe(0);
    const dep = await kube.apps.readNamespacedDeployment({ name: 'myrb', namespace: ns });
    expect(dep.spec?.replicas).toBe(0);
    // stop returns once the pod is gone, terminating ones included.
    expect(await podNames()).toEqual([]);
    expect(await rb('myrb', 'hostname')).toEqual({ code: 0, stdout: 'myrb\n', stderr: '' });
  });

  it('runbox usage --since leaves out older commands', async () => {
    // The ledger holds this file's earlier commands; these two come after a cut.
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await rb('myrb', 'echo', 'after-the-cut')).code).toBe(0);
    expect((await rb('myrb', 'true')).code).toBe(0);
    const all = JSON.parse((await rb('usage', 'myrb', '-o', 'json')).stdout) as { entries: { command: string }[] };
    const since = JSON.parse((await rb('usage', 'myrb', '--since', cut.toISOString(), '-o', 'json')).stdout) as {
      entries: { command: string }[];
      total: { commands: number };
    };
    expect(all.entries.map((e) => e.command)).toContain('hostname');
    expect(since.entries.map((e) => e.command)).toEqual(['echo after-the-cut', 'true']);
    expect(since.total.commands).toBe(2);
  });

  it('deletes the environment, its volume and its usage ledger', async () => {
    const ledger = await kube.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
    expect(ledger.items.length).toBeGreaterThan(0);
    const pvc = await kube.core.readNamespacedPersistentVolumeClaim({ name: 'myrb-data', namespace: ns });
    expect(pvc.metadata?.name).toBe('myrb-data');
    const r = await rb('delete', 'myrb', '--yes');
    expect(r.code).toBe(0);
    // Like kubectl delete, it returns once they are gone.
    const deps = await kube.apps.listNamespacedDeployment({ namespace: ns });
    const pvcs = await kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
    const ledgers = await kube.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'runbox.dev/env=myrb' });
    expect([...deps.items, ...pvcs.items, ...ledgers.items]).toEqual([]);
    expect((await rb('myrb', 'true')).code).toBe(125);
  });
});
