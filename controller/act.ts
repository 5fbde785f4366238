import { DOZE_CPU, type IdleRecord } from '../src/contract/idle.ts';
import { ANNOTATION, WORKER } from '../src/contract/names.ts';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import { objectPath } from '../src/kube/paths.ts';
import { PATCH, callJson } from '../src/kube/rest.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment, Pod } from '../src/kube/types.ts';
import type { EnvDeps } from '../src/env/deps.ts';
import { cfsQuota } from '../src/env/resize/cgroup-wait.ts';
import { workerOf } from '../src/env/resize/resources-state.ts';
import type { SnapshotRegistry } from '../src/env/snapshot/snapshot-env.ts';
import { snapshotAndSleep, type SleepOutcome } from '../src/env/snapshot/sleep.ts';
import type { SidecarClient, SidecarTarget } from './sidecar-client.ts';

/*
 * The two things the controller does to an idle environment, each safe to
 * repeat: a doze (shrink the worker in place, then the sidecar's doze flag)
 * and a sleep (drain, snapshot, scale to zero, say why). Either backs off,
 * undoing its first step, as soon as the sidecar says something runs.
 */

export type Outcome = { done: true; detail?: string } | { done: false; busy: SidecarStatus } | { done: false; failed: Error };

const resizeWorkerCpu = (kube: KubeTarget, pod: string, cpu: string) =>
  callJson(kube, {
    method: 'PATCH',
    path: objectPath('pods', kube.namespace, pod, 'resize'),
    body: { spec: { containers: [{ name: WORKER, resources: { requests: { cpu }, limits: { cpu } } }] } },
    contentType: PATCH.strategic,
  });

const annotate = (kube: KubeTarget, name: string, record: IdleRecord) =>
  callJson(kube, {
    method: 'PATCH',
    path: objectPath('deployments', kube.namespace, name),
    body: { metadata: { annotations: { [ANNOTATION.idle]: JSON.stringify(record) } } },
    contentType: PATCH.merge,
  });

export async function dozeEnv(
  kube: KubeTarget,
  sidecar: SidecarClient,
  req: { dep: Deployment; pod: Pod; target: SidecarTarget; why: string; now: Date },
): Promise<Outcome> {
  const name = req.dep.metadata?.name ?? '';
  const podName = req.pod.metadata?.name ?? '';
  const before = (workerOf(req.pod.spec?.containers)?.resources?.limits as { cpu?: string } | undefined)?.cpu;
  if (before !== DOZE_CPU) await resizeWorkerCpu(kube, podName, DOZE_CPU);
  const raised = await sidecar.doze(req.target, cfsQuota(DOZE_CPU)).catch((err: unknown) => err as Error);
  if (raised !== true) {
    // Something started meanwhile (or the sidecar could not say): it gets its CPU back at once.
    if (before && before !== DOZE_CPU) await resizeWorkerCpu(kube, podName, before);
    return raised instanceof Error ? { done: false, failed: raised } : { done: false, busy: raised };
  }
  await annotate(kube, name, { state: 'dozing', at: req.now.toISOString(), why: req.why, by: 'controller' });
  return { done: true, detail: `worker CPU ${before ?? '?'} -> ${DOZE_CPU}` };
}

export async function sleepIdleEnv(
  deps: EnvDeps,
  sidecar: SidecarClient,
  req: { dep: Deployment; target: SidecarTarget; why: string; registry: SnapshotRegistry | undefined },
): Promise<Outcome & { snapshot?: SleepOutcome }> {
  const name = req.dep.metadata?.name ?? '';
  const drained = await sidecar.drain(req.target).catch((err: unknown) => err as Error);
  if (drained instanceof Error) return { done: false, failed: drained };
  if (drained !== true) return { done: false, busy: drained };
  try {
    const snapshot = await snapshotAndSleep(deps, {
      name,
      anyOwner: true,
      registry: req.registry,
      commands: [],
      record: { state: 'sleeping', at: deps.clock.now().toISOString(), why: req.why, by: 'controller' },
    });
    const s = snapshot.snapshot;
    const detail = s ? (s.changed ? `snapshot v${s.record.version}` : 'root filesystem unchanged since the last snapshot') : snapshot.skipped ? `no snapshot: ${snapshot.skipped}` : undefined;
    return { done: true, snapshot, ...(detail ? { detail } : {}) };
  } catch (err) {
    // No sleep without its snapshot: the environment stays up, and takes commands again.
    await sidecar.undrain(req.target).catch(() => {});
    return { done: false, failed: err as Error };
  }
}
