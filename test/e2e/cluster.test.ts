import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { execCapture } from './support/capture.ts';

// Proves the dev cluster is a real Kubernetes: the API server proxies exec to
// a real kubelet, the kubelet applies in-place resizes to real cgroups, and
// the default StorageClass provisions volumes that outlive their pods.

const LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
let kube: Kube;
let ns: string;

async function readyPod(): Promise<V1Pod> {
  return waitFor('a ready pod', 120_000, async () => {
    const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=box' });
    return pods.items.find(
      (p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  });
}

async function scale(replicas: number): Promise<void> {
  await kube.apps.patchNamespacedDeploymentScale(
    { name: 'box', namespace: ns, body: { spec: { replicas } } },
    kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.MergePatch),
  );
}

function resources(memory: string) {
  return { requests: { cpu: '100m', memory }, limits: { cpu: '100m', memory } };
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-cluster');
  kube = await devCluster(ns);
  await kube.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
  });
  await kube.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'box' },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { app: 'box' } },
        template: {
          metadata: { labels: { app: 'box' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'box',
                image: BUSYBOX,
                command: ['sleep', '86400'],
                resources: resources('128Mi'),
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
          },
        },
      },
    },
  });
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('dev cluster', () => {
  it('binds the PVC through the default StorageClass', async () => {
    const pvc = await waitFor('PVC bound', 60_000, async () => {
      const c = await kube.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
      return c.status?.phase === 'Bound' ? c : undefined;
    });
    expect(pvc.spec?.storageClassName).toBe('hostpath');
  });

  it('applies the memory limit to the container cgroup', async () => {
    const pod = await readyPod();
    const r = await execCapture(kube, pod.metadata!.name!, 'box', ['cat', LIMIT]);
    expect(r).toEqual({ code: 0, stdout: '134217728\n', stderr: '' });
  });

  it('resizes memory in place through the resize subresource', async () => {
    const pod = await readyPod();
    const name = pod.metadata!.name!;
    await kube.core.patchNamespacedPodResize(
      { name, namespace: ns, body: { spec: { containers: [{ name: 'box', resources: resources('256Mi') }] } } },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.StrategicMergePatch),
    );
    const resized = await waitFor('resize applied', 60_000, async () => {
      const p = await kube.core.readNamespacedPod({ name, namespace: ns });
      const pending = p.status?.conditions?.some((c) => c.type === 'PodResizePending' || c.type === 'PodResizeInProgress');
      const applied = p.status?.containerStatuses?.[0]?.resources?.limits?.memory === '256Mi';
      return applied && !pending ? p : undefined;
    });
    const r = await execCapture(kube, name, 'box', ['cat', LIMIT]);
    expect(r.stdout).toBe('268435456\n');
    expect(resized.metadata?.uid).toBe(pod.metadata?.uid);
    expect(resized.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });

  it('keeps the volume across scaling to zero and back', async () => {
    const before = await readyPod();
    const w = await execCapture(kube, before.metadata!.name!, 'box', ['sh', '-c', 'echo kept > /data/file']);
    expect(w.code).toBe(0);
    await scale(0);
    await waitFor('no pods', 60_000, async () => {
      const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=box' });
      return pods.items.length === 0;
    });
    await scale(1);
    const after = await readyPod();
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    const r = await execCapture(kube, after.metadata!.name!, 'box', ['cat', '/data/file']);
    expect(r.stdout).toBe('kept\n');
  });

  it('reports a command exit code through exec', async () => {
    const pod = await readyPod();
    const r = await execCapture(kube, pod.metadata!.name!, 'box', ['sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
  });
});
