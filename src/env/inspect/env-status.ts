import type { Resources } from '../resize/allocation.ts';
import { appliedLimits, recordedAllocation } from '../resize/resources-state.ts';
import type { Deployment } from '../../kube/types.ts';
import { latestRecord, rollbackVersion, snapshotRecords } from '../snapshot/records.ts';
import type { EnvDeps } from '../deps.ts';
import { envPods, readEnv } from './lookup.ts';
import { summarize, type EnvSummary } from './status.ts';

export interface EnvStatus extends EnvSummary {
  /** What the user asked for (applied on every wake). */
  resources: Resources;
  /** What the kubelet applied to the running worker, if one runs. */
  applied?: Partial<Resources> | undefined;
  node?: string | undefined;
  /** The latest root-filesystem snapshot, and a rollback waiting for the next start. */
  snapshot?: { version: number; time: string; rollbackTo?: number | undefined } | undefined;
}

export async function envStatus(deps: EnvDeps, name: string): Promise<EnvStatus> {
  const [dep, pods] = await Promise.all([readEnv(deps.kube, name), envPods(deps.kube, name)]);
  const summary = summarize(dep, pods);
  const running = pods.find((p) => p.metadata?.name === summary.pod);
  return {
    ...summary,
    resources: recordedAllocation(dep).resources,
    applied: running ? appliedLimits(running) : undefined,
    node: running?.spec?.nodeName,
    snapshot: snapshotSummary(dep),
  };
}

function snapshotSummary(dep: Deployment): EnvStatus['snapshot'] {
  const latest = latestRecord(snapshotRecords(dep));
  return latest ? { version: latest.version, time: latest.time, rollbackTo: rollbackVersion(dep) } : undefined;
}
