import { Command, Option } from 'commander';
import { RunboxError } from '../errors.ts';
import type { EnvDeps } from '../env/deps.ts';
import { connectKube } from '../kube/client.ts';
import { LaptopCache, cacheKey } from './laptop-cache.ts';
import type { CliIo } from './io.ts';
import { makeProgress, type ClosableProgress } from './progress.ts';

export type OutputFormat = 'text' | 'json';

export interface GlobalOptions {
  context?: string;
  namespace?: string;
  kubeconfig?: string;
  verbose?: boolean;
  output?: string;
}

/** What every command gets: the process's io, and where to leave its exit code. */
export interface CliContext {
  io: CliIo;
  exitCode: number;
  verbose: boolean;
  progress?: ClosableProgress;
}

/** kubectl's global flags, accepted by every subcommand. */
export function withGlobals(cmd: Command): Command {
  return cmd
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <namespace>', "the namespace (default: the context's)")
    .option('--kubeconfig <path>', 'the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('-v, --verbose', 'show diagnostics and stack traces')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
}

export function outputFormat(opts: GlobalOptions): OutputFormat {
  return opts.output === 'json' ? 'json' : 'text';
}

/** The side effects an operation gets, built from the global flags: the connected cluster first. */
export async function envDeps(ctx: CliContext, opts: GlobalOptions, progress: { quiet: boolean }): Promise<EnvDeps> {
  ctx.verbose = Boolean(opts.verbose);
  const kube = await connectKube({ context: opts.context, namespace: opts.namespace, kubeconfig: opts.kubeconfig }, ctx.io.env);
  ctx.progress = makeProgress(ctx.io, { quiet: progress.quiet && !opts.verbose });
  return {
    kube,
    clock: { now: ctx.io.now },
    progress: ctx.progress,
    signal: ctx.io.signal,
    notice: (m) => {
      ctx.io.stderr.write(`runbox: ${m}\n`);
    },
    debug: (m) => {
      if (opts.verbose) ctx.io.stderr.write(`runbox: ${m}\n`);
    },
  };
}

/** This laptop's memory of one environment of the connected cluster. */
export function laptopCache(ctx: CliContext, deps: EnvDeps, name: string): LaptopCache {
  return new LaptopCache(ctx.io.cacheDir, cacheKey(deps.kube.server, deps.kube.namespace, name), deps.notice);
}

/** Raises every validation problem at once, before anything touches the cluster. */
export function rejectProblems(problems: string[]): void {
  if (problems.length > 0) throw new RunboxError(problems.join('; '), { hint: 'see runbox help' });
}
