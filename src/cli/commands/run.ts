import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { snapshotRegistry } from '../snapshot-registry.ts';
import { envDeps, laptopCache, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { runRemembered } from '../remembered-run.ts';
import { remotePathProblems, syncSummary, syncWithState } from '../sync-run.ts';
import { localTerminal, wantsTerminal, withRawTerminal } from '../terminal.ts';
import { parseAllocation, type AllocationOptions } from './allocation-options.ts';

interface RunOptions extends GlobalOptions, AllocationOptions {
  kill?: boolean;
  usage?: boolean;
  /** -t: true, -T: false, neither: undefined. */
  tty?: boolean;
  sync?: boolean;
  syncBefore?: boolean;
  syncAfter?: boolean;
  localpath: string;
  remotepath: string;
  anyOwner?: boolean;
  timeout: number;
}

export function runProblems(name: string, argv: string[], o: RunOptions): string[] {
  const problems = nameProblems(name);
  if (argv.length === 0) problems.push('no command given (runbox NAME CMD [ARGS...])');
  return [...problems, ...parseAllocation(o).problems, ...remotePathProblems(o.remotepath).problems];
}

export function runCommand(ctx: CliContext): Command {
  return withGlobals(new Command('run'))
    .description('run a command in an environment, waking it if it sleeps (also: runbox NAME CMD...)')
    .argument('<name>', 'environment name')
    .argument('[command...]', 'the command and its arguments, kept exactly')
    .option('-a, --allocate <units>', 'resize to this many allocation units first, in place (1 = 1/8 CPU, 128 MiB); it stays so')
    .option('--cpu <quantity>', 'resize the CPU to this quantity first (e.g. 500m, 2)')
    .option('--memory <quantity>', 'resize the memory to this quantity first (e.g. 512Mi, 2Gi)')
    .option('-t, --tty', 'give the command a terminal even when runbox has none (as ssh -t, docker -t)')
    .option('-T, --no-tty', 'never give the command a terminal (by default it gets one when stdin and stdout are terminals)')
    .option('-s, --sync', 'sync the local folder with the environment before and after the command')
    .option('-B, --sync-before', 'sync before the command (also --sync_before)')
    .option('-A, --sync-after', 'sync after the command, so its results come back (also --sync_after)')
    .option('-L, --localpath <dir>', 'the local folder to sync', '.')
    .option('-R, --remotepath <path>', 'the folder in the environment to sync (relative: under /data)', '/data')
    .option('-u, --usage', 'print the capacity the command used afterwards (on stderr)')
    .option('-k, --kill', 'scale the environment to zero after the command (also --kill_after)')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a sleeping environment to wake'))
    .passThroughOptions()
    .action(async (name: string, args: string[], o: RunOptions) => {
      // passThroughOptions keeps the `--` that ends runbox's own options.
      const argv = args[0] === '--' ? args.slice(1) : args;
      rejectProblems(runProblems(name, argv, o));
      const { io } = ctx;
      const deps = await envDeps(ctx, o, { quiet: true });
      const remotePath = remotePathProblems(o.remotepath).path!;
      const sync = async () => {
        const report = await syncWithState(ctx, deps, {
          name,
          local: o.localpath,
          remotePath,
          direction: 'both',
          dryRun: false,
          anyOwner: Boolean(o.anyOwner),
          wakeTimeoutMs: o.timeout,
        });
        // The command's streams are its own: runbox speaks only when something needs saying.
        if (report.conflicts.length > 0 || report.refused.length > 0) deps.notice(syncSummary(report, `${o.localpath} <-> ${name}:${remotePath}`));
        else deps.debug(syncSummary(report, `${o.localpath} <-> ${name}:${remotePath}`));
      };
      if (o.sync || o.syncBefore) await sync();
      // With a sync after, --kill waits for it: the results come back first.
      const stopAfterSync = Boolean(o.kill) && Boolean(o.sync || o.syncAfter);
      const killRegistry = o.kill && !stopAfterSync ? await snapshotRegistry(ctx, deps) : undefined;
      const terminal = wantsTerminal(io, o.tty) ? localTerminal(io) : undefined;
      const result = await withRawTerminal(io, terminal !== undefined, () => runRemembered(
        ctx,
        deps,
        {
          name,
          argv,
          io: { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, terminal, onSignal: io.onSignal },
          allocation: parseAllocation(o).allocation,
          kill: Boolean(o.kill) && !stopAfterSync,
          registry: killRegistry,
          anyOwner: Boolean(o.anyOwner),
          wakeTimeoutMs: o.timeout,
        },
        { flushUsage: Boolean(o.usage) },
      ));
      ctx.exitCode = result.exitCode;
      if (o.sync || o.syncAfter) await sync();
      if (stopAfterSync) {
        const { snapshotAndSleep } = await import('../../env/snapshot/sleep.ts');
        const registry = await snapshotRegistry(ctx, deps);
        const outcome = await snapshotAndSleep(deps, { name, anyOwner: Boolean(o.anyOwner), registry, commands: [argv.join(' ')] });
        if (outcome.skipped && registry) deps.notice(`${name} is sleeping; no snapshot: ${outcome.skipped}`);
        laptopCache(ctx, deps, name).write({ pod: undefined });
      }
      if (o.usage) io.stderr.write(`Capacity used: ${result.usage.units} units (${result.usage.durationMs} ms)\n`);
    });
}
