import { LABEL_MANAGED_BY, MANAGED_BY } from '../../contract/names.ts';
import type { Deployment, Pod } from '../../kube/types.ts';
import type { Decision, WatchPhase } from '../../kube/watch.ts';
import { podFailure, podWaitingReason, unschedulable } from '../inspect/status.ts';
import { fail, pass, type CheckResult } from './checks.ts';

/*
 * Check 5: can the nodes pull the Node image and run node in it? A
 * throwaway Deployment (runbox-user may create Deployments, not bare pods)
 * whose one container idles in node; its pod tells.
 */

/** On everything the check creates. */
export const LABEL_DOCTOR = 'runbox.dev/doctor';
/** On the pod template and selector: this run's pods only. */
export const LABEL_DOCTOR_RUN = 'runbox.dev/doctor-run';
export const PROBE_CONTAINER = 'node';
export const PROBE_TIMEOUT_MS = 90_000;
const PROBE_RESOURCES = { cpu: '10m', memory: '32Mi' };

export const probeName = (runId: string): string => `runbox-doctor-${runId}`;
export const probePodsQuery = (runId: string) => ({ labelSelector: `${LABEL_DOCTOR_RUN}=${runId}` });

export function probeDeployment(runId: string, image: string): Deployment {
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_DOCTOR]: 'true' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: probeName(runId), labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { [LABEL_DOCTOR_RUN]: runId } },
      template: {
        metadata: { labels: { ...labels, [LABEL_DOCTOR_RUN]: runId } },
        spec: {
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          containers: [
            {
              name: PROBE_CONTAINER,
              image,
              command: ['node', '-e', 'setTimeout(()=>{},600000)'],
              resources: { requests: PROBE_RESOURCES, limits: PROBE_RESOURCES },
            },
          ],
        },
      },
    },
  };
}

export type ProbeOutcome =
  | { kind: 'runs'; node: string }
  | { kind: 'cannot-pull'; reason: string; message: string }
  | { kind: 'cannot-run'; reason: string; message: string }
  | { kind: 'unschedulable'; message: string };

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/** Decides on each of the probe's pods: node runs, or it cannot (the kubelet's or scheduler's word), or wait. */
export function probeDecision(phase: WatchPhase, pod: Pod): Decision<ProbeOutcome> {
  if (phase === 'DELETED' || pod.metadata?.deletionTimestamp) return undefined;
  const status = pod.status?.containerStatuses?.find((c) => c.name === PROBE_CONTAINER);
  if (status?.state?.running) return { done: { kind: 'runs', node: pod.spec?.nodeName ?? '?' } };
  const failure = podFailure(pod);
  if (failure) {
    return { done: { kind: PULL_FAILURES.has(failure.reason) ? 'cannot-pull' : 'cannot-run', reason: failure.reason, message: failure.message } };
  }
  // A container that ran and stopped: node is there but could not stay up.
  const terminated = status?.state?.terminated ?? status?.lastState?.terminated;
  if (terminated) {
    const reason = terminated.reason ?? `exit code ${terminated.exitCode}`;
    return { done: { kind: 'cannot-run', reason, message: terminated.message ?? reason } };
  }
  const noRoom = unschedulable(pod);
  if (noRoom) return { done: { kind: 'unschedulable', message: noRoom } };
  return undefined;
}

/** Why the probe's pod is not running yet, for progress and the timeout. */
export const probeWaiting = (pod: Pod): string | undefined => podWaitingReason(pod);

const NODE_IMAGE_HINT = 'set a Node 24 image the nodes can pull: runbox config set node-image IMAGE --cluster';

export function nodeImageCheck(image: string, outcome: ProbeOutcome): CheckResult {
  switch (outcome.kind) {
    case 'runs':
      return pass('node-image', `Node image ${image} runs on node ${outcome.node}`);
    case 'cannot-pull':
      return fail('node-image', `Node image ${image} cannot be pulled (${outcome.reason}): ${outcome.message}`, NODE_IMAGE_HINT);
    case 'cannot-run':
      return fail(
        'node-image',
        `Node image ${image} cannot run node (${outcome.reason}): ${outcome.message}`,
        'set a Node 24 image with node on its PATH: runbox config set node-image IMAGE --cluster',
      );
    case 'unschedulable':
      return fail(
        'node-image',
        `no node can run a pod of ${PROBE_RESOURCES.cpu} CPU and ${PROBE_RESOURCES.memory} to check the Node image ${image}: ${outcome.message}`,
        'check that the namespace can schedule pods (kubectl describe nodes)',
      );
    default:
      return ((o: never) => o)(outcome);
  }
}

/** The Node image check when its pod did not run within the time. */
export function nodeImageTimeout(image: string, seconds: number, lastReason: string): CheckResult {
  return fail(
    'node-image',
    `Node image ${image}: node did not start within ${seconds} s (${lastReason})`,
    'if the pull is slow, run runbox doctor again; otherwise see kubectl get events',
  );
}
