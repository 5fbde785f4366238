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
  /** The last synced state of this (folder, environment, remote path), read once the exec to the agent is on its way. */
  last: () => LastSync | undefined;
  remembered?: string | undefined;
  anyOwner: boolean;
  wakeTimeoutMs: number;
  sidecar?: (() => Promise<SidecarSource>) | undefined;
  onTransfer?: ((t: Transfer) => void) | undefined;
}

export interface LastSync {
  base: Manifest;
  /** The environment's tree as of the last sync, with its agent's token. */
  remote?: RemoteTree | undefined;
  /** The folders the base was synced between. */
  folders?: SyncedFolders | undefined;
}

/** What the laptop knows before the agent answers: read once, whichever pod the sync ends up in. */
interface Known {
  last: LastSync | undefined;
  localSide: Promise<LocalSide>;
}

/**
 * Syncs a laptop folder with a folder of the environment through the sync
 * agent in its sidecar, over runbox's own exec websocket: any image syncs,
 * even one without tar or a shell. Wakes a sleeping environment.
 */
export async function syncEnv(deps: EnvDeps, req: SyncEnvRequest): Promise<{ report: SyncReport; pod: string }> {
  let known: Known | undefined;
  const know = (): Known => {
    if (known) return known;
    const last = req.last();
    const localSide = readLocalSide(req.localRoot, last?.base);
    localSide.catch(() => {}); // seen when syncOnce awaits it
    return (known = { last, localSide });
  };
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
        return await talkToAgent(deps, req, pod, prepare, know);
      } finally {
        if (boosted && (await boosted)) await resizeSidecar(deps.kube, pod, SIDECAR_RESOURCES);
      }
    },
  );
  return { report: used.result, pod: used.pod };
}

async function talkToAgent(deps: EnvDeps, req: SyncEnvRequest, pod: string, prepare: () => Promise<void>, know: () => Known): Promise<SyncReport> {
  // The exec is on its way before the stored state and the local folder are read: its round trips
  // through the API server, the kubelet and the runtime overlap that work.
  const opening = openSyncAgent(deps, { env: req.name, pod, agent: ['sync', req.remotePath], beforeProcess: prepare });
  opening.catch(() => {}); // seen below
  const { last, localSide } = know();
  const agent = await opening;
  let report: SyncReport;
  try {
    report = await syncOnce(agent.chan, {
      localRoot: req.localRoot,
      base: last?.base,
      localSide,
      transferAgent: async () => transferAgent(deps, req.name, pod, req.remotePath),
      remote: last?.remote,
      folders: last?.folders,
      notice: deps.notice,
      prepare,
      direction: req.direction,
      dryRun: req.dryRun,
      now: deps.clock.now(),
      onTransfer: req.onTransfer,
    });
    // A warm agent's last answer said all there is: its goodbye is not waited for.
    await endSync(agent.chan, { waitForAnswer: !agent.bridged });
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
