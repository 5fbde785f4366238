import type { V1Deployment, V1Pod, V1PodList } from '@kubernetes/client-node';
import { RunboxError, httpStatusOf } from '../errors.ts';
import { apiError } from '../kube/api-error.ts';
import { callJson } from '../kube/rest.ts';
import type { KubeTarget } from '../kube/target.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY } from './names.ts';

/*
 * The reads every command starts with, as plain JSON calls: a command that
 * finds its environment ready never has to load the typed client.
 */

const ns = (t: KubeTarget) => encodeURIComponent(t.namespace);

export async function readEnv(target: KubeTarget, name: string): Promise<V1Deployment> {
  let dep: V1Deployment;
  try {
    dep = await callJson<V1Deployment>(target, {
      method: 'GET',
      path: `/apis/apps/v1/namespaces/${ns(target)}/deployments/${encodeURIComponent(name)}`,
    });
  } catch (err) {
    if (httpStatusOf(err) === 404) throw notFound(name, target.namespace);
    throw apiError(err, `reading environment ${name}`, target.server);
  }
  if (dep.metadata?.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
    throw new RunboxError(`deployment ${name} in namespace ${target.namespace} is not a runbox environment`);
  }
  return dep;
}

function notFound(name: string, namespace: string): RunboxError {
  return new RunboxError(`environment ${name} not found in namespace ${namespace}`, {
    hint: `create it with: runbox create ${name} --image IMAGE (or check -n/--context)`,
  });
}

export async function envPods(target: KubeTarget, name: string): Promise<V1Pod[]> {
  try {
    const selector = encodeURIComponent(`${LABEL_ENV}=${name}`);
    const list = await callJson<V1PodList>(target, {
      method: 'GET',
      path: `/api/v1/namespaces/${ns(target)}/pods?labelSelector=${selector}`,
    });
    return list.items;
  } catch (err) {
    throw apiError(err, `listing the pods of ${name}`, target.server);
  }
}
