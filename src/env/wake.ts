import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { sameResources } from './allocation.ts';
import type { EnvDeps } from './deps.ts';
import {
  allocationAnnotations,
  recordedAllocation,
  workerOf,
  workerResources,
  type Allocation,
} from './resources-state.ts';
import { waitReady } from './wait-ready.ts';

/**
 * Scales a sleeping environment to one pod at its recorded allocation, or at
 * `to` (then recorded too), in one patch. No pod runs, so this is the moment to
 * bring the pod template up to date.
 */
export async function wakeEnv(
  kube: Kube,
  deps: EnvDeps,
  req: { dep: V1Deployment; to?: Allocation | undefined; timeoutMs: number },
): Promise<V1Pod> {
  const name = req.dep.metadata?.name ?? '';
  const { resources } = req.to ?? recordedAllocation(req.dep);
  const template = workerOf(req.dep.spec?.template?.spec?.containers)?.resources?.limits as
    | { cpu?: string; memory?: string }
    | undefined;
  const body = {
    ...(req.to ? { metadata: { annotations: allocationAnnotations(req.to) } } : {}),
    spec: sameResources(template, resources)
      ? { replicas: 1 }
      : { replicas: 1, template: { spec: { containers: [workerResources(resources)] } } },
  };
  deps.progress.step(`waking ${name}`);
  try {
    await kube.apps.patchNamespacedDeployment(
      { name, namespace: kube.target.namespace, body },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.StrategicMergePatch),
    );
  } catch (err) {
    throw apiError(err, `waking ${name}`, kube.target.server);
  }
  return waitReady(kube, name, { timeoutMs: req.timeoutMs, progress: deps.progress, signal: deps.signal });
}
