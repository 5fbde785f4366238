import { realpathSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { DATA_PATH } from '../contract/names.ts';
import type { EnvDeps } from '../env/deps.ts';
import type { Direction, SyncReport } from '../env/sync/session.ts';
import { RunboxError } from '../errors.ts';
import { configOverrides } from './config-overrides.ts';
import { laptopCache, type CliContext } from './context.ts';
import { sidecarSource } from './sidecar-source.ts';

/** A remote path as given (relative ones are under /data), or every problem with it. */
export function remotePathProblems(remote: string): { path?: string; problems: string[] } {
  const path = posix.normalize(remote.startsWith('/') ? remote : `${DATA_PATH}/${remote}`).replace(/\/+$/, '') || '/';
  if (path !== DATA_PATH && !path.startsWith(`${DATA_PATH}/`)) {
    return { problems: [`--remote must be ${DATA_PATH} or a folder under it (the environment's volume), not "${remote}"`] };
  }
  return { path, problems: [] };
}

/** One sync with this laptop's last synced state of that pair, which it then updates. */
export async function syncWithState(
  ctx: CliContext,
  deps: EnvDeps,
  req: { name: string; local: string; remotePath: string; direction: Direction; dryRun: boolean; anyOwner: boolean; wakeTimeoutMs: number },
): Promise<SyncReport> {
  let localRoot: string;
  try {
    localRoot = realpathSync(resolve(req.local));
  } catch (err) {
    throw new RunboxError(`the local folder ${req.local} does not exist`, { cause: err, hint: 'create it, or pass another folder' });
  }
  // Off the hot path: a plain `runbox NAME CMD` loads none of the sync code.
  const [{ syncEnv }, { SyncState }] = await Promise.all([import('../env/sync/sync-env.ts'), import('./sync-state.ts')]);
  const state = new SyncState(ctx.io.cacheDir, `${deps.kube.server} ${deps.kube.namespace} ${req.name} ${req.remotePath} ${localRoot}`, deps.notice);
  const cache = laptopCache(ctx, deps, req.name);
  const { report, pod } = await syncEnv(deps, {
    name: req.name,
    localRoot,
    remotePath: req.remotePath,
    direction: req.direction,
    dryRun: req.dryRun,
    base: state.read(),
    remembered: cache.read().pod,
    anyOwner: req.anyOwner,
    wakeTimeoutMs: req.wakeTimeoutMs,
    sidecar: async () => {
      const { readClusterConfig } = await import('../env/config/cluster-config.ts');
      return sidecarSource(await readClusterConfig(deps.kube, configOverrides(ctx.io.env, {})), ctx.io.env.RUNBOX_SIDECAR_IMAGE);
    },
  });
  cache.write({ pod });
  if (!req.dryRun) state.write(report.state);
  return report;
}

/** The one summary line of a sync. */
export function syncSummary(r: SyncReport, where: string): string {
  const parts = [`${r.uploaded} up`, `${r.downloaded} down`, `${r.deletedRemote} deleted there`, `${r.deletedLocal} deleted here`];
  const conflicts = r.conflicts.length > 0 ? `; ${r.conflicts.length} conflict${r.conflicts.length === 1 ? '' : 's'}, both versions kept: ${r.conflicts.map((c) => `${c.path} (theirs as ${c.keptAs})`).join(', ')}` : '';
  const refused = r.refused.length > 0 ? `; ${r.refused.length} refused: ${r.refused.map((p) => `${p.path} (${p.why})`).join(', ')}` : '';
  return `synced ${where}: ${parts.join(', ')}${conflicts}${refused}`;
}
