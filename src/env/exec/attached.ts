import type { Readable, Writable } from 'node:stream';
import { WORKER } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import { execOutput } from '../../kube/exec-output.ts';
import { SIGNAL_EXIT_BASE } from '../../kube/exec-protocol.ts';
import { ExecConnectionLostError, OutputClosedError, execInPod, type Terminal } from '../../kube/exec-socket.ts';
import type { EnvDeps } from '../deps.ts';
import { REFUSED_EXIT, type Refusal } from '../../contract/idle.ts';
import { refusalSniffer } from './refusal.ts';
import { answer, exitCodeOf, signalCommand } from './run-control.ts';
import type { RunMode } from './shell-state.ts';

export type LocalSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
const SIGNAL_NUMBER: Record<LocalSignal | 'SIGPIPE', number> = { SIGHUP: 1, SIGINT: 2, SIGPIPE: 13, SIGTERM: 15 };

/** The local side of a command: its streams, its terminal, and the signals the user sends runbox. */
export interface Attachment {
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  terminal?: Terminal | undefined;
  /** Subscribes to the signals runbox receives (Ctrl-C, kill, hangup); `count` is how many so far. */
  onSignal?: ((listener: (signal: LocalSignal, count: number) => void) => () => void) | undefined;
}

// The runtime may withhold a finished command's exit status while runbox still
// has input for it (`yes | runbox NAME head -1`, containerd 1.6): after this
// much silence, ask the run file instead, less often the longer it lasts.
const QUIET_FIRST_MS = 400;
const QUIET_MAX_MS = 10_000;
// Once the exit code is known, output still in flight gets this long to arrive.
const SETTLE_MS = 200;

/**
 * Runs the prologue'd command in the worker as if it ran here: a signal the
 * user sends runbox goes to the remote command (a second one kills it), a
 * closed local pipe stops it as SIGPIPE would, and its exit code comes back
 * even when the runtime withholds it. A command the prologue refused to run
 * (the environment drains for a sleep, or dozes) comes back as `refused`.
 */
export async function runAttached(
  deps: EnvDeps,
  req: { pod: string; command: string[]; run: { id: string; mode: RunMode }; io: Attachment },
): Promise<{ code: number; refused?: Refusal | undefined }> {
  // The prologue's own words go to stderr, which a terminal merges into stdout.
  const sniffer = refusalSniffer(req.run.mode === 'pipes' ? req.io.stderr : req.io.stdout);
  const refused = () => sniffer.refusal();
  const io = { ...req.io, ...(req.run.mode === 'pipes' ? { stderr: sniffer.stream } : { stdout: sniffer.stream }) };
  let code: number;
  try {
    code = await attachedCode(deps, { ...req, io });
  } finally {
    await sniffer.close();
  }
  return { code, refused: code === REFUSED_EXIT ? refused() : undefined };
}

async function attachedCode(
  deps: EnvDeps,
  req: { pod: string; command: string[]; run: { id: string; mode: RunMode }; io: Attachment },
): Promise<number> {
  const where = { pod: req.pod, container: WORKER };
  const side = (argv: string[]) =>
    execOutput(deps.kube, where, argv).then(
      (r) => answer(r.stdout),
      (err: unknown) => {
        deps.debug(`${argv.join(' ').slice(0, 60)}... failed: ${String(err)}`);
        return '';
      },
    );
  const session = new AbortController();
  const stop = (why: { code: number }) => session.abort(why);
  const onOuterAbort = () => session.abort(deps.signal?.reason);
  deps.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let lastMessage = Date.now();
  const cleanups: (() => void)[] = [() => deps.signal?.removeEventListener('abort', onOuterAbort)];

  let forced: number | undefined;
  const off = req.io.onSignal?.((signal, count) => {
    if (count === 1) {
      void side(signalCommand(req.run.id, signal.slice(3) as 'INT' | 'TERM' | 'HUP'));
      return;
    }
    // A second signal: as a local shell's second Ctrl-C, do not wait any
    // longer; runbox ends as interrupted, however the command ends.
    forced = SIGNAL_EXIT_BASE + SIGNAL_NUMBER[signal];
    void side(signalCommand(req.run.id, 'KILL')).finally(() => stop({ code: forced! }));
  });
  if (off) cleanups.push(off);

  if (req.run.mode === 'pipes' && req.io.stdin) {
    // Silence: no message for a while, and not because runbox holds the socket
    // back for a full local stdout. Once the run file has the exit code, a
    // short silence more lets the last output in flight arrive first.
    const silence = () => (req.io.stdout.writableNeedDrain ? 0 : Date.now() - lastMessage);
    let backoff = QUIET_FIRST_MS;
    let exited: number | undefined;
    const check = async () => {
      let next: number;
      if (exited !== undefined) {
        if (silence() >= SETTLE_MS) return stop({ code: exited });
        next = SETTLE_MS - silence();
      } else if (silence() < QUIET_FIRST_MS) {
        backoff = QUIET_FIRST_MS;
        next = QUIET_FIRST_MS - silence();
      } else {
        const code = Number.parseInt(await side(exitCodeOf(req.run.id)), 10);
        if (Number.isInteger(code)) {
          exited = code;
          lastMessage = Date.now();
          next = SETTLE_MS;
        } else {
          next = backoff;
          backoff = Math.min(backoff * 2, QUIET_MAX_MS);
        }
      }
      timer = setTimeout(() => void check(), Math.max(next, 20));
    };
    let timer = setTimeout(() => void check(), QUIET_FIRST_MS);
    cleanups.push(() => clearTimeout(timer));
  }

  try {
    const code = await execInPod({
      target: deps.kube,
      ...where,
      command: req.command,
      stdin: req.io.stdin,
      stdout: req.io.stdout,
      stderr: req.io.stderr,
      terminal: req.io.terminal,
      signal: session.signal,
      onMessage: () => {
        lastMessage = Date.now();
      },
    });
    return forced ?? code;
  } catch (err) {
    const reason = session.signal.reason as { code?: unknown } | undefined;
    if (session.signal.aborted && typeof reason?.code === 'number') return reason.code;
    if (err instanceof ExecConnectionLostError) {
      // The server may close a session without its status when the command
      // ended while input was still coming (containerd 1.6): its run file knows.
      const code = Number.parseInt(await side(exitCodeOf(req.run.id)), 10);
      if (Number.isInteger(code)) return code;
    }
    if (err instanceof OutputClosedError) {
      await side(signalCommand(req.run.id, 'PIPE'));
      return SIGNAL_EXIT_BASE + SIGNAL_NUMBER.SIGPIPE;
    }
    throw err instanceof RunboxError || !session.signal.aborted ? err : new RunboxError('cancelled', { cause: err });
  } finally {
    for (const c of cleanups.splice(0)) c();
  }
}
