import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { resizeNamed } from '../../env/resize.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { shortAge, table } from '../format.ts';
import { parseAllocation, type AllocationOptions } from './allocation-options.ts';

interface ResizeOptions extends GlobalOptions, AllocationOptions {
  anyOwner?: boolean;
  replace?: boolean;
  timeout: string;
}

export function resizeCommand(ctx: CliContext): Command {
  return withGlobals(new Command('resize'))
    .description('resize an environment in place (or record the size for its next wake if it sleeps)')
    .argument('<name>', 'environment name')
    .argument('[units]', 'allocation units (1 = 1/8 CPU and 128 MiB)')
    .option('--cpu <quantity>', 'explicit CPU (e.g. 500m, 2)')
    .option('--memory <quantity>', 'explicit memory (e.g. 512Mi, 2Gi)')
    .option('--replace', 'replace the pod instead of resizing in place (what runbox falls back to where in place is impossible)')
    .option('--any-owner', "act on somebody else's environment")
    .option('--timeout <seconds>', 'how long to wait for a replaced pod', '300')
    .action(async (name: string, units: string | undefined, o: ResizeOptions) => {
      const parsed = parseAllocation({ allocate: units, cpu: o.cpu, memory: o.memory });
      const problems = [...nameProblems(name), ...parsed.problems];
      if (!parsed.allocation && parsed.problems.length === 0) problems.push('give the units, or --cpu and --memory');
      rejectProblems(problems);
      await resizeNamed(envDeps(ctx, o, { quiet: false }), {
        name,
        to: parsed.allocation!,
        anyOwner: Boolean(o.anyOwner),
        timeoutMs: Number(o.timeout) * 1000,
        replace: Boolean(o.replace),
      });
    });
}

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
      const { envUsage } = await import('../../env/inspect.ts');
      const entries = await envUsage(envDeps(ctx, o, { quiet: true }), name, since);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      const rows = entries.map((e) => [e.time, e.command, `${e.durationMs} ms`, String(e.allocation), String(e.units), String(e.exitCode)]);
      ctx.io.stdout.write(table([['TIME', 'COMMAND', 'DURATION', 'ALLOCATION', 'UNITS', 'EXIT'], ...rows]));
      const total = Math.round(entries.reduce((sum, e) => sum + e.units, 0) * 10) / 10;
      ctx.io.stdout.write(`Total: ${total} units in ${entries.length} commands\n`);
    });
}

export function statusCommand(ctx: CliContext): Command {
  return withGlobals(new Command('status'))
    .description('show one environment: state, allocation, pod, node')
    .argument('<name>', 'environment name')
    .action(async (name: string, o: GlobalOptions) => {
      rejectProblems(nameProblems(name));
      const { envStatus } = await import('../../env/inspect.ts');
      const s = await envStatus(envDeps(ctx, o, { quiet: true }), name);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const now = ctx.io.now();
      const lines: [string, string][] = [
        ['Name', s.name],
        ['Namespace', s.namespace],
        ['State', s.reason ? `${s.state} (${s.reason})` : s.state],
        ['Image', s.image],
        ['Allocation', `${s.allocation} unit${s.allocation === 1 ? '' : 's'} (${s.resources.cpu} CPU, ${s.resources.memory} memory)`],
        ['Applied', s.applied ? `${s.applied.cpu ?? '?'} CPU, ${s.applied.memory ?? '?'} memory` : '-'],
        ['Pod', s.pod ?? '-'],
        ['Node', s.node ?? '-'],
        ['Owner', s.owner],
        ['Last activity', s.lastActivity ? `${shortAge(s.lastActivity, now)} ago` : '-'],
        ['Age', shortAge(s.created, now)],
      ];
      ctx.io.stdout.write(lines.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`).join('\n') + '\n');
    });
}
