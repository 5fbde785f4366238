import { homedir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { RUNBOX_FAILURE, RunboxError } from '../errors.ts';
import { rewriteArgv } from './argv.ts';
import type { CliContext } from './context.ts';
import type { CliIo } from './io.ts';
import { buildProgram, fromCommander } from './program.ts';

/** Runs the CLI and returns the process exit code; only bin/ touches process. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const ctx: CliContext = { io, exitCode: 0, verbose: argv.includes('-v') || argv.includes('--verbose') };
  const program = buildProgram(ctx);
  const args = rewriteArgv(argv);
  if (args.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    await ctx.progress?.close();
    return ctx.exitCode;
  } catch (err) {
    ctx.progress?.fail();
    await ctx.progress?.close();
    let error: unknown = err;
    if (err instanceof CommanderError) {
      const mapped = fromCommander(err);
      if (!mapped) return err.exitCode;
      error = mapped;
    }
    // Cancelled by the user: the exit code of the signal, as a local program's.
    if (io.signal?.aborted && io.signal.reason instanceof RunboxError) error = io.signal.reason;
    return report(io, error, ctx.verbose);
  }
}

function report(io: CliIo, err: unknown, verbose: boolean): number {
  const e = err instanceof RunboxError ? err : new RunboxError(err instanceof Error ? err.message : String(err), { cause: err });
  io.stderr.write(`runbox: ${e.message}${e.hint ? `; ${e.hint}` : ''}\n`);
  if (verbose) {
    for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
      io.stderr.write(`${c instanceof Error ? (c.stack ?? c.message) : JSON.stringify(c)}\n`);
    }
  }
  return e.exitCode ?? RUNBOX_FAILURE;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * The process's streams and signals. A signal goes to whoever listens (a
 * running command forwards it to the remote one); otherwise the first one
 * cancels what runbox waits for, cleanly, and a second one exits at once.
 */
export function processIo(): CliIo {
  const env = process.env;
  const interrupt = new AbortController();
  const listeners = new Set<(signal: keyof typeof SIGNALS, count: number) => void>();
  let count = 0;
  // A reader that went away (runbox ... | head -1) is the running command's
  // business (it ends like SIGPIPE); later writes must not crash runbox.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  for (const signal of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
    process.on(signal, () => {
      count++;
      if (listeners.size > 0) {
        for (const l of listeners) l(signal, count);
        return;
      }
      if (count > 1) process.exit(128 + SIGNALS[signal]);
      interrupt.abort(new RunboxError('interrupted', { exitCode: 128 + SIGNALS[signal] }));
    });
  }
  return {
    signal: interrupt.signal,
    onSignal(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    now: () => new Date(),
    cacheDir: join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'runbox'),
  };
}
