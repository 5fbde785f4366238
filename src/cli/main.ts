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

export function processIo(): CliIo {
  const env = process.env;
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    now: () => new Date(),
    cacheDir: join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'runbox'),
  };
}
