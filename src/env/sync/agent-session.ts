import { PassThrough, Writable } from 'node:stream';
import { SIDECAR } from '../../contract/names.ts';
import { AGENT_MARKER, SIDECAR_BUNDLE_FILE, SIDECAR_MOUNT } from '../../contract/sidecar.ts';
import { RunboxError } from '../../errors.ts';
import { execInPod } from '../../kube/exec-socket.ts';
import type { EnvDeps } from '../deps.ts';
import { frameChannel, type FrameChannel } from './frames.ts';

/*
 * One conversation with the sync agent of a pod: `node sidecar.mjs
 * runbox-agent sync ROOT` exec'd in the sidecar container over runbox's own
 * exec websocket, its stdin and stdout carrying the framed protocol.
 */

export interface AgentSession {
  chan: FrameChannel;
  /** Ends a conversation that went well: closes stdin and checks the agent's exit code. */
  finish(): Promise<void>;
  /**
   * After a failure: waits for the exec to end (so a session that never
   * started throws the exec client's own error, e.g. a stale pod) and returns
   * the failure as one RunboxError with what the agent said on stderr.
   */
  failed(err: unknown): Promise<RunboxError>;
}

export function openAgent(deps: EnvDeps, opts: { env: string; pod: string; remotePath: string; signal?: AbortSignal | undefined }): AgentSession {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const errors: Buffer[] = [];
  const said = () => Buffer.concat(errors).toString().trim();
  const exec = execInPod({
    target: deps.kube,
    pod: opts.pod,
    container: SIDECAR,
    command: ['node', `${SIDECAR_MOUNT}/${SIDECAR_BUNDLE_FILE}`, AGENT_MARKER, 'sync', opts.remotePath],
    stdin: toAgent,
    stdout: fromAgent,
    stderr: new Writable({ write: (c: Buffer, _e, done) => (errors.push(c), done()) }),
    signal: opts.signal ?? deps.signal,
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
  // Observed here so that a failure is never unhandled while nobody awaits it yet.
  exec.catch(() => {});
  return {
    chan: frameChannel(fromAgent, toAgent),
    async finish() {
      toAgent.end();
      const code = await exec;
      if (code !== 0) throw new RunboxError(`the sync agent of ${opts.env} exited ${code}: ${said()}`);
    },
    async failed(err) {
      toAgent.end();
      await exec;
      if (err instanceof RunboxError) return err;
      const agentSaid = said();
      return new RunboxError(`syncing with ${opts.env} failed: ${(err as Error).message}${agentSaid ? ` (${agentSaid})` : ''}`, { cause: err });
    },
  };
}
