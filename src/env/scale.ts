import type { V1Deployment } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { waitFor } from '../kube/watch.ts';
import { RunboxError } from '../errors.ts';

async function setReplicas(kube: Kube, name: string, replicas: number): Promise<void> {
  try {
    await kube.apps.patchNamespacedDeploymentScale(
      { name, namespace: kube.target.namespace, body: { spec: { replicas } } },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.MergePatch),
    );
  } catch (err) {
    throw apiError(err, `scaling ${name} to ${replicas}`, kube.target.server);
  }
}

/** Scales to zero and waits until the Deployment reports no pods left. */
export async function sleepEnv(kube: Kube, name: string, timeoutMs = 60_000): Promise<void> {
  await setReplicas(kube, name, 0);
  await waitFor<V1Deployment, true>(kube, {
    path: `/apis/apps/v1/namespaces/${kube.target.namespace}/deployments`,
    query: { fieldSelector: `metadata.name=${name}` },
    timeoutMs,
    onTimeout: () => new RunboxError(`${name} still has pods ${timeoutMs / 1000} s after scaling to zero`),
    decide: (phase, dep) => {
      if (phase === 'DELETED') return { done: true };
      const s = dep.status;
      const gone = (dep.metadata?.generation ?? 0) <= (s?.observedGeneration ?? 0) && !s?.replicas;
      return gone ? { done: true } : undefined;
    },
  });
}
