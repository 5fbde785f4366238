import { RunboxError } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { Pod } from '../../kube/types.ts';
import { waitFor } from '../../kube/watch.ts';
import type { EnvDeps } from '../deps.ts';
import { envPodsQuery } from '../inspect/lookup.ts';

const STOP_TIMEOUT_MS = 60_000;

/** Scales to zero and waits until the Deployment reports no pods left. */
export async function sleepEnv(deps: EnvDeps, name: string): Promise<void> {
  const { kube } = deps;
  try {
    await callJson(kube, {
      method: 'PATCH',
      path: objectPath('deployments', kube.namespace, name, 'scale'),
      body: { spec: { replicas: 0 } },
      contentType: PATCH.merge,
    });
  } catch (err) {
    throw apiError(err, `scaling ${name} to 0`, kube.server);
  }
  // Done when no pod is left, terminating ones included: the volume is free, nothing runs.
  const left = new Set<string>();
  await waitFor<Pod, true>(kube, {
    path: collectionPath('pods', kube.namespace),
    query: envPodsQuery(name),
    timeoutMs: STOP_TIMEOUT_MS,
    signal: deps.signal,
    onTimeout: () => new RunboxError(`${name} still has pods ${STOP_TIMEOUT_MS / 1000} s after scaling to zero (${[...left].join(', ')})`),
    decideList: (items) => {
      left.clear();
      for (const p of items) left.add(p.metadata?.name ?? '');
      return left.size === 0 ? { done: true } : undefined;
    },
    decide: (phase, pod) => {
      const podName = pod.metadata?.name ?? '';
      if (phase === 'DELETED') left.delete(podName);
      else left.add(podName);
      return left.size === 0 ? { done: true } : undefined;
    },
  });
}
