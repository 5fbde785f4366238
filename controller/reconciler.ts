import { LABEL_ENV, SIDECAR, WORKER } from '../src/contract/names.ts';
import { ANNOTATION } from '../src/contract/names.ts';
import type { EnvDeps } from '../src/env/deps.ts';
import { idlePolicy, idleRecord, type PolicyDefaults } from '../src/env/idle/policy.ts';
import { containerServes } from '../src/env/inspect/status.ts';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import type { SnapshotRegistry } from '../src/env/snapshot/snapshot-env.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment, Pod } from '../src/kube/types.ts';
import type { Outcome } from './act.ts';
import { dozeEnv, endBoost, sleepIdleEnv, type SleepGate } from './act.ts';
import { decide, MIN_RECHECK_MS, type Decision } from './decide.ts';
import { recordEvent } from './events.ts';
import type { WorkQueue } from './queue.ts';
import type { SidecarClient, SidecarTarget } from './sidecar-client.ts';

/*
 * One reconcile of one environment, level-triggered: read the Deployment and
 * its pod from the informers' caches, decide (decide.ts), act, and ask to be
 * looked at again when the next threshold is due. Nothing is remembered
 * between reconciles, so a new leader picks up where the last one stopped.
 */

/** After a failure (sidecar unreachable, snapshot failed), the environment is looked at again this much later. */
export const RETRY_MS = 30_000;

export interface NamespaceSettings {
  defaults: PolicyDefaults;
  registry: SnapshotRegistry | undefined;
}

export interface Observer {
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  acted(action: 'doze' | 'sleep', outcome: 'done' | 'busy' | 'failed', seconds: number): void;
  snapshot(seconds: number, changed: boolean): void;
}

export interface ReconcilerDeps {
  kube: KubeTarget;
  deployment(key: string): Deployment | undefined;
  podsOf(namespace: string, env: string): Pod[];
  settings(namespace: string): Promise<NamespaceSettings>;
  sidecar: SidecarClient;
  queue: WorkQueue;
  observe: Observer;
  identity: string;
  /** Sleeps go through it, a few at a time (SLEEPS_AT_ONCE): each raises its sidecar, which the node must hold beside the rest. */
  snapshotGate: SleepGate;
  now(): Date;
  /** Cancelled when leadership is lost: no new action starts. */
  signal: AbortSignal;
}

export const envKey = (namespace: string, name: string) => `${namespace}/${name}`;

export async function reconcile(d: ReconcilerDeps, key: string): Promise<Decision | undefined> {
  if (d.signal.aborted) return undefined;
  const dep = d.deployment(key);
  if (!dep) {
    d.queue.forget(key);
    return undefined;
  }
  const namespace = dep.metadata?.namespace ?? '';
  const name = dep.metadata?.name ?? '';
  const settings = await d.settings(namespace);
  const pod = d.podsOf(namespace, name).find((p) => !p.metadata?.deletionTimestamp && containerServes(p, WORKER) && containerServes(p, SIDECAR));
  const ann = dep.metadata?.annotations ?? {};
  const lastActivity = new Date(ann[ANNOTATION.lastActivity] ?? dep.metadata?.creationTimestamp ?? d.now());
  const facts = {
    replicas: dep.spec?.replicas ?? 1,
    policy: idlePolicy(dep, settings.defaults),
    lastActivity: Number.isNaN(lastActivity.getTime()) ? d.now() : lastActivity,
    idle: idleRecord(dep),
    podReady: pod !== undefined,
    podReadySince: readySince(pod),
    now: d.now(),
  };
  let decision = decide(facts);
  const target: SidecarTarget | undefined = pod ? { namespace, pod: pod.metadata?.name ?? '', ip: pod.status?.podIP } : undefined;
  let status: SidecarStatus | undefined;
  if (decision.kind === 'ask' && target) {
    try {
      status = await d.sidecar.status(target);
      decision = decide({ ...facts, sidecar: status });
    } catch (err) {
      d.observe.log('warn', 'the sidecar did not answer', { env: key, error: (err as Error).message });
      d.queue.addAt(key, new Date(d.now().getTime() + RETRY_MS));
      return decision;
    }
  }
  if (decision.kind === 'wait') d.queue.addAt(key, decision.at);
  if ((decision.kind !== 'doze' && decision.kind !== 'sleep') || !pod || !target || d.signal.aborted) return decision;

  const started = Date.now();
  const envDeps = forNamespace(d, namespace);
  let outcome: Outcome;
  if (decision.kind === 'doze') {
    outcome = await dozeEnv(envDeps.kube, d.sidecar, { dep, pod, target, why: decision.why, now: d.now(), status }).catch((err: unknown) => ({ done: false as const, failed: err as Error }));
  } else {
    const slept = await sleepIdleEnv(envDeps, d.sidecar, { dep, pod, target, why: decision.why, registry: settings.registry, gate: d.snapshotGate });
    const s = slept.snapshot?.snapshot;
    if (s) d.observe.snapshot(s.seconds, s.changed);
    outcome = slept;
  }
  const seconds = (Date.now() - started) / 1000;
  const result = outcome.done ? 'done' : 'busy' in outcome ? 'busy' : 'failed';
  d.observe.acted(decision.kind, result, seconds);
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    recordEvent(envDeps.kube, dep, { type, reason, message, instance: d.identity, now: d.now() }).catch((err: unknown) =>
      d.observe.log('warn', 'recording an event failed', { env: key, error: (err as Error).message }),
    );
  if (outcome.done) {
    // Only once it dozes or sleeps: an environment that turned out busy keeps its boost.
    const boost = await endBoost(envDeps.kube, dep, facts.policy.boostFallback).catch((err: unknown) => {
      d.observe.log('warn', 'ending a boost failed', { env: key, error: (err as Error).message });
      return undefined;
    });
    const verb = decision.kind === 'doze' ? 'dozed' : 'slept';
    d.observe.log('info', `${verb} ${key}`, { env: key, why: decision.why, seconds, ...('detail' in outcome && outcome.detail ? { detail: outcome.detail } : {}) });
    const detail = [boost, 'detail' in outcome ? outcome.detail : undefined].filter(Boolean).map((x) => `; ${x}`).join('');
    await event('Normal', decision.kind === 'doze' ? 'Dozed' : 'Slept', `${verb} after ${decision.idleFor} idle (${decision.kind}-after ${decision.after})${detail}`);
  } else if ('busy' in outcome) {
    d.observe.log('info', `${key} became busy; not ${decision.kind === 'doze' ? 'dozing' : 'sleeping'}`, { env: key });
    d.queue.addAt(key, new Date(d.now().getTime() + MIN_RECHECK_MS));
  } else {
    d.observe.log('error', `${decision.kind} of ${key} failed`, { env: key, error: outcome.failed.message });
    await event('Warning', decision.kind === 'doze' ? 'DozeFailed' : 'SleepFailed', `${decision.kind} failed, retrying in ${RETRY_MS / 1000} s: ${outcome.failed.message}`);
    d.queue.addAt(key, new Date(d.now().getTime() + RETRY_MS));
  }
  return decision;
}

/** The operations shared with the CLI take a target whose namespace is the environment's. */
function forNamespace(d: ReconcilerDeps, namespace: string): EnvDeps {
  return {
    kube: { ...d.kube, namespace },
    clock: { now: d.now },
    progress: { step() {}, done() {}, fail() {} },
    signal: d.signal,
    notice: (message) => d.observe.log('info', message, { namespace }),
    debug: () => {},
  };
}


/** When the pod's Ready condition last turned true. */
function readySince(pod: Pod | undefined): Date | undefined {
  const ready = pod?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  return ready?.lastTransitionTime ? new Date(ready.lastTransitionTime) : undefined;
}
