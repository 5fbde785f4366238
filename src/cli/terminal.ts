import type { Terminal } from '../kube/exec-socket.ts';
import type { CliIo } from './io.ts';

/** The local terminal as the exec client sees it: its size, and when it changes. */
export function localTerminal(io: CliIo): Terminal {
  return {
    size: () => ({ width: io.stdout.columns ?? 80, height: io.stdout.rows ?? 24 }),
    onResize(listener) {
      io.stdout.on('resize', listener);
      return () => io.stdout.off('resize', listener);
    },
  };
}

/** Whether a command gets a remote terminal: -t (true) forces one, -T (false) refuses one, else when stdin and stdout are terminals (as ssh). */
export function wantsTerminal(io: CliIo, tty: boolean | undefined): boolean {
  return tty ?? Boolean(io.stdin.isTTY && io.stdout.isTTY);
}

/**
 * Runs `work` with the local terminal in raw mode (keys, Ctrl-C included, go
 * to the remote side), restored afterwards whatever happens.
 */
export async function withRawTerminal<T>(io: CliIo, enabled: boolean, work: () => Promise<T>): Promise<T> {
  const raw = enabled && Boolean(io.stdin.isTTY && io.stdin.setRawMode);
  if (raw) io.stdin.setRawMode!(true);
  try {
    return await work();
  } finally {
    if (raw) io.stdin.setRawMode!(false);
  }
}
