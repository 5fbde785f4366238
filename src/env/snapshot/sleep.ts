import type { IdleRecord } from '../../contract/idle.ts';
import { ANNOTATION, SIDECAR, WORKER } from '../../contract/names.ts';
import type { SnapshotAnswer } from '../../contract/snapshot.ts';
import { apiError } from '../../kube/api-error.ts';
import { objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { Deployment } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { envPods } from '../inspect/lookup.ts';
import { containerServes } from '../inspect/status.ts';
import { sleepEnv } from '../lifecycle/stop.ts';
import { nextStartPatch, rollbackVersion } from './records.ts';
import { snapshotEnv, type SnapshotRegistry } from './snapshot-env.ts';

/*
 * Putting an environment to sleep without losing its root filesystem:
 * snapshot first (a failed snapshot stops the stop), then scale to zero,
 * then, with no pod left, put the version the next start runs into the pod
 * template.
 */

export interface SleepRequest {
  name: string;
  anyOwner: boolean;
  /** Unset: snapshots are off (no registry configured). */
  registry: SnapshotRegistry | undefined;
  commands: string[];
  /** Why it sleeps, written with the last patch (see contract/idle.ts). */
  record?: IdleRecord | undefined;
  /** What the sidecar gets while it snapshots (default SIDECAR_WORKING; 'given': the caller raised it already). */
  working?: { cpu: string; memory: string } | 'given' | undefined;
}

export interface SleepOutcome {
  snapshot?: SnapshotAnswer | undefined;
  /** Why no snapshot was taken, when that is worth saying. */
  skipped?: string | undefined;
}

export async function snapshotAndSleep(deps: EnvDeps, req: SleepRequest): Promise<SleepOutcome> {
  const outcome = await snapshotBeforeSleep(deps, req);
  await sleepAfterSnapshot(deps, req);
  return outcome;
}

/** The first half: the snapshot, unless snapshots are off or a rollback is pending. A failure throws: no sleep then. */
export async function snapshotBeforeSleep(deps: EnvDeps, req: SleepRequest): Promise<SleepOutcome> {
  const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
  const pending = rollbackVersion(dep);
  if (!req.registry) return { skipped: 'snapshots are off: no registry-push in the cluster config' };
  if (pending !== undefined) return { skipped: `a rollback to v${pending} is pending: changes since the last snapshot are dropped` };
  const pod = (await envPods(deps.kube, req.name)).find((p) => containerServes(p, SIDECAR) && containerServes(p, WORKER));
  if (!pod) return {};
  return { snapshot: await snapshotEnv(deps, { dep, pod: pod.metadata?.name ?? '', registry: req.registry, commands: req.commands, squash: false, working: req.working }) };
}

/** The second half: scale to zero, then (no pod left) the version the next start runs, and the idle record. */
export async function sleepAfterSnapshot(deps: EnvDeps, req: SleepRequest): Promise<void> {
  deps.progress.step(`stopping ${req.name}`);
  await sleepEnv(deps, req.name);
  await applyNextStart(deps, await readOwnEnv(deps.kube, req.name, true), req.record);
}

/** Only while no pod runs: a template change then starts nothing. The idle record comes last: a waiting command takes it as the end of the sleep. */
async function applyNextStart(deps: EnvDeps, dep: Deployment, record: IdleRecord | undefined): Promise<void> {
  const next = nextStartPatch(dep, deps.clock.now());
  const change = record ? { ...next, annotations: { ...next?.annotations, [ANNOTATION.idle]: JSON.stringify(record) } } : next;
  if (!change) return;
  const name = dep.metadata?.name ?? '';
  try {
    await callJson(deps.kube, {
      method: 'PATCH',
      path: objectPath('deployments', deps.kube.namespace, name),
      body: {
        ...(change.annotations ? { metadata: { annotations: change.annotations } } : {}),
        ...(change.image ? { spec: { template: { spec: { containers: [{ name: WORKER, image: change.image }] } } } } : {}),
      },
      contentType: PATCH.strategic,
    });
  } catch (err) {
    throw apiError(err, `putting the latest snapshot of ${name} into its pod template`, deps.kube.server);
  }
}
