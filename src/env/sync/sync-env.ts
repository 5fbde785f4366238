import { PassThrough, Writable } from 'node:stream';
import { SIDECAR } from '../../contract/names.ts';
import { AGENT_MARKER, SIDECAR_BUNDLE_FILE, SIDECAR_MOUNT } from '../../contract/sidecar.ts';
import { RunboxError } from '../../errors.ts';
import { execInPod } from '../../kube/exec-socket.ts';
import type { EnvDeps } from '../deps.ts';
import { inReadyPod } from '../exec/ready-pod.ts';
import { SIDECAR_RESOURCES, SIDECAR_WORKING, resizeSidecar, type SidecarSource } from '../lifecycle/sidecar.ts';
import { frameChannel } from './frames.ts';
import { endSync, syncOnce, type Direction, type SyncReport } from './session.ts';
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
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const errors: Buffer[] = [];
  const exec = execInPod({
    target: deps.kube,
    pod,
    container: SIDECAR,
    command: ['node', `${SIDECAR_MOUNT}/${SIDECAR_BUNDLE_FILE}`, AGENT_MARKER, 'sync', req.remotePath],
    stdin: toAgent,
    stdout: fromAgent,
    stderr: new Writable({ write: (c: Buffer, _e, done) => (errors.push(c), done()) }),
    signal: deps.signal,
  }).then(
    (code) => {
      fromAgent.end();
      return code;
    },
    (err: unknown) => {
      fromAgent.destroy(err as Error);
      throw err;
    },
  );
  const chan = frameChannel(fromAgent, toAgent);
  let report: SyncReport;
  try {
    report = await syncOnce(chan, { localRoot: req.localRoot, base: req.base, direction: req.direction, dryRun: req.dryRun, now: deps.clock.now() });
    await endSync(chan);
  } catch (err) {
    // A session that never started (stale pod, refused upgrade) says so as the exec's own error.
    await exec;
    const agentSaid = Buffer.concat(errors).toString().trim();
    throw err instanceof RunboxError ? err : new RunboxError(`syncing with ${req.name} failed: ${(err as Error).message}${agentSaid ? ` (${agentSaid})` : ''}`, { cause: err });
  }
  toAgent.end();
  const code = await exec;
  if (code !== 0) throw new RunboxError(`the sync agent of ${req.name} exited ${code}: ${Buffer.concat(errors).toString().trim()}`);
  return report;
}
