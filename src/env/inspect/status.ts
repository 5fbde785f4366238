import type { IdleRecord } from '../../contract/idle.ts';
import { ANNOTATION, LABEL_OWNER, WORKER } from '../../contract/names.ts';
import type { Deployment, Pod } from '../../kube/types.ts';
import { idleRecord } from '../idle/policy.ts';

/** dozing: running, its worker shrunk by the idle controller until the next command. */
export type EnvState = 'running' | 'dozing' | 'sleeping' | 'starting' | 'failing';

export interface EnvSummary {
  name: string;
  namespace: string;
  state: EnvState;
  /** Why it is failing or starting, from the kubelet or scheduler. */
  reason?: string | undefined;
  image: string;
  allocation: number;
  owner: string;
  pod?: string | undefined;
  lastActivity?: string | undefined;
  created?: string | undefined;
  /** When, why and by whom it was put to doze or sleep (the runbox.dev/idle record). */
  idle?: IdleRecord | undefined;
}

const FAILING_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export function isPodReady(pod: Pod): boolean {
  return !pod.metadata?.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a command can run in this container of the pod now: the worker
 * needs only to be running (a command never waits for the sidecar's
 * readiness probe); the sidecar must also be ready to serve.
 */
export function containerServes(pod: Pod, container: string): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const cs = pod.status?.containerStatuses?.find((c) => c.name === container);
  if (!cs?.state?.running) return false;
  return container === WORKER || cs.ready === true;
}

/** A reason the pod cannot become ready without a change, if there is one. */
export function podFailure(pod: Pod): { reason: string; message: string; container: string } | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const waiting = cs.state?.waiting;
    if (waiting?.reason && FAILING_REASONS.has(waiting.reason)) {
      return { reason: waiting.reason, message: waiting.message ?? waiting.reason, container: cs.name };
    }
  }
  return undefined;
}

/** Why a pod is not ready yet (scheduling, pulling), for progress and errors. */
/**
 * The scheduler's word when no node can take the pod as it is asked for (too
 * much CPU, memory or GPU, or a selector no node matches): waiting will not
 * help on a cluster of fixed size. Unbound volumes and the like pass.
 */
export function unschedulable(pod: Pod): string | undefined {
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched?.reason !== 'Unschedulable') return undefined;
  const message = sched.message ?? '';
  return /Insufficient |didn't match Pod's node affinity\/selector/.test(message) ? message : undefined;
}

export function podWaitingReason(pod: Pod): string | undefined {
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return sched.message ?? sched.reason ?? 'waiting to be scheduled';
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason) return `${cs.name}: ${w.reason}`;
  }
  return pod.status?.phase;
}

export function summarize(dep: Deployment, pods: Pod[]): EnvSummary {
  const name = dep.metadata?.name ?? '';
  const ann = dep.metadata?.annotations ?? {};
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  // Running means a command runs at once: the worker runs (the sidecar may still start).
  const ready = live.find((p) => containerServes(p, WORKER));
  const failing = live.map(podFailure).find((f) => f !== undefined);
  let state: EnvState;
  let reason: string | undefined;
  const idle = idleRecord(dep);
  if ((dep.spec?.replicas ?? 1) === 0) state = 'sleeping';
  else if (ready) state = idle?.state === 'dozing' ? 'dozing' : 'running';
  else if (failing) {
    state = 'failing';
    reason = `${failing.reason}: ${failing.message}`;
  } else {
    state = 'starting';
    reason = live[0] ? podWaitingReason(live[0]) : undefined;
  }
  const workerImage = dep.spec?.template?.spec?.containers?.find((c) => c.name === WORKER)?.image;
  return {
    name,
    namespace: dep.metadata?.namespace ?? '',
    state,
    reason,
    image: ann[ANNOTATION.image] ?? workerImage ?? '',
    allocation: Number(ann[ANNOTATION.allocation] ?? 1),
    owner: ann[ANNOTATION.owner] ?? dep.metadata?.labels?.[LABEL_OWNER] ?? '',
    pod: ready?.metadata?.name,
    lastActivity: ann[ANNOTATION.lastActivity],
    created: dep.metadata?.creationTimestamp ? new Date(dep.metadata.creationTimestamp).toISOString() : undefined,
    idle: idle && (idle.state === 'sleeping') === ((dep.spec?.replicas ?? 1) === 0) ? idle : undefined,
  };
}
