import { collectionPath } from '../src/kube/paths.ts';
import { callJson } from '../src/kube/rest.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment } from '../src/kube/types.ts';

export const COMPONENT = 'runbox-controller';

/** A Kubernetes Event on the environment's Deployment, so that `kubectl describe` says what happened and why. */
export async function recordEvent(
  kube: KubeTarget,
  dep: Deployment,
  e: { type: 'Normal' | 'Warning'; reason: string; message: string; instance: string; now: Date },
): Promise<void> {
  const namespace = dep.metadata?.namespace ?? 'default';
  const name = dep.metadata?.name ?? '';
  const time = e.now.toISOString();
  await callJson(kube, {
    method: 'POST',
    path: collectionPath('events', namespace),
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${name}.`, namespace },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace, uid: dep.metadata?.uid, resourceVersion: dep.metadata?.resourceVersion },
      type: e.type,
      reason: e.reason,
      message: e.message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: e.instance,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    },
  });
}
