import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { RunboxError, httpStatusOf } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY } from './names.ts';

export async function readEnv(kube: Kube, name: string): Promise<V1Deployment> {
  let dep: V1Deployment;
  try {
    dep = await kube.apps.readNamespacedDeployment({ name, namespace: kube.target.namespace });
  } catch (err) {
    if (httpStatusOf(err) === 404) throw notFound(name, kube.target.namespace);
    throw apiError(err, `reading environment ${name}`, kube.target.server);
  }
  if (dep.metadata?.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
    throw new RunboxError(`deployment ${name} in namespace ${kube.target.namespace} is not a runbox environment`);
  }
  return dep;
}

export function notFound(name: string, namespace: string): RunboxError {
  return new RunboxError(`environment ${name} not found in namespace ${namespace}`, {
    hint: `create it with: runbox create ${name} --image IMAGE (or check -n/--context)`,
  });
}

export async function envPods(kube: Kube, name: string): Promise<V1Pod[]> {
  try {
    const list = await kube.core.listNamespacedPod({
      namespace: kube.target.namespace,
      labelSelector: `${LABEL_ENV}=${name}`,
    });
    return list.items;
  } catch (err) {
    throw apiError(err, `listing the pods of ${name}`, kube.target.server);
  }
}
