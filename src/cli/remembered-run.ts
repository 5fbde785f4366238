import type { EnvDeps } from '../env/deps.ts';
import { runInEnv, type RunRequest, type RunResult } from '../env/exec/run.ts';
import type { CliContext } from './context.ts';
import { laptopCache } from './context.ts';
import { configOverrides } from './config-overrides.ts';
import { sidecarSource } from './sidecar-source.ts';
import { settleUsage } from './usage-batch.ts';

/** Last activity is written to the cluster at most this often (it feeds minutes-long idle timeouts). */
const ACTIVITY_INTERVAL_MS = 60_000;

/**
 * A command or shell in the environment with this laptop's memory of it: the
 * remembered pod first, the pod and allocation remembered after, the usage
 * entry batched for the ledger.
 */
export async function runRemembered(
  ctx: CliContext,
  deps: EnvDeps,
  req: Omit<RunRequest, 'remembered' | 'touchActivity' | 'sidecar'>,
  opts: { flushUsage: boolean },
): Promise<RunResult> {
  const cache = laptopCache(ctx, deps, req.name);
  const remembered = cache.read();
  const started = deps.clock.now().getTime();
  const result = await runInEnv(deps, {
    ...req,
    remembered,
    touchActivity: started - (remembered.touched ?? 0) >= ACTIVITY_INTERVAL_MS,
    sidecar: async () => {
      const { readClusterConfig } = await import('../env/config/cluster-config.ts');
      return sidecarSource(await readClusterConfig(deps.kube, configOverrides(ctx.io.env, {})), ctx.io.env.RUNBOX_SIDECAR_IMAGE);
    },
  });
  cache.write({ pod: result.pod, units: result.units, ...(result.touched ? { touched: started } : {}) });
  await settleUsage(deps, cache, req.name, { entry: result.usage, forced: opts.flushUsage || req.kill });
  return result;
}
