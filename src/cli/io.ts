import type { Readable, Writable } from 'node:stream';

/** The process's side of the terminal, handed to the commands by main. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  now: () => Date;
  cacheDir: string;
}

export function colorEnabled(io: CliIo): boolean {
  return Boolean(io.stderr.isTTY) && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
}
