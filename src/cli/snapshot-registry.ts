import type { EnvDeps } from '../env/deps.ts';
import type { SnapshotRegistry } from '../env/snapshot/snapshot-env.ts';
import type { SleepOutcome } from '../env/snapshot/sleep.ts';
import { configOverrides } from './config-overrides.ts';
import type { CliContext } from './context.ts';

/** The registry snapshots go to, from the cluster config; undefined when none is configured (snapshots off). */
export async function snapshotRegistry(ctx: CliContext, deps: EnvDeps): Promise<SnapshotRegistry | undefined> {
  const { readClusterConfig } = await import('../env/config/cluster-config.ts');
  const config = await readClusterConfig(deps.kube, configOverrides(ctx.io.env, {}));
  const push = config.registryPush.value;
  if (!push) return undefined;
  // Without a pull address the nodes are taken to reach the registry as the pods do.
  return { push, pull: config.registryPull.value ?? push };
}

/** What a stop did about the root filesystem, as the end of its one line. */
export function sleepNote(outcome: SleepOutcome): string {
  if (outcome.skipped) return ` (no snapshot: ${outcome.skipped})`;
  const s = outcome.snapshot;
  if (!s) return '';
  if (!s.changed) return `; root filesystem unchanged (checked ${s.files} entries in ${s.seconds} s)`;
  return `; snapshot v${s.record.version} (${(s.layerBytes / 1e6).toFixed(1)} MB layer, ${s.seconds} s)`;
}
