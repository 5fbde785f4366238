import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, REPO_ROOT, createNamespace, deleteNamespace, devCluster, serviceAccountKubeconfig } from './support/cluster.ts';
import { kubectl, laptopEnv, runbox } from './support/cli.ts';

// The role in manifests/ is enough for everything the CLI does: a service
// account bound to nothing else creates, runs, lists, stops and deletes.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-rbac');
  const applied = await kubectl(['apply', '-k', join(REPO_ROOT, 'manifests')]);
  expect(applied.code, applied.stderr).toBe(0);
  await kube.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'jane' } } });
  const bound = await kubectl(['-n', ns, 'create', 'rolebinding', 'jane', '--clusterrole', 'runbox-user', `--serviceaccount=${ns}:jane`]);
  expect(bound.code, bound.stderr).toBe(0);
  const file = await serviceAccountKubeconfig(kube, ns, 'jane');
  env = laptopEnv({ KUBECONFIG: file });
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('manifests/ runbox-user role', () => {
  it('is enough for the whole life of an environment', async () => {
    const created = await runbox(['create', 'janes', '--image', BUSYBOX], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(await runbox(['janes', 'sh', '-c', 'echo $RUNBOX_ENV'], { env })).toEqual({ code: 0, stdout: 'janes\n', stderr: '' });
    const list = JSON.parse((await runbox(['list', '-o', 'json'], { env })).stdout) as { name: string; owner: string }[];
    expect(list).toMatchObject([{ name: 'janes', owner: `system:serviceaccount:${ns}:jane` }]);
    expect((await runbox(['stop', 'janes'], { env })).code).toBe(0);
    expect((await runbox(['janes', 'true'], { env })).code).toBe(0);
    expect((await runbox(['delete', 'janes', '--yes'], { env })).code).toBe(0);
  });

  it("keeps one user's environments apart from another's", async () => {
    const admin = laptopEnv();
    expect((await runbox(['-n', ns, 'create', 'admins', '--image', BUSYBOX], { env: admin })).code).toBe(0);
    const theirs = await runbox(['admins', 'true'], { env });
    expect(theirs.code).toBe(125);
    expect(theirs.stderr).toMatch(/environment admins belongs to kubernetes-admin, not to you .*--any-owner/);
    const mine = JSON.parse((await runbox(['list', '-o', 'json'], { env })).stdout) as unknown[];
    expect(mine).toEqual([]);
    const all = JSON.parse((await runbox(['list', '--all', '-o', 'json'], { env })).stdout) as { name: string }[];
    expect(all.map((e) => e.name)).toEqual(['admins']);
  });
});
