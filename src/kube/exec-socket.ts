import { noteMoved } from './young-gc.ts';
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { RunboxError } from '../errors.ts';
import { apiError } from './api-error.ts';
import {
  Channel,
  SUBPROTOCOLS,
  STDIN_CLOSE_FRAME,
  execPath,
  frame,
  parseExecStatus,
  resizeFrame,
  type ExecOutcome,
} from './exec-protocol.ts';
import type { KubeTarget } from './target.ts';

export interface TerminalSize {
  width: number;
  height: number;
}

/** A local terminal: its size now and a way to hear when it changes. */
export interface Terminal {
  size(): TerminalSize;
  onResize(listener: () => void): () => void;
}

export interface ExecRequest {
  target: KubeTarget;
  pod: string;
  container: string;
  command: readonly string[];
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  /** Set for an interactive terminal: stderr then arrives merged into stdout. */
  terminal?: Terminal | undefined;
  signal?: AbortSignal | undefined;
  pingIntervalMs?: number;
  /** Called on every message from the server (output, status): the session is alive. */
  onMessage?: (() => void) | undefined;
}

/**
 * The command could not be started (a Failure status that is no exit code).
 * `untouched`: no stdin was read and no output came, so running it elsewhere is safe.
 */
export class ExecFailedError extends RunboxError {
  readonly untouched: boolean;
  constructor(message: string, untouched: boolean) {
    super(message);
    this.untouched = untouched;
  }
}

/** A local output stream was closed (EPIPE: `runbox ... | head -1`); the command's output has nowhere to go. */
export class OutputClosedError extends RunboxError {
  constructor(cause: unknown) {
    super('the output of the command was closed', { cause });
  }
}

/** The session ended without an exit status: the connection dropped, or the server closed it. */
export class ExecConnectionLostError extends RunboxError {}

/** The API server refused the upgrade (pod gone, RBAC, bad container...). */
export class ExecUpgradeError extends RunboxError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

// Outbound flow control: stop reading stdin while this much is unsent.
const SEND_HIGH_WATER = 4 * 1024 * 1024;
const SEND_LOW_WATER = 1024 * 1024;
// Newer API servers flush output after the status: wait for the close, but not forever.
const CLOSE_GRACE_MS = 5_000;

/**
 * Runs one command in a pod over our own websocket and resolves to its exit
 * code once the server has closed the stream. Streams keep backpressure both
 * ways; a lost connection rejects with a RunboxError.
 */
export function execInPod(req: ExecRequest): Promise<number> {
  const url = req.target.server.replace(/^http/, 'ws') + execPath({
    namespace: req.target.namespace,
    pod: req.pod,
    container: req.container,
    command: req.command,
    stdin: req.stdin !== null,
    tty: req.terminal !== undefined,
  });
  req.target.onRequest?.('GET', 'exec');
  const ws = new WebSocket(url, [...SUBPROTOCOLS], {
    ...req.target.tls,
    headers: req.target.headers,
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });

  return new Promise<number>((resolve, reject) => {
    let outcome: ExecOutcome | undefined;
    let settled = false;
    const cleanups: (() => void)[] = [];

    const settle = (result: { code: number } | { error: Error }) => {
      if (settled) return;
      settled = true;
      for (const c of cleanups.splice(0)) c();
      if ('code' in result) resolve(result.code);
      else reject(result.error);
    };

    if (req.signal) {
      const onAbort = () => {
        ws.terminate();
        settle({ error: new RunboxError('command cancelled', { cause: req.signal?.reason }) });
      };
      if (req.signal.aborted) return onAbort();
      req.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => req.signal?.removeEventListener('abort', onAbort));
    }

    ws.on('unexpected-response', (httpReq, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        httpReq.destroy();
        const body = Buffer.concat(chunks).toString();
        let message = body.trim() || `HTTP ${res.statusCode}`;
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? message;
        } catch {
          // not a Status object; keep the raw body
        }
        settle({ error: new ExecUpgradeError(res.statusCode ?? 0, message) });
      });
    });

    let opened = false;
    let stdinUsed = () => false;
    let stopStdin = () => {};
    ws.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code ?? err.message;
      settle({
        error: opened
          ? new ExecConnectionLostError(`lost the connection to pod ${req.pod} before the command finished (${why})`, {
              cause: err,
              hint: 'the API server or the network went away; run the command again',
            })
          : apiError(err, `starting the command in pod ${req.pod}`, req.target.server),
      });
    });

    ws.on('open', () => {
      opened = true;
      const v5 = ws.protocol === SUBPROTOCOLS[0];
      const ping = setInterval(() => ws.ping(), req.pingIntervalMs ?? 5_000);
      ping.unref();
      cleanups.push(() => clearInterval(ping));
      if (req.terminal) attachTerminal(ws, req.terminal, cleanups);
      // A terminal has no end of input (Ctrl-D travels in-band); closing the
      // remote tty's stdin would hang up the shell before it read its input.
      if (req.stdin) ({ used: stdinUsed, stop: stopStdin } = pumpStdin(ws, req.stdin, v5 && !req.terminal, cleanups));
    });

    // A local reader that went away ends the session, as SIGPIPE ends a local command.
    for (const out of new Set([req.stdout, req.stderr])) {
      const onError = (err: NodeJS.ErrnoException) => {
        ws.terminate();
        settle({ error: err.code === 'EPIPE' ? new OutputClosedError(err) : new RunboxError(`writing the command's output failed: ${err.message}`, { cause: err }) });
      };
      out.on('error', onError);
      cleanups.push(() => out.off('error', onError));
    }

    // Inbound flow control: pause the socket while a local stream is full.
    let blocked = 0;
    let outputSeen = false;
    const deliver = (out: Writable, payload: Buffer) => {
      outputSeen = true;
      noteMoved(payload.length);
      if (out.write(payload)) return;
      if (blocked++ === 0) ws.pause();
      out.once('drain', () => {
        if (--blocked === 0) ws.resume();
      });
    };

    ws.on('message', (data: Buffer) => {
      req.onMessage?.();
      if (data.length < 2) return; // the ready signal, or an empty frame
      const payload = data.subarray(1);
      switch (data[0]) {
        case Channel.stdout:
          return deliver(req.stdout, payload);
        case Channel.stderr:
          return deliver(req.stderr, payload);
        case Channel.status: {
          outcome = parseExecStatus(payload);
          // The command is done: input it never read must not hold up the close handshake.
          stopStdin();
          const grace = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
          grace.unref();
          cleanups.push(() => clearTimeout(grace));
          return;
        }
        default:
          return;
      }
    });

    ws.on('close', () => {
      if (!outcome) {
        settle({
          error: new ExecConnectionLostError(`lost the connection to pod ${req.pod} before the command finished`, {
            hint: 'the pod may have been deleted or restarted; run the command again',
          }),
        });
      } else if (outcome.kind === 'exited') {
        settle({ code: outcome.code });
      } else {
        settle({ error: new ExecFailedError(`exec in pod ${req.pod} failed: ${outcome.message}`, !stdinUsed() && !outputSeen) });
      }
    });
  });
}

/** Streams stdin to the socket; tells whether any of it has been read, and stops on request. */
function pumpStdin(
  ws: WebSocket,
  stdin: Readable,
  sendEnd: boolean,
  cleanups: (() => void)[],
): { used: () => boolean; stop: () => void } {
  let used = false;
  let stopped = false;
  const onData = (chunk: Buffer | string) => {
    used = true;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    noteMoved(bytes.length);
    ws.send(frame(Channel.stdin, bytes), () => {
      if (!stopped && stdin.isPaused() && ws.bufferedAmount < SEND_LOW_WATER) stdin.resume();
    });
    if (ws.bufferedAmount > SEND_HIGH_WATER) stdin.pause();
  };
  // v4 cannot half-close (closing the socket would cut the output short), so
  // end of input is only sent on v5.
  const onEnd = () => {
    if (sendEnd && ws.readyState === WebSocket.OPEN) ws.send(STDIN_CLOSE_FRAME);
  };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  // A stream paused by an earlier attempt's cleanup does not flow again by itself.
  stdin.resume();
  const stop = () => {
    stopped = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
  };
  cleanups.push(stop);
  return { used: () => used, stop };
}

function attachTerminal(ws: WebSocket, terminal: Terminal, cleanups: (() => void)[]): void {
  const send = () => {
    const { width, height } = terminal.size();
    if (ws.readyState === WebSocket.OPEN) ws.send(resizeFrame(width, height));
  };
  send();
  cleanups.push(terminal.onResize(send));
}
