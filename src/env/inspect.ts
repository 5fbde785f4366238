import { connectKube } from '../kube/client.ts';
import type { Resources } from './allocation.ts';
import type { EnvDeps } from './deps.ts';
import { envPods, readEnv } from './lookup.ts';
import { appliedLimits, recordedAllocation } from './resources-state.ts';
import { summarize, type EnvSummary } from './status.ts';
import { cacheKey, readEntry, writeEntry } from './pod-cache.ts';
import { readUsage, recordUsage, type UsageEntry } from './usage.ts';

export interface EnvStatus extends EnvSummary {
  /** What the user asked for (applied on every wake). */
  resources: Resources;
  /** What the kubelet applied to the running worker, if one runs. */
  applied?: Partial<Resources> | undefined;
  node?: string | undefined;
}

export async function envStatus(deps: EnvDeps, name: string): Promise<EnvStatus> {
  const kube = await connectKube(deps.sel, deps.env);
  const [dep, pods] = await Promise.all([readEnv(kube.target, name), envPods(kube.target, name)]);
  const summary = summarize(dep, pods);
  const running = pods.find((p) => p.metadata?.name === summary.pod);
  return {
    ...summary,
    resources: recordedAllocation(dep).resources,
    applied: running ? appliedLimits(running) : undefined,
    node: running?.spec?.nodeName,
  };
}

/** The ledger, after writing what this laptop still holds back for it. */
export async function envUsage(deps: EnvDeps, name: string, since?: Date): Promise<UsageEntry[]> {
  const kube = await connectKube(deps.sel, deps.env);
  await readEnv(kube.target, name);
  const key = cacheKey(kube.target.server, kube.target.namespace, name);
  const { pending } = readEntry(deps.cacheDir, key);
  if (pending && pending.length > 0) {
    await recordUsage(kube.target, name, pending);
    writeEntry(deps.cacheDir, key, { pending: [] });
  }
  return readUsage(kube, name, since);
}
