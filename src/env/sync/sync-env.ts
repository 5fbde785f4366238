import { SIDECAR } from '../../contract/names.ts';
import type { EnvDeps } from '../deps.ts';
import { inReadyPod } from '../exec/ready-pod.ts';
import { SIDECAR_RESOURCES, SIDECAR_WORKING, resizeSidecar, type SidecarSource } from '../lifecycle/sidecar.ts';
import { openAgent, openSyncAgent } from '../exec/agent-session.ts';
import { endSync, readLocalSide, syncOnce, type Direction, type LocalSide, type TransferAgent, type RemoteTree, type SyncReport, type SyncedFolders, type Transfer } from './session.ts';
import type { Manifest } from './types.ts';

export interface SyncEnvRequest {
  name: string;
  localRoot: string;
  /** Absolute, under /data. */
  remotePath: string;
  direction: Direction;
  dryRun: boolean;
  /** The last synced state of this (folder, environment, remote path), if any. */
  base: Manifest | undefined;
  /** The environment's tree as of the last sync, with its agent's token. */
  remote?: RemoteTree | undefined;
  /** The folders the base was synced between. */
  folders?: SyncedFolders | undefined;
  remembered?: string | undefined;
  anyOwner: boolean;
  wakeTimeoutMs: number;
  sidecar?: (() => Promise<SidecarSource>) | undefined;
  onTransfer?: ((t: Transfer) => void) | undefined;
}

/**
 * Syncs a laptop folder with a folder of the environment through the sync
 * agent in its sidecar, over runbox's own exec websocket: any image syncs,
 * even one without tar or a shell. Wakes a sleeping environment.
 */
export async function syncEnv(deps: EnvDeps, req: SyncEnvRequest): Promise<{ report: SyncReport; pod: string }> {
  // The laptop's folder is read while the pod is found and the agent answers.
  const localSide = readLocalSide(req.localRoot, req.base);
  localSide.catch(() => {}); // seen when syncOnce awaits it
  const used = await inReadyPod(
    deps,
    { name: req.name, container: SIDECAR, remembered: req.remembered, anyOwner: req.anyOwner, wakeTimeoutMs: req.wakeTimeoutMs, sidecar: req.sidecar },
    async (pod) => {
      // A warm agent answers a sync with little to do at the sidecar's resting 50m faster than a
      // resize lands (the kubelet applies a pod's next resize ~2 s after its last); a walk, a
      // transfer over LIGHT_TRANSFER, or an agent process to start get its working CPU first.
      let boosted: Promise<boolean> | undefined;
      const prepare = async () => {
        boosted ??= resizeSidecar(deps.kube, pod, SIDECAR_WORKING);
        await boosted;
      };
      try {
        return await talkToAgent(deps, req, pod, prepare, localSide);
      } finally {
        if (boosted && (await boosted)) await resizeSidecar(deps.kube, pod, SIDECAR_RESOURCES);
      }
    },
  );
  return { report: used.result, pod: used.pod };
}

async function talkToAgent(deps: EnvDeps, req: SyncEnvRequest, pod: string, prepare: () => Promise<void>, localSide: Promise<LocalSide>): Promise<SyncReport> {
  const agent = await openSyncAgent(deps, { env: req.name, pod, agent: ['sync', req.remotePath], beforeProcess: prepare });
  let report: SyncReport;
  try {
    report = await syncOnce(agent.chan, {
      localRoot: req.localRoot,
      base: req.base,
      localSide,
      transferAgent: async () => transferAgent(deps, req.name, pod, req.remotePath),
      remote: req.remote,
      folders: req.folders,
      notice: deps.notice,
      prepare,
      direction: req.direction,
      dryRun: req.dryRun,
      now: deps.clock.now(),
      onTransfer: req.onTransfer,
    });
    await endSync(agent.chan);
  } catch (err) {
    throw await agent.failed(err);
  }
  await agent.finish();
  return report;
}

/** An agent process for one heavy transfer (its memory goes back to the sidecar when it exits). */
export function transferAgent(deps: EnvDeps, env: string, pod: string, remotePath: string): TransferAgent {
  const agent = openAgent(deps, { env, pod, agent: ['sync', remotePath] });
  return { chan: agent.chan, done: () => agent.finish(), failed: (err) => agent.failed(err) };
}
