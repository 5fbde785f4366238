import { Command, Option } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { remotePathProblems, syncSummary, syncWithState } from '../sync-run.ts';

interface SyncOptions extends GlobalOptions {
  remote: string;
  direction: 'both' | 'up' | 'down';
  dryRun?: boolean;
  anyOwner?: boolean;
  timeout: number;
}

export function syncCommand(ctx: CliContext): Command {
  return withGlobals(new Command('sync'))
    .description('sync a local folder with a folder of the environment, three-way: deletions propagate, a conflict keeps both versions')
    .argument('<name>', 'environment name')
    .argument('[local]', 'the local folder', '.')
    .option('--remote <path>', 'the folder in the environment (relative: under /data)', '/data')
    .addOption(new Option('--direction <direction>', 'both ways, or only up (laptop to environment) or down').choices(['both', 'up', 'down']).default('both'))
    .option('--dry-run', 'say what would change, change nothing')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a sleeping environment to wake'))
    .action(async (name: string, local: string, o: SyncOptions) => {
      const remote = remotePathProblems(o.remote);
      rejectProblems([...nameProblems(name), ...remote.problems]);
      const deps = await envDeps(ctx, o, { quiet: false });
      const report = await syncWithState(ctx, deps, {
        name,
        local,
        remotePath: remote.path!,
        direction: o.direction,
        dryRun: Boolean(o.dryRun),
        anyOwner: Boolean(o.anyOwner),
        wakeTimeoutMs: o.timeout,
      });
      await ctx.progress?.close();
      if (outputFormat(o) === 'json') {
        const { state: _state, actions, ...rest } = report;
        ctx.io.stdout.write(`${JSON.stringify({ ...rest, ...(o.dryRun ? { actions } : {}) }, null, 2)}\n`);
      } else if (o.dryRun) {
        for (const a of report.actions) {
          const what = a.kind === 'copy' ? `copy ${a.from === 'local' ? 'up' : 'down'}` : a.kind === 'delete' ? `delete ${a.on === 'local' ? 'here' : 'there'}` : 'conflict';
          ctx.io.stdout.write(`${what}\t${a.kind === 'conflict' ? a.path : a.entry.path}\n`);
        }
      } else {
        ctx.io.stderr.write(`${syncSummary(report, `${local} <-> ${name}:${remote.path}`)}\n`);
      }
      if (report.conflicts.length > 0 || report.refused.length > 0) ctx.exitCode = 1;
    });
}
