import { RunboxError } from '../../errors.ts';
import { collectionPath, type Resource } from '../../kube/paths.ts';
import type { KubeTarget } from '../../kube/target.ts';
import { waitFor } from '../../kube/watch.ts';

const DELETE_TIMEOUT_MS = 60_000;

/** Waits until an object is gone: level-triggered, so one already gone returns at once. */
export async function waitDeleted(kube: KubeTarget, resource: Resource, name: string, signal?: AbortSignal): Promise<void> {
  await waitFor<unknown, true>(kube, {
    path: collectionPath(resource, kube.namespace),
    query: { fieldSelector: `metadata.name=${name}` },
    timeoutMs: DELETE_TIMEOUT_MS,
    signal,
    onTimeout: () =>
      new RunboxError(`${name} is still being deleted after ${DELETE_TIMEOUT_MS / 1000} s; check kubectl get ${resource} ${name}`),
    decide: (phase) => (phase === 'DELETED' ? { done: true } : undefined),
    decideList: (items) => (items.length === 0 ? { done: true } : undefined),
  });
}
