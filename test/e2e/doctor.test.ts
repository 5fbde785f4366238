import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import {
  KUBECONFIG,
  REGISTRY,
  REPO_ROOT,
  createNamespace,
  deleteNamespace,
  devCluster,
  nodeImage,
  serviceAccountKubeconfig,
  waitFor,
} from './support/cluster.ts';
import { kubectl, laptopEnv, runbox, startRunbox, type CliResult } from './support/cli.ts';

// runbox doctor against the dev cluster: every check passes for the admin; a
// role without pods/exec fails and says which verbs and how to bind the role;
// the Node image check leaves no Deployment behind, pass or fail.

let kube: Kube;
let ns: string;
const admin = () => laptopEnv();
const doctor = (args: string[], env: NodeJS.ProcessEnv = admin()) => runbox(['-n', ns, 'doctor', ...args], { env });

interface CheckJson {
  check: string;
  ok: boolean;
  detail: string;
  hint?: string;
  warning?: boolean;
}

const lines = (r: CliResult) => r.stdout.trimEnd().split('\n');

async function doctorDeployments(): Promise<string[]> {
  const list = await kube.apps.listNamespacedDeployment({ namespace: ns });
  return list.items.map((d) => d.metadata?.name ?? '').filter((n) => n.startsWith('runbox-doctor-'));
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-doctor');
  const applied = await kubectl(['apply', '-f', join(REPO_ROOT, 'manifests', 'user-role.yaml')]);
  expect(applied.code, applied.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('runbox doctor', () => {
  it('passes every check for the admin in a fresh namespace and leaves nothing behind', async () => {
    const r = await doctor([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(lines(r)).toEqual([
      expect.stringMatching(/^✓ API server https:\/\/\S+ \(Kubernetes v1\.34\.4\)$/),
      '✓ in-place resize available (pods/resize)',
      '✓ default StorageClass hostpath',
      `✓ permissions: all 25 verbs runbox needs in namespace ${ns}`,
      expect.stringMatching(new RegExp(`^✓ Node image ${nodeImage().replaceAll('.', '\\.')} runs on node \\S+$`)),
      expect.stringMatching(/^✓ idle controller running \(leader runbox-controller-\S+, renewed \d+ s ago\)$/),
    ]);
    expect(await doctorDeployments()).toEqual([]);
  });

  it('-o json gives one object per check, all ok', async () => {
    const r = await doctor(['-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const checks = JSON.parse(r.stdout) as CheckJson[];
    expect(checks.map((c) => c.check)).toEqual(['api-server', 'in-place-resize', 'storage-class', 'permissions', 'node-image', 'controller']);
    for (const c of checks) {
      expect(c, JSON.stringify(c)).toMatchObject({ ok: true, detail: expect.any(String) });
      expect(c.warning).toBeUndefined();
    }
    expect(checks[0]?.detail).toMatch(/Kubernetes v1\.34\.4/);
    expect(await doctorDeployments()).toEqual([]);
  });

  it('names the verbs a role without pods/exec lacks and how to bind runbox-user', async () => {
    const role = load(readFileSync(join(REPO_ROOT, 'manifests', 'user-role.yaml'), 'utf8')) as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const rules = role.rules.filter((rule) => !rule.resources.includes('pods/exec'));
    expect(rules.length).toBe(role.rules.length - 1);
    await kube.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'no-exec' } } });
    const rbac = kube.config.makeApiClient(kube.lib.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'runbox-user-no-exec' }, rules } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'no-exec' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'runbox-user-no-exec' },
        subjects: [{ kind: 'ServiceAccount', name: 'no-exec', namespace: ns }],
      },
    });
    const env = laptopEnv({ KUBECONFIG: await serviceAccountKubeconfig(kube, ns, 'no-exec') });
    const r = await doctor([], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const denied = lines(r).filter((l) => l.startsWith('✗ '));
    expect(denied, r.stdout).toEqual([
      `✗ not allowed in namespace ${ns}: get pods/exec, create pods/exec — bind the runbox-user role: ` +
        `kubectl create rolebinding runbox-no-exec --clusterrole runbox-user --serviceaccount ${ns}:no-exec -n ${ns} (see manifests/)`,
    ]);
    // Everything else it may do, so the other checks still pass.
    expect(lines(r).filter((l) => l.startsWith('✓ ')).length, r.stdout).toBe(5);

    const json = JSON.parse((await doctor(['-o', 'json'], env)).stdout) as CheckJson[];
    expect(json.find((c) => c.check === 'permissions')).toMatchObject({ ok: false, hint: expect.stringContaining('runbox-user') });
    expect(await doctorDeployments()).toEqual([]);
  });

  it('fails on a Node image the nodes cannot pull, with the kubelet reason, and deletes its Deployment', async () => {
    const image = `${REGISTRY}/runbox-test/does-not-exist:1`;
    const started = Date.now();
    const r = await doctor([], laptopEnv({ RUNBOX_NODE_IMAGE: image }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const failed = lines(r).filter((l) => !l.startsWith('✓ '));
    expect(failed.length, r.stdout).toBe(1);
    expect(failed[0]).toMatch(
      new RegExp(
        `^✗ Node image ${image.replaceAll('.', '\\.')} cannot be pulled \\((ErrImagePull|ImagePullBackOff)\\): .+ — ` +
          'set a Node 24 image the nodes can pull: runbox config set node-image IMAGE --cluster$',
      ),
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await doctorDeployments()).toEqual([]);
  });

  it('deletes its Deployment when interrupted', async () => {
    // A registry nobody answers: the pull hangs, so the check is still waiting when Ctrl-C comes.
    const started = startRunbox(['-n', ns, 'doctor'], { env: laptopEnv({ RUNBOX_NODE_IMAGE: '10.255.255.1:5000/runbox-test/node:24' }) });
    await waitFor('the check\'s Deployment', 30_000, async () => (await doctorDeployments()).length === 1);
    process.kill(started.pid, 'SIGINT');
    const r = await started.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(r.stderr).toMatch(/runbox: interrupted/);
    expect(await doctorDeployments()).toEqual([]);
  });

  it('stops at an API server it cannot reach', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'runbox-kc-')), 'config');
    writeFileSync(file, readFileSync(KUBECONFIG, 'utf8').replace(/server: .*/, 'server: https://127.0.0.1:59999'));
    const r = await doctor([], laptopEnv({ KUBECONFIG: file }));
    expect(r.code).toBe(1);
    expect(lines(r)).toEqual([expect.stringMatching(/^✗ cannot reach the API server at https:\/\/127\.0\.0\.1:59999 .*ECONNREFUSED.* — check that the cluster is running/)]);
  });
});
