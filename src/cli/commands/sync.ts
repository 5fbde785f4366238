import { Command, Option } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { remotePathProblems, syncSummary, syncWithState, watchWithState } from '../sync-run.ts';

interface SyncOptions extends GlobalOptions {
  remote: string;
  direction: 'both' | 'up' | 'down';
  dryRun?: boolean;
  watch?: boolean;
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
    .option('-w, --watch', 'keep syncing as either side changes, until Ctrl-C; waits while the environment sleeps')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a sleeping environment to wake'))
    .action(async (name: string, local: string, o: SyncOptions) => {
      const remote = remotePathProblems(o.remote);
      const combined = o.watch && o.dryRun ? ['--watch and --dry-run do not go together: a dry run changes nothing to watch'] : [];
      rejectProblems([...nameProblems(name), ...remote.problems, ...combined]);
      const deps = await envDeps(ctx, o, { quiet: false });
      const req = { name, local, remotePath: remote.path!, direction: o.direction, dryRun: Boolean(o.dryRun), anyOwner: Boolean(o.anyOwner), wakeTimeoutMs: o.timeout };
      const where = `${local} <-> ${name}:${remote.path}`;
      if (o.watch) {
        const t = await watchWithState(ctx, deps, req, { json: outputFormat(o) === 'json', where });
        await ctx.progress?.close();
        const problems = t.conflicts + t.refused > 0 ? `, ${t.conflicts} conflicts (both versions kept), ${t.refused} refused` : '';
        ctx.io.stderr.write(`watch stopped after ${t.rounds} rounds: ${t.uploaded} up, ${t.downloaded} down, ${t.deletedRemote} deleted there, ${t.deletedLocal} deleted here${problems}\n`);
        // Stopped by Ctrl-C or a signal: that signal's exit code, as a local watcher's.
        const reason = ctx.io.signal?.reason as { exitCode?: number } | undefined;
        ctx.exitCode = reason?.exitCode ?? 0;
        return;
      }
      const report = await syncWithState(ctx, deps, req);
      await ctx.progress?.close();
      if (outputFormat(o) === 'json') {
        const { state: _state, remoteDiff: _remoteDiff, remote: _remote, folders: _folders, actions, ...rest } = report;
        ctx.io.stdout.write(`${JSON.stringify({ ...rest, ...(o.dryRun ? { actions } : {}) }, null, 2)}\n`);
      } else if (o.dryRun) {
        for (const a of report.actions) {
          const what = a.kind === 'copy' ? `copy ${a.from === 'local' ? 'up' : 'down'}` : a.kind === 'delete' ? `delete ${a.on === 'local' ? 'here' : 'there'}` : 'conflict';
          ctx.io.stdout.write(`${what}\t${a.kind === 'conflict' ? a.path : a.entry.path}\n`);
        }
      } else {
        ctx.io.stderr.write(`${syncSummary(report, where)}\n`);
      }
      if (report.conflicts.length > 0 || report.refused.length > 0) ctx.exitCode = 1;
    });
}
