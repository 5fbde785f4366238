import { objectPath } from './paths.ts';

/*
 * The Kubernetes remote-command channel protocol (v4/v5.channel.k8s.io), kept
 * free of sockets so it can be tested on plain bytes.
 */

export const Channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  status: 3,
  resize: 4,
  /** v5 only: the payload is the channel number being closed. */
  close: 255,
} as const;

export const SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** Exit code a signal-killed command reports, as a shell would. */
export const SIGNAL_EXIT_BASE = 128;

export type ExecOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'failed'; message: string };

/** Maps the status message on channel 3 to an exit code or a failure. */
export function parseExecStatus(payload: Buffer | string): ExecOutcome {
  let status: {
    status?: string;
    message?: string;
    reason?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  try {
    status = JSON.parse(payload.toString());
  } catch {
    return { kind: 'failed', message: `unreadable exec status: ${payload.toString().slice(0, 200)}` };
  }
  if (status.status === 'Success') return { kind: 'exited', code: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code >= 0 && code <= 255) return { kind: 'exited', code };
  }
  return { kind: 'failed', message: status.message ?? 'exec failed' };
}

/** One frame: the channel byte, then the payload. */
export function frame(channel: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

export function resizeFrame(width: number, height: number): Buffer {
  return frame(Channel.resize, Buffer.from(JSON.stringify({ Width: width, Height: height })));
}

/** v5's end of stdin: close channel 0. */
export const STDIN_CLOSE_FRAME = Buffer.from([Channel.close, Channel.stdin]);

export function execPath(opts: {
  namespace: string;
  pod: string;
  container: string;
  command: readonly string[];
  stdin: boolean;
  tty: boolean;
}): string {
  const q = new URLSearchParams();
  q.set('container', opts.container);
  for (const arg of opts.command) q.append('command', arg);
  q.set('stdin', String(opts.stdin));
  q.set('stdout', 'true');
  // With a TTY the server merges stderr into stdout and rejects stderr=true.
  q.set('stderr', String(!opts.tty));
  q.set('tty', String(opts.tty));
  return `${objectPath('pods', opts.namespace, opts.pod, 'exec')}?${q.toString()}`;
}
