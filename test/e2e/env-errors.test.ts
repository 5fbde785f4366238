import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, KUBECONFIG, REGISTRY, createNamespace, deleteNamespace, devCluster, serviceAccountKubeconfig } from './support/cluster.ts';
import { laptopEnv, runbox, type CliResult } from './support/cli.ts';

// Bad input: one readable line, exit 125, nothing created.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (args: string[], e = env) => runbox(['-n', ns, ...args], { env: e });

function oneLineFailure(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(125);
  expect(r.stdout).toBe('');
  // Progress lines (`... step`) may come first; the failure itself is one line.
  const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('... '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^runbox: /);
  expect(lines[0]).toMatch(pattern);
}

async function objectsInNamespace(): Promise<string[]> {
  const [deps, pvcs] = await Promise.all([
    kube.apps.listNamespacedDeployment({ namespace: ns }),
    kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns }),
  ]);
  return [...deps.items, ...pvcs.items].map((o) => o.metadata?.name ?? '');
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-errors');
  env = laptopEnv();
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('bad input', () => {
  it('rejects an invalid name before touching the cluster', async () => {
    // An unreachable server proves no call was made.
    const e = laptopEnv({ KUBECONFIG: '/nonexistent' });
    oneLineFailure(await rb(['create', 'My_Env'], e), /invalid environment name "My_Env"/);
    oneLineFailure(await rb(['My_Env', 'true'], e), /invalid environment name/);
  });

  it('reports an unknown environment', async () => {
    oneLineFailure(await rb(['nosuch', 'true']), /environment nosuch not found in namespace e2e-errors-.*runbox create nosuch/);
  });

  it('reports an unknown context', async () => {
    oneLineFailure(await rb(['--context', 'nope', 'nosuch', 'true']), /context "nope" is not in your kubeconfig/);
    oneLineFailure(await rb(['--context', 'nope', 'list']), /context "nope" is not in your kubeconfig/);
  });

  it('reports an unreachable API server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbox-kc-'));
    const file = join(dir, 'config');
    writeFileSync(file, readFileSync(KUBECONFIG, 'utf8').replace(/server: .*/, 'server: https://127.0.0.1:59999'));
    const e = laptopEnv({ KUBECONFIG: file });
    oneLineFailure(await rb(['nosuch', 'true'], e), /cannot reach the API server at https:\/\/127\.0\.0\.1:59999.*ECONNREFUSED/);
    oneLineFailure(await rb(['list'], e), /cannot reach the API server.*ECONNREFUSED/);
    oneLineFailure(await rb(['create', 'x', '--image', BUSYBOX], e), /cannot reach the API server.*ECONNREFUSED/);
  });

  it('reports an image that does not exist within 60 s and leaves nothing behind', async () => {
    const image = `${REGISTRY}/runbox-test/does-not-exist:1`;
    const started = Date.now();
    const r = await rb(['create', 'badimage', '--image', image]);
    oneLineFailure(r, new RegExp(`image ${image.replaceAll('.', '\\.')} cannot be pulled \\((ErrImagePull|ImagePullBackOff)\\)`));
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await objectsInNamespace()).toEqual([]);
  });

  it('refuses to create an environment that exists', async () => {
    expect((await rb(['create', 'twice', '--image', BUSYBOX])).code).toBe(0);
    oneLineFailure(await rb(['create', 'twice', '--image', BUSYBOX]), /environment twice already exists/);
  });

  it('reports a credential without pods/exec', async () => {
    // A service account that may read and scale environments, but not exec.
    await kube.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'no-exec' } } });
    const rbac = await import('@kubernetes/client-node').then((k) => kube.config.makeApiClient(k.RbacAuthorizationV1Api));
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'no-exec' },
        rules: [
          { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'list', 'watch', 'patch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'no-exec' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'no-exec' },
        subjects: [{ kind: 'ServiceAccount', name: 'no-exec', namespace: ns }],
      },
    });
    const file = await serviceAccountKubeconfig(kube, ns, 'no-exec');
    const r = await rb(['--any-owner', 'twice', 'true'], laptopEnv({ KUBECONFIG: file }));
    oneLineFailure(r, /not allowed to run commands in twice.*pods\/exec/);
  });
});
