import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, laptopCache, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { table } from '../format.ts';
import { settleUsage } from '../usage-batch.ts';

/** "1h", "30m", "7d", "90s" before now, or an ISO date/time. */
export function parseSince(value: string, now: Date): Date | undefined {
  const m = /^(\d+)([smhd])$/.exec(value);
  if (m) {
    const seconds = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * seconds * 1000);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

interface UsageOptions extends GlobalOptions {
  since?: string;
}

export function usageCommand(ctx: CliContext): Command {
  return withGlobals(new Command('usage'))
    .description('list the usage ledger of an environment: time, command, duration, allocation, units')
    .argument('<name>', 'environment name')
    .option('--since <when>', 'only commands since then: 1h, 30m, 7d or an ISO date')
    .action(async (name: string, o: UsageOptions) => {
      const since = o.since === undefined ? undefined : parseSince(o.since, ctx.io.now());
      rejectProblems([
        ...nameProblems(name),
        ...(o.since !== undefined && !since ? [`--since must be like 1h, 30m, 7d or an ISO date, not "${o.since}"`] : []),
      ]);
      const [{ readEnv }, { readUsage, restStore }] = await Promise.all([
        import('../../env/inspect/lookup.ts'),
        import('../../env/usage/ledger.ts'),
      ]);
      const deps = await envDeps(ctx, o, { quiet: true });
      await readEnv(deps.kube, name);
      // What this laptop still holds back goes into the ledger first.
      await settleUsage(deps, laptopCache(ctx, deps, name), name, { forced: true });
      const report = await readUsage(restStore(deps.kube), name, since);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const rows = report.entries.map((e) => [e.time, e.command, `${e.durationMs} ms`, String(e.allocation), String(e.units), String(e.exitCode)]);
      ctx.io.stdout.write(table([['TIME', 'COMMAND', 'DURATION', 'ALLOCATION', 'UNITS', 'EXIT'], ...rows]));
      if (report.rolledUpBefore) {
        ctx.io.stdout.write(`(commands before ${report.rolledUpBefore} are kept as daily totals only)\n`);
      }
      ctx.io.stdout.write(`Total: ${report.total.units} units in ${report.total.commands} commands\n`);
    });
}

