import { cpSync, mkdtempSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, REPO_ROOT, createNamespace, deleteNamespace, devCluster, nodeImage, waitFor } from './support/cluster.ts';
import { laptopEnv, runProgram, runbox } from './support/cli.ts';

// runbox on a cluster where nothing was built for it: the sidecar ships inside
// the CLI (a ConfigMap, run on a stock Node image), and the cluster config
// holds what an admin decides once.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });

interface SidecarView {
  image: string;
  command: string[];
  configMap: string | undefined;
}

async function sidecarOf(name: string): Promise<SidecarView & { pod: string }> {
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `runbox.dev/env=${name}` });
  const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp)!;
  const c = pod.spec!.containers.find((x) => x.name === 'sidecar')!;
  const volume = pod.spec!.volumes?.find((v) => v.name === 'runbox-sidecar');
  return { pod: pod.metadata!.name!, image: c.image!, command: c.command ?? [], configMap: volume?.configMap?.name };
}

const sidecarMaps = async () =>
  (await kube.core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata!.name!).filter((n) => n.startsWith('runbox-sidecar-')).sort();

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-any');
  env = laptopEnv();
  expect(env.RUNBOX_SIDECAR_IMAGE).toBeUndefined();
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('the sidecar ships inside runbox', () => {
  it('runs the bundle from a ConfigMap on the Node image of the cluster config', async () => {
    const r = await rb('create', 'one', '--image', BUSYBOX);
    expect(r.code, r.stderr).toBe(0);
    const side = await sidecarOf('one');
    expect(side).toMatchObject({ image: nodeImage(), command: ['node', '/opt/runbox/sidecar.mjs'] });
    expect(side.configMap).toMatch(/^runbox-sidecar-[0-9a-f]{12}$/);
    const map = await kube.core.readNamespacedConfigMap({ name: side.configMap!, namespace: ns });
    expect(map.immutable).toBe(true);
    expect(map.data?.['sidecar.mjs']).toBe(readFileSync(join(REPO_ROOT, 'dist/sidecar/sidecar.mjs'), 'utf8'));
    // The sidecar answers: it is the bundle, running.
    const pod = await kube.core.readNamespacedPod({ name: side.pod, namespace: ns });
    expect(pod.status?.containerStatuses?.find((c) => c.name === 'sidecar')?.ready).toBe(true);
  });

  it('a second environment reuses the same ConfigMap', async () => {
    expect((await rb('create', 'two', '--image', BUSYBOX)).code).toBe(0);
    expect((await sidecarOf('two')).configMap).toBe((await sidecarOf('one')).configMap);
    expect(await sidecarMaps()).toHaveLength(1);
  });

  it('a changed sidecar gives a new ConfigMap, which a running environment gets only at its next start', async () => {
    // A runbox whose sidecar source differs: the same build, its bundle changed.
    const other = mkdtempSync(join(tmpdir(), 'runbox-next-'));
    cpSync(join(REPO_ROOT, 'bin'), join(other, 'bin'), { recursive: true });
    cpSync(join(REPO_ROOT, 'dist'), join(other, 'dist'), { recursive: true });
    appendFileSync(join(other, 'dist/sidecar/sidecar.mjs'), '\n// the next version\n');
    const next = (...args: string[]) => runProgram(process.execPath, [join(other, 'bin/runbox.js'), '-n', ns, ...args], { env });
    const before = await sidecarOf('one');

    expect((await next('one', 'true')).code).toBe(0);
    expect(await sidecarOf('one')).toEqual(before); // busy or not, a running pod is never restarted for it

    expect((await next('stop', 'one')).code).toBe(0);
    expect((await next('one', 'true')).code).toBe(0);
    const after = await sidecarOf('one');
    expect(after.configMap).not.toBe(before.configMap);
    expect(await sidecarMaps()).toEqual([before.configMap, after.configMap].sort());
    await waitFor('the new sidecar ready', 30_000, async () => {
      const pod = await kube.core.readNamespacedPod({ name: after.pod, namespace: ns });
      return pod.status?.containerStatuses?.find((c) => c.name === 'sidecar')?.ready === true;
    });
    expect((await sidecarOf('two')).configMap).toBe(before.configMap);
  });

  it('runs a team-built sidecar image instead when asked', async () => {
    const r = await rb('create', 'own', '--image', BUSYBOX, '--sidecar-image', nodeImage(), '--timeout', '20', '--keep');
    // The Node image has no sidecar entry point of its own: it exits, which is the point (the image's own command runs).
    const side = await sidecarOf('own');
    expect(side).toMatchObject({ image: nodeImage(), command: [], configMap: undefined });
    expect(r.code).not.toBe(0);
  });

  it('keeps the bundle well under the 1 MiB ConfigMap limit', () => {
    expect(readFileSync(join(REPO_ROOT, 'dist/sidecar/sidecar.mjs')).length).toBeLessThan(256 * 1024);
  });
});

describe('one cluster config', () => {
  it('shows each effective value and its source; a namespace value overrides the cluster', async () => {
    const show = async () => JSON.parse((await rb('config', '-o', 'json')).stdout) as Record<string, { value?: string; source: string }>;
    const before = await show();
    expect(before['node-image']).toEqual({ value: nodeImage(), source: 'cluster' });
    // The dev cluster's config turns the idle policy off (test/cluster/runbox-setup.sh).
    expect(before['sleep-after']).toEqual({ value: 'never', source: 'cluster' });
    const set = await rb('config', 'set', 'sleep-after', '5m');
    expect(set.code, set.stderr).toBe(0);
    expect((await show())['sleep-after']).toEqual({ value: '5m', source: 'namespace' });
    expect((await show())['node-image']?.source).toBe('cluster');
    const withEnv = await runbox(['-n', ns, 'config', '-o', 'json'], { env: { ...env, RUNBOX_IMAGE: 'ubuntu:24.04' } });
    expect((JSON.parse(withEnv.stdout) as Record<string, { value?: string; source: string }>).image).toEqual({ value: 'ubuntu:24.04', source: 'environment' });
    const text = await rb('config');
    expect(text.stdout).toMatch(/^sleep-after\s+5m\s+namespace e2e-any-\w+\s/m);
  });

  it('refuses a bad value, and a malformed config gives one line and exit 125', async () => {
    const bad = await rb('config', 'set', 'doze-after', 'soon');
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/^runbox: doze-after must be a duration/);
    await kube.core.patchNamespacedConfigMap(
      { name: 'runbox-config', namespace: ns, body: { data: { 'sleep-after': 'whenever' } } },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.MergePatch),
    );
    const r = await rb('create', 'three', '--image', BUSYBOX);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^runbox: the cluster config is malformed: runbox-config in namespace e2e-any-\w+: sleep-after must be a duration such as 90s, 5m, 1h, or never, not "whenever"; fix it with: runbox config set/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect((await kube.apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata!.name)).not.toContain('three');
  });
});
