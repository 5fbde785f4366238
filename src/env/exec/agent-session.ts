import { PassThrough, Writable } from 'node:stream';
import { SIDECAR } from '../../contract/names.ts';
import { AGENT_BRIDGE_UNAVAILABLE, AGENT_MARKER, AGENT_WELCOME, type AgentHello, SIDECAR_BUNDLE_FILE, SIDECAR_MOUNT, agentBridgeCommand } from '../../contract/sidecar.ts';
import { RunboxError } from '../../errors.ts';
import { ExecConnectionLostError, ExecFailedError, execInPod } from '../../kube/exec-socket.ts';
import type { EnvDeps } from '../deps.ts';
import { PING_EVERY_MS, frameChannel, type FrameChannel } from '../sync/frames.ts';

/** An agent that pings and then falls silent this long is dead (killed, out of memory, its pod gone). */
const SILENT_MS = 8 * PING_EVERY_MS;

export class AgentSilentError extends RunboxError {}

/** What to do when an agent died, by its kind. */
const AGAIN: Record<string, string> = {
  sync: 'run the sync again: it picks up where this one stopped',
  snapshot: 'run it again: an interrupted snapshot leaves the previous version in place',
};

/** The agent's process ended in the middle of a sync. */
function agentEnded(opts: { env: string; agent: string[] }, code: number, stderr: string): RunboxError {
  const why = code === 137 ? ' (killed: out of memory, or the pod is going away)' : '';
  return new RunboxError(`the ${opts.agent[0]} agent in ${opts.env}'s sidecar ended with exit code ${code}${why}${stderr ? `: ${stderr}` : ''}`, {
    hint: AGAIN[opts.agent[0] ?? ''],
  });
}

function lostAgent(opts: { env: string; agent: string[] }, cause: unknown): RunboxError {
  return new RunboxError(`lost the connection to the ${opts.agent[0]} agent in ${opts.env}'s sidecar (killed, out of memory, or its pod went away)`, {
    cause,
    hint: AGAIN[opts.agent[0] ?? ''],
  });
}

/*
 * One conversation with an agent in a pod's sidecar: `node sidecar.mjs
 * runbox-agent sync ROOT` (or `snapshot`) exec'd in the sidecar container
 * over runbox's own exec websocket, its stdin and stdout carrying the framed
 * protocol; or the bash bridge to a warm sync agent in the sidecar's server
 * (contract/sidecar.ts), which carries the same protocol.
 */

export interface AgentSession {
  chan: FrameChannel;
  /** Through the bash bridge to a warm agent, not an agent process of its own. */
  bridged: boolean;
  /** Ends a conversation that went well: closes stdin and checks the agent's exit code (a bridge's is always 0: not waited for). */
  finish(): Promise<void>;
  /**
   * After a failure: waits for the exec to end (so a session that never
   * started throws the exec client's own error, e.g. a stale pod) and returns
   * the failure as one RunboxError with what the agent said on stderr.
   */
  failed(err: unknown): Promise<RunboxError>;
}

interface AgentOptions {
  env: string;
  pod: string;
  agent: string[];
  signal?: AbortSignal | undefined;
  /** Through the bridge to a warm agent: the bridge ends 0 whatever happened to the server behind it. */
  bridged?: boolean;
}

/**
 * A sync agent: the warm one in the sidecar's server when it is there (no
 * Node to start), else an agent process of its own.
 */
export async function openSyncAgent(deps: EnvDeps, opts: AgentOptions & { beforeProcess?: () => Promise<void> }): Promise<AgentSession> {
  const bridged = openAgent(deps, { ...opts, bridged: true }, agentBridgeCommand(opts.agent));
  try {
    await bridged.chan.sendJson({ agent: opts.agent } satisfies AgentHello);
    const hello = await bridged.chan.nextJson<{ hello?: string; error?: string }>();
    if (hello.hello === AGENT_WELCOME.hello) return bridged;
    throw new RunboxError(`the sidecar of ${opts.env} would not start a ${opts.agent[0]} agent: ${hello.error ?? JSON.stringify(hello)}`);
  } catch (err) {
    const code = await bridged.exitCode().catch((e: unknown) => (e instanceof ExecFailedError ? 'no bash' : undefined));
    // Nothing listens (a sidecar from before warm agents), or no bash in a sidecar image of one's own.
    if (code === AGENT_BRIDGE_UNAVAILABLE || code === 127 || code === 'no bash') {
      await opts.beforeProcess?.();
      return openAgent(deps, opts);
    }
    throw await bridged.failed(err);
  }
}

export function openAgent(deps: EnvDeps, opts: AgentOptions, command = ['node', `${SIDECAR_MOUNT}/${SIDECAR_BUNDLE_FILE}`, AGENT_MARKER, ...opts.agent]): AgentSession & { exitCode(): Promise<number> } {
  const toAgent = new PassThrough();
  const fromAgent = new PassThrough();
  const errors: Buffer[] = [];
  const said = () => Buffer.concat(errors).toString().trim();
  const cut = new AbortController();
  const outer = opts.signal ?? deps.signal;
  const abort = () => cut.abort(outer?.reason);
  outer?.addEventListener('abort', abort, { once: true });
  const exec = execInPod({
    target: deps.kube,
    pod: opts.pod,
    container: SIDECAR,
    command,
    stdin: toAgent,
    stdout: fromAgent,
    stderr: new Writable({ write: (c: Buffer, _e, done) => (errors.push(c), done()) }),
    signal: cut.signal,
  }).then(
    (code) => {
      fromAgent.end();
      // A sender waiting for room must learn that nobody reads any more.
      if (!toAgent.writableEnded) toAgent.destroy(agentEnded(opts, code, said()));
      return code;
    },
    (err: unknown) => {
      fromAgent.destroy(err as Error);
      toAgent.destroy(err as Error);
      throw err;
    },
  );
  const chan = frameChannel(fromAgent, toAgent);
  const watchdog = setInterval(() => {
    const heard = chan.lastHeard();
    if (heard === undefined || Date.now() - heard < SILENT_MS) return;
    const silent = new AgentSilentError(
      `the ${opts.agent[0]} agent in ${opts.env}'s sidecar has not answered for ${Math.round((Date.now() - heard) / 1000)} s (killed, or out of memory)`,
      { hint: AGAIN[opts.agent[0] ?? ''] },
    );
    fromAgent.destroy(silent);
    cut.abort(silent);
  }, PING_EVERY_MS);
  watchdog.unref();
  const ended = exec.finally(() => {
    clearInterval(watchdog);
    outer?.removeEventListener('abort', abort);
  });
  // Observed here so that a failure is never unhandled while nobody awaits it yet.
  ended.catch(() => {});
  return {
    chan,
    bridged: opts.bridged ?? false,
    exitCode: () => ended,
    async finish() {
      toAgent.end();
      // The bridge ends 0 whatever happened behind it: the agent's last answer said all there is to know.
      if (opts.bridged) return;
      const code = await ended;
      if (code !== 0) throw new RunboxError(`the ${opts.agent[0]} agent of ${opts.env} exited ${code}: ${said()}`);
    },
    async failed(err) {
      toAgent.end();
      if (cut.signal.reason instanceof AgentSilentError) return cut.signal.reason;
      let code: number;
      try {
        code = await ended;
      } catch (lost) {
        if (!(lost instanceof ExecConnectionLostError)) throw lost;
        return lostAgent(opts, lost);
      }
      if (err instanceof RunboxError) return err;
      if (code !== 0) return agentEnded(opts, code, said());
      if (opts.bridged) return lostAgent(opts, err);
      const agentSaid = said();
      return new RunboxError(`the ${opts.agent[0]} with ${opts.env} failed: ${(err as Error).message}${agentSaid ? ` (${agentSaid})` : ''}`, { cause: err });
    },
  };
}
