import type { V1Pod } from '@kubernetes/client-node';
import { RunboxError } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { waitFor } from '../kube/watch.ts';
import type { Progress } from './deps.ts';
import { LABEL_ENV, WORKER } from './names.ts';
import { isPodReady, podFailure, podWaitingReason } from './status.ts';

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/**
 * Watches the environment's pods until one has both containers ready. An image
 * that cannot be pulled or a container that keeps crashing ends the wait at
 * once, with the kubelet's reason.
 */
export function waitReady(
  kube: Kube,
  env: string,
  opts: { timeoutMs: number; progress: Progress; signal?: AbortSignal | undefined; exclude?: string },
): Promise<V1Pod> {
  let lastReason = 'no pod yet';
  return waitFor<V1Pod, V1Pod>(kube, {
    path: `/api/v1/namespaces/${kube.target.namespace}/pods`,
    query: { labelSelector: `${LABEL_ENV}=${env}` },
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    onTimeout: () =>
      new RunboxError(`environment ${env} did not become ready within ${Math.round(opts.timeoutMs / 1000)} s (${lastReason})`, {
        hint: `see kubectl describe pod -l ${LABEL_ENV}=${env}`,
      }),
    decide: (phase, pod) => {
      if (phase === 'DELETED' || pod.metadata?.deletionTimestamp || pod.metadata?.name === opts.exclude) return undefined;
      if (isPodReady(pod)) return { done: pod };
      const failure = podFailure(pod);
      if (failure && PULL_FAILURES.has(failure.reason)) {
        const image = pod.spec?.containers.find((c) => c.name === failure.container)?.image ?? '?';
        const what = failure.container === WORKER ? 'image' : `${failure.container} image`;
        return {
          fail: new RunboxError(`${what} ${image} cannot be pulled (${failure.reason}): ${failure.message}`, {
            hint: 'check the image name and that the cluster can reach its registry',
          }),
        };
      }
      if (failure) {
        return {
          fail: new RunboxError(`container ${failure.container} of ${env} cannot start (${failure.reason}): ${failure.message}`),
        };
      }
      const reason = podWaitingReason(pod);
      if (reason && reason !== lastReason) {
        lastReason = reason;
        opts.progress.step(`${env}: ${reason}`);
      }
      return undefined;
    },
  });
}
