import { realpathSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { DATA_PATH } from '../contract/names.ts';
import type { EnvDeps } from '../env/deps.ts';
import type { Direction, SyncReport } from '../env/sync/session.ts';
import type { LastSync } from '../env/sync/sync-env.ts';
import type { SyncState } from './sync-state.ts';
import { RunboxError } from '../errors.ts';
import { configOverrides } from './config-overrides.ts';
import { laptopCache, type CliContext } from './context.ts';
import { makeProgress } from './progress.ts';
import { sidecarSource } from './sidecar-source.ts';
import { transferMeter } from './transfer-meter.ts';

/** A remote path as given (relative ones are under /data), or every problem with it. */
export function remotePathProblems(remote: string): { path?: string; problems: string[] } {
  const path = posix.normalize(remote.startsWith('/') ? remote : `${DATA_PATH}/${remote}`).replace(/\/+$/, '') || '/';
  if (path !== DATA_PATH && !path.startsWith(`${DATA_PATH}/`)) {
    return { problems: [`--remote must be ${DATA_PATH} or a folder under it (the environment's volume), not "${remote}"`] };
  }
  return { path, problems: [] };
}

export interface SyncCliRequest {
  name: string;
  local: string;
  remotePath: string;
  direction: Direction;
  dryRun: boolean;
  anyOwner: boolean;
  wakeTimeoutMs: number;
}

function localFolder(local: string): string {
  try {
    return realpathSync(resolve(local));
  } catch (err) {
    throw new RunboxError(`the local folder ${local} does not exist`, { cause: err, hint: 'create it, or pass another folder' });
  }
}

/** The last synced state, read when asked for. */
const lastSync =
  (state: SyncState) =>
  (): LastSync | undefined => {
    const stored = state.read();
    return stored && { base: stored.state, remote: stored.remote, folders: stored.folders };
  };

/** What both a sync and a watch start from: the folder, its last synced state, the sidecar a wake brings. */
async function syncSetup(ctx: CliContext, deps: EnvDeps, req: SyncCliRequest) {
  const localRoot = localFolder(req.local);
  // Off the hot path: a plain `runbox NAME CMD` loads none of the sync code.
  const { SyncState } = await import('./sync-state.ts');
  const state = new SyncState(ctx.io.cacheDir, `${deps.kube.server} ${deps.kube.namespace} ${req.name} ${req.remotePath} ${localRoot}`, deps.notice);
  const sidecar = async () => {
    const { readClusterConfig } = await import('../env/config/cluster-config.ts');
    return sidecarSource(await readClusterConfig(deps.kube, configOverrides(ctx.io.env, {})), ctx.io.env.RUNBOX_SIDECAR_IMAGE);
  };
  return { localRoot, state, sidecar };
}

/** One sync with this laptop's last synced state of that pair, which it then updates. */
export async function syncWithState(ctx: CliContext, deps: EnvDeps, req: SyncCliRequest): Promise<SyncReport> {
  const [{ syncEnv }, { localRoot, state, sidecar }] = await Promise.all([import('../env/sync/sync-env.ts'), syncSetup(ctx, deps, req)]);
  const cache = laptopCache(ctx, deps, req.name);
  const meter = makeProgress(ctx.io, { quiet: true });
  try {
    const { report, pod } = await syncEnv(deps, {
      name: req.name,
      localRoot,
      remotePath: req.remotePath,
      direction: req.direction,
      dryRun: req.dryRun,
      last: lastSync(state),
      remembered: cache.read().pod,
      anyOwner: req.anyOwner,
      wakeTimeoutMs: req.wakeTimeoutMs,
      sidecar,
      onTransfer: transferMeter((text) => meter.meter(text)),
    });
    cache.write({ pod });
    if (!req.dryRun) state.write({ state: report.state, remote: report.remote, folders: report.folders, remoteDiff: report.remoteDiff });
    return report;
  } finally {
    await meter.close();
  }
}

export interface WatchTotals {
  rounds: number;
  uploaded: number;
  downloaded: number;
  deletedLocal: number;
  deletedRemote: number;
  conflicts: number;
  refused: number;
}

/**
 * `sync --watch`: rounds until Ctrl-C, each stored as the new last synced
 * state; a line per round that changed something (on stderr, or a JSON
 * object per line on stdout with -o json).
 */
export async function watchWithState(ctx: CliContext, deps: EnvDeps, req: SyncCliRequest, out: { json: boolean; where: string }): Promise<WatchTotals> {
  const [{ watchEnv }, { localRoot, state, sidecar }] = await Promise.all([import('../env/sync/watch-env.ts'), syncSetup(ctx, deps, req)]);
  const totals: WatchTotals = { rounds: 0, uploaded: 0, downloaded: 0, deletedLocal: 0, deletedRemote: 0, conflicts: 0, refused: 0 };
  let meter = makeProgress(ctx.io, { quiet: true });
  let announced = false;
  await watchEnv(
    deps,
    { name: req.name, localRoot, remotePath: req.remotePath, direction: req.direction, last: lastSync(state), anyOwner: req.anyOwner, wakeTimeoutMs: req.wakeTimeoutMs, sidecar },
    {
      synced(report) {
        state.write({ state: report.state, remote: report.remote, folders: report.folders, remoteDiff: report.remoteDiff });
        totals.rounds += 1;
        totals.uploaded += report.uploaded;
        totals.downloaded += report.downloaded;
        totals.deletedLocal += report.deletedLocal;
        totals.deletedRemote += report.deletedRemote;
        totals.conflicts += report.conflicts.length;
        totals.refused += report.refused.length;
        const changed = report.uploaded + report.downloaded + report.deletedLocal + report.deletedRemote + report.conflicts.length + report.refused.length > 0;
        void meter.close();
        meter = makeProgress(ctx.io, { quiet: true });
        if (!changed && announced) return;
        if (out.json) {
          const { state: _state, remoteDiff: _remoteDiff, remote: _remote, folders: _folders, actions: _actions, ...rest } = report;
          ctx.io.stdout.write(`${JSON.stringify({ time: deps.clock.now().toISOString(), ...rest })}\n`);
        } else {
          ctx.io.stderr.write(`${syncSummary(report, out.where)}\n`);
        }
      },
      connected() {
        if (!announced) ctx.io.stderr.write(`watching ${out.where}; Ctrl-C to stop\n`);
        else deps.notice(`${req.name} is back; caught up`);
        announced = true;
      },
      waiting: (why) => deps.notice(why),
      transfer: transferMeter((text) => meter.meter(text)),
    },
  );
  await meter.close();
  return totals;
}

/** The one summary line of a sync. */
export function syncSummary(r: SyncReport, where: string): string {
  const parts = [`${r.uploaded} up`, `${r.downloaded} down`, `${r.deletedRemote} deleted there`, `${r.deletedLocal} deleted here`];
  const conflicts = r.conflicts.length > 0 ? `; ${r.conflicts.length} conflict${r.conflicts.length === 1 ? '' : 's'}, both versions kept: ${r.conflicts.map((c) => `${c.path} (theirs as ${c.keptAs})`).join(', ')}` : '';
  const refused = r.refused.length > 0 ? `; ${r.refused.length} refused: ${r.refused.map((p) => `${p.path} (${p.why})`).join(', ')}` : '';
  return `synced ${where}: ${parts.join(', ')}${conflicts}${refused}`;
}
