import type { Resources } from '../resize/allocation.ts';
import { appliedLimits, recordedAllocation } from '../resize/resources-state.ts';
import type { EnvDeps } from '../deps.ts';
import { envPods, readEnv } from './lookup.ts';
import { summarize, type EnvSummary } from './status.ts';

export interface EnvStatus extends EnvSummary {
  /** What the user asked for (applied on every wake). */
  resources: Resources;
  /** What the kubelet applied to the running worker, if one runs. */
  applied?: Partial<Resources> | undefined;
  node?: string | undefined;
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
  };
}
