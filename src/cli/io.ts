import type { Readable, Writable } from 'node:stream';
import type { LocalSignal } from '../env/exec/attached.ts';

/** The process's side of the terminal, handed to the commands by main. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  now: () => Date;
  cacheDir: string;
  /** Aborted when the user interrupts runbox (Ctrl-C, kill, hangup) and nobody listens for it. */
  signal?: AbortSignal | undefined;
  /** Takes the signals runbox receives instead (a running command forwards them). */
  onSignal?: ((listener: (signal: LocalSignal, count: number) => void) => () => void) | undefined;
}

/** Colour on a terminal unless NO_COLOR is set to something (no-color.org) or TERM=dumb. */
export function colorEnabled(io: CliIo): boolean {
  return Boolean(io.stderr.isTTY) && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}
