import { RunboxError, httpStatusOf } from '../../errors.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY } from '../../contract/names.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath, withQuery } from '../../kube/paths.ts';
import { callJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Deployment, List, Pod } from '../../kube/types.ts';

/* The reads every command starts with. */

export async function readEnv(kube: KubeTarget, name: string): Promise<Deployment> {
  let dep: Deployment;
  try {
    dep = await callJson<Deployment>(kube, { method: 'GET', path: objectPath('deployments', kube.namespace, name) });
  } catch (err) {
    if (httpStatusOf(err) === 404) throw notFound(name, kube.namespace, err);
    throw apiError(err, `reading environment ${name}`, kube.server);
  }
  if (dep.metadata?.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
    throw new RunboxError(`deployment ${name} in namespace ${kube.namespace} is not a runbox environment`);
  }
  return dep;
}

function notFound(name: string, namespace: string, cause: unknown): RunboxError {
  return new RunboxError(`environment ${name} not found in namespace ${namespace}`, {
    cause,
    hint: `create it with: runbox create ${name} --image IMAGE (or check -n/--context)`,
  });
}

export const envPodsQuery = (name: string) => ({ labelSelector: `${LABEL_ENV}=${name}` });

export async function envPods(kube: KubeTarget, name: string): Promise<Pod[]> {
  try {
    const path = withQuery(collectionPath('pods', kube.namespace), envPodsQuery(name));
    return (await callJson<List<Pod>>(kube, { method: 'GET', path })).items;
  } catch (err) {
    throw apiError(err, `listing the pods of ${name}`, kube.server);
  }
}
