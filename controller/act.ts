import { DOZE_CPU, DOZE_MEMORY_MIN, type IdleRecord } from '../src/contract/idle.ts';
import { ANNOTATION, SIDECAR, WORKER } from '../src/contract/names.ts';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import { objectPath } from '../src/kube/paths.ts';
import { PATCH, callJson } from '../src/kube/rest.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment, Pod } from '../src/kube/types.ts';
import type { EnvDeps } from '../src/env/deps.ts';
import { cfsQuota } from '../src/env/resize/cgroup-wait.ts';
import { allocationAnnotations, baselineAllocation, recordedAllocation, workerOf } from '../src/env/resize/resources-state.ts';
import type { SnapshotRegistry } from '../src/env/snapshot/snapshot-env.ts';
import { SIDECAR_RESOURCES } from '../src/env/lifecycle/sidecar.ts';
import { sleepAfterSnapshot, snapshotBeforeSleep, type SleepOutcome } from '../src/env/snapshot/sleep.ts';
import { dozeMemory } from './doze-memory.ts';
import type { NotApplied, SidecarClient, SidecarTarget } from './sidecar-client.ts';

/*
 * The two things the controller does to an idle environment, each safe to
 * repeat: a doze (shrink the worker in place, then the sidecar's doze flag)
 * and a sleep (drain, snapshot, scale to zero, say why). Either backs off,
 * undoing its first step, as soon as the sidecar says something runs.
 */

export type Outcome = { done: true; detail?: string } | { done: false; busy: SidecarStatus } | { done: false; failed: Error };

type Resources = { cpu?: string; memory?: string };

/** One in-place resize of the containers named (requests equal limits: the QoS class stays). */
const resizeIn = (kube: KubeTarget, pod: string, to: { [WORKER]?: Resources; [SIDECAR]?: Resources }) =>
  callJson(kube, {
    method: 'PATCH',
    path: objectPath('pods', kube.namespace, pod, 'resize'),
    body: { spec: { containers: Object.entries(to).map(([name, r]) => ({ name, resources: { requests: r, limits: r } })) } },
    contentType: PATCH.strategic,
  });

const annotate = (kube: KubeTarget, name: string, record: IdleRecord) =>
  callJson(kube, {
    method: 'PATCH',
    path: objectPath('deployments', kube.namespace, name),
    body: { metadata: { annotations: { [ANNOTATION.idle]: JSON.stringify(record) } } },
    contentType: PATCH.merge,
  });

/**
 * With boost fallback on: an environment boosted above its baseline (`-a` on
 * a command stays for later ones) gets its baseline recorded again, so the
 * command that ends its doze, or the wake that ends its sleep, runs at the
 * baseline. Says what it did, for the Event; nothing to do is undefined.
 */
export async function endBoost(kube: KubeTarget, dep: Deployment, on: boolean): Promise<string | undefined> {
  const base = on ? baselineAllocation(dep) : undefined;
  const now = recordedAllocation(dep);
  if (!base || now.units <= base.units) return undefined;
  await callJson(kube, {
    method: 'PATCH',
    path: objectPath('deployments', kube.namespace, dep.metadata?.name ?? ''),
    body: { metadata: { annotations: allocationAnnotations(base) } },
    contentType: PATCH.merge,
  });
  return `boost to ${now.units} units ended, back to ${base.units}`;
}

export async function dozeEnv(
  kube: KubeTarget,
  sidecar: SidecarClient,
  req: { dep: Deployment; pod: Pod; target: SidecarTarget; why: string; now: Date; status?: SidecarStatus | undefined },
): Promise<Outcome> {
  const name = req.dep.metadata?.name ?? '';
  const podName = req.pod.metadata?.name ?? '';
  // The environment's size is the recorded one, not the pod's: an earlier attempt that failed after
  // its resize (the annotation not written) left the pod shrunk, and the next one must neither report
  // "25m -> 25m" nor give back 25m.
  const before: Resources = recordedAllocation(req.dep).resources;
  let memory = before.memory && req.status?.memory ? dozeMemory({ limit: before.memory, sidecarLimit: SIDECAR_RESOURCES.memory, usage: req.status.memory, floor: DOZE_MEMORY_MIN }) : undefined;
  const shrink = async (to: Resources): Promise<true | SidecarStatus | NotApplied | Error> => {
    if (to.cpu !== before.cpu || to.memory !== before.memory) await resizeIn(kube, podName, { [WORKER]: to });
    return sidecar.doze(req.target, cfsQuota(DOZE_CPU)).catch((err: unknown) => err as Error);
  };
  let raised = await shrink({ cpu: DOZE_CPU, memory: memory ?? before.memory });
  if (memory && isNotApplied(raised)) {
    // The kubelet found more in use than the sidecar did a moment ago, and refused the whole
    // resize: the worker keeps its memory and dozes on CPU alone.
    memory = undefined;
    raised = await shrink({ cpu: DOZE_CPU, memory: before.memory });
  }
  if (raised !== true) {
    // Something started meanwhile (or the sidecar could not say): it gets its CPU back at once.
    if (before.cpu && before.memory) await resizeIn(kube, podName, { [WORKER]: { cpu: before.cpu, memory: before.memory } });
    if (raised instanceof Error) return { done: false, failed: raised };
    if (isNotApplied(raised)) return { done: false, failed: new Error(`the worker's CPU quota stayed ${raised.applied ?? 'unreadable'}: the kubelet did not apply the shrink`) };
    return { done: false, busy: raised };
  }
  await annotate(kube, name, { state: 'dozing', at: req.now.toISOString(), why: req.why, by: 'controller' });
  const used = mib(req.status?.memory?.worker);
  const mem = memory ? `memory ${before.memory ?? '?'} -> ${memory} (${used} in use)` : `memory stays ${before.memory ?? '?'} (${used} in use)`;
  return { done: true, detail: `worker CPU ${before.cpu ?? '?'} -> ${DOZE_CPU}, ${mem}` };
}

const isNotApplied = (a: unknown): a is NotApplied => typeof a === 'object' && a !== null && 'applied' in a;
const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${Math.round(bytes / (1024 * 1024))} MiB`);

/**
 * The sidecar's CPU for a snapshot before a sleep, and how many sleeps run at
 * once. Environments that went idle together are due together, and most
 * sleeps only check that nothing changed: in that check the kubelet's resize,
 * the exec and Node's start-up weigh more than the CPU, so several at a
 * quarter of a CPU put them to sleep sooner than one at a time with more. A
 * sleep that starts alone gets half a CPU, as a real snapshot (packages
 * installed) wants it. What they ask of the node beyond what they give back
 * (the worker goes to 25m) stays under 800m, which a node full of running
 * environments can mostly find; a resize beyond it is deferred by the kubelet
 * until a pod has gone, and that snapshot crawls at the sidecar's resting 50m
 * meanwhile.
 */
export const sidecarForSleep = (sleeping: number): string => (sleeping <= 1 ? '500m' : '250m');
export const SLEEPS_AT_ONCE = 3;

/** Runs a sleep's drain and snapshot when a slot is free, telling it how many run now, itself included. */
export type SleepGate = <T>(work: (running: number) => Promise<T>) => Promise<T>;

export async function sleepIdleEnv(
  deps: EnvDeps,
  sidecar: SidecarClient,
  req: { dep: Deployment; pod: Pod; target: SidecarTarget; why: string; registry: SnapshotRegistry | undefined; gate: SleepGate },
): Promise<Outcome & { snapshot?: SleepOutcome }> {
  const name = req.dep.metadata?.name ?? '';
  const sleep = {
    name,
    anyOwner: true,
    registry: req.registry,
    commands: [],
    record: { state: 'sleeping' as const, at: deps.clock.now().toISOString(), why: req.why, by: 'controller' },
    working: 'given' as const,
  };
  const podName = req.pod.metadata?.name ?? '';
  // A few drains and snapshots at a time (SLEEPS_AT_ONCE), as each raises a sidecar; the drain is inside the gate, so that it cannot lapse while it waits its turn.
  const first = await req.gate(async (sleeping): Promise<(Outcome & { snapshot?: SleepOutcome }) | SleepOutcome> => {
    const drained = await sidecar.drain(req.target).catch((err: unknown) => err as Error);
    if (drained instanceof Error) return { done: false, failed: drained };
    if (drained !== true) return { done: false, busy: drained };
    try {
      // Nothing runs any more: the worker's CPU goes to the snapshot, in one resize (the kubelet
      // takes a second one after a pause), and nothing is lowered after it: the pod goes.
      await resizeIn(deps.kube, podName, { [WORKER]: { cpu: DOZE_CPU }, [SIDECAR]: { cpu: sidecarForSleep(sleeping) } }).catch(() => undefined);
      return await snapshotBeforeSleep(deps, sleep);
    } catch (err) {
      // No sleep without its snapshot: the environment stays up, and takes commands again.
      await sidecar.undrain(req.target).catch(() => {});
      await resizeIn(deps.kube, podName, { [WORKER]: { cpu: workerCpu(req.dep, req.pod) }, [SIDECAR]: { cpu: SIDECAR_RESOURCES.cpu } }).catch(() => {});
      return { done: false, failed: err as Error };
    }
  });
  if ('done' in first) return first;
  try {
    await sleepAfterSnapshot(deps, sleep);
  } catch (err) {
    return { done: false, failed: err as Error };
  }
  const s = first.snapshot;
  const detail = s ? (s.changed ? `snapshot v${s.record.version}` : 'root filesystem unchanged since the last snapshot') : first.skipped ? `no snapshot: ${first.skipped}` : undefined;
  return { done: true, snapshot: first, ...(detail ? { detail } : {}) };
}

/** The worker's CPU as the pod had it before the sleep began. */
const workerCpu = (dep: Deployment, pod: Pod): string =>
  (workerOf(pod.spec?.containers)?.resources?.limits as { cpu?: string } | undefined)?.cpu ?? recordedAllocation(dep).resources.cpu;
