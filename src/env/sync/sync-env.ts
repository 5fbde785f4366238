import { SIDECAR } from '../../contract/names.ts';
import type { EnvDeps } from '../deps.ts';
import { inReadyPod } from '../exec/ready-pod.ts';
import { SIDECAR_RESOURCES, SIDECAR_WORKING, resizeSidecar, type SidecarSource } from '../lifecycle/sidecar.ts';
import { openAgent } from '../exec/agent-session.ts';
import { endSync, syncOnce, type Direction, type SyncReport, type Transfer } from './session.ts';
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
  const used = await inReadyPod(
    deps,
    { name: req.name, container: SIDECAR, remembered: req.remembered, anyOwner: req.anyOwner, wakeTimeoutMs: req.wakeTimeoutMs, sidecar: req.sidecar },
    async (pod) => {
      // gzip-free tar still wants CPU: at its resting 50m the sidecar moves ~2 MB/s.
      const boosted = await resizeSidecar(deps.kube, pod, SIDECAR_WORKING);
      try {
        return await talkToAgent(deps, req, pod);
      } finally {
        if (boosted) await resizeSidecar(deps.kube, pod, SIDECAR_RESOURCES);
      }
    },
  );
  return { report: used.result, pod: used.pod };
}

async function talkToAgent(deps: EnvDeps, req: SyncEnvRequest, pod: string): Promise<SyncReport> {
  const agent = openAgent(deps, { env: req.name, pod, agent: ['sync', req.remotePath] });
  let report: SyncReport;
  try {
    report = await syncOnce(agent.chan, { localRoot: req.localRoot, base: req.base, direction: req.direction, dryRun: req.dryRun, now: deps.clock.now(), onTransfer: req.onTransfer });
    await endSync(agent.chan);
  } catch (err) {
    throw await agent.failed(err);
  }
  await agent.finish();
  return report;
}
