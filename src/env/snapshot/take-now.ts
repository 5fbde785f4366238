import { SIDECAR } from '../../contract/names.ts';
import type { SnapshotAnswer } from '../../contract/snapshot.ts';
import { RunboxError } from '../../errors.ts';
import type { EnvDeps } from '../deps.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { envPods } from '../inspect/lookup.ts';
import { containerServes } from '../inspect/status.ts';
import { waitReady } from '../lifecycle/wait-ready.ts';
import { latestRecord, snapshotRecords } from './records.ts';
import { snapshotEnv, type SnapshotRegistry } from './snapshot-env.ts';

/** `runbox snapshot` / `squash`: a snapshot of the running environment now; a sleeping one was snapshotted when it went to sleep. */
export async function snapshotNow(
  deps: EnvDeps,
  req: { name: string; anyOwner: boolean; registry: SnapshotRegistry | undefined; squash: boolean },
): Promise<{ answer?: SnapshotAnswer; asleep?: { latest?: number } }> {
  if (!req.registry) {
    throw new RunboxError('snapshots need a registry, and the cluster config names none', {
      hint: 'set one with: runbox config set registry-push HOST[:PORT] --cluster (and registry-pull, if the nodes reach it by another address)',
    });
  }
  const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
  if ((dep.spec?.replicas ?? 1) === 0) return { asleep: { latest: latestRecord(snapshotRecords(dep))?.version } };
  // Just woken, its sidecar may still be starting.
  const pod =
    (await envPods(deps.kube, req.name)).find((p) => containerServes(p, SIDECAR)) ??
    (await waitReady(deps.kube, req.name, { timeoutMs: 120_000, progress: deps.progress, signal: deps.signal, until: { container: SIDECAR } }));
  return { answer: await snapshotEnv(deps, { dep, pod: pod.metadata?.name ?? '', registry: req.registry, commands: [], squash: req.squash }) };
}
