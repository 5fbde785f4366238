import { RunboxError } from '../../errors.ts';
import { LABEL_ENV, WORKER } from '../../contract/names.ts';
import { collectionPath } from '../../kube/paths.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Pod } from '../../kube/types.ts';
import { waitFor, type Decision } from '../../kube/watch.ts';
import type { Progress } from '../deps.ts';
import { envPodsQuery } from '../inspect/lookup.ts';
import { containerServes, isPodReady, podFailure, podWaitingReason, unschedulable } from '../inspect/status.ts';

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** No node can take the environment's pod as it is asked for. */
export class NoCapacityError extends RunboxError {
  readonly scheduler: string;
  constructor(env: string, scheduler: string) {
    super(`no node can run ${env} at its size: ${scheduler.split(/\.\s/)[0]}`, {
      hint: `ask for less with: runbox resize ${env} UNITS`,
    });
    this.scheduler = scheduler;
  }
}

export interface WaitReadyOptions {
  timeoutMs: number;
  progress: Progress;
  signal?: AbortSignal | undefined;
  /** A pod being replaced: never the answer. */
  exclude?: string | undefined;
  /**
   * What the caller needs: one container able to serve (a command runs as soon
   * as the worker runs), or the whole pod ready (create).
   */
  until: { container: string } | 'pod-ready';
}

/**
 * Watches the environment's pods until one serves. An image that cannot be
 * pulled or a container that keeps crashing ends the wait at once, with the
 * kubelet's reason.
 */
export function waitReady(kube: KubeTarget, env: string, opts: WaitReadyOptions): Promise<Pod> {
  let lastReason = 'no pod yet';
  const serves = (pod: Pod) => (opts.until === 'pod-ready' ? isPodReady(pod) : containerServes(pod, opts.until.container));
  return waitFor<Pod, Pod>(kube, {
    path: collectionPath('pods', kube.namespace),
    query: envPodsQuery(env),
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    onTimeout: () =>
      new RunboxError(`environment ${env} did not become ready within ${Math.round(opts.timeoutMs / 1000)} s (${lastReason})`, {
        hint: `see kubectl describe pod -l ${LABEL_ENV}=${env}`,
      }),
    decide: (phase, pod): Decision<Pod> => {
      if (phase === 'DELETED' || pod.metadata?.deletionTimestamp || pod.metadata?.name === opts.exclude) return undefined;
      if (serves(pod)) return { done: pod };
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
      const noRoom = unschedulable(pod);
      if (noRoom) return { fail: new NoCapacityError(env, noRoom) };
      const reason = podWaitingReason(pod);
      if (reason && reason !== lastReason) {
        lastReason = reason;
        opts.progress.step(`${env}: ${reason}`);
      }
      return undefined;
    },
  });
}
