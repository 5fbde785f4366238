import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { parseAfter } from '../../env/idle/policy.ts';
import { anyOwnerOption } from '../options.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface IdleOptions extends GlobalOptions {
  anyOwner?: boolean;
  dozeAfter?: string;
  sleepAfter?: string;
  boostFallback?: string;
}

/** Problems with --doze-after / --sleep-after values (`default` is allowed where `allowDefault`). */
export function afterProblems(o: { dozeAfter?: string | undefined; sleepAfter?: string | undefined }, allowDefault = false): string[] {
  const problems: string[] = [];
  for (const [flag, v] of [['--doze-after', o.dozeAfter], ['--sleep-after', o.sleepAfter]] as const) {
    if (v === undefined || (allowDefault && v === 'default')) continue;
    if (parseAfter(v) === undefined) problems.push(`${flag} must be a duration such as 90s, 5m, 1h, 2d, or never${allowDefault ? ' (or default)' : ''}, not "${v}"`);
  }
  return problems;
}

/** Problems with a --boost-fallback value. */
export function boostFallbackProblems(v: string | undefined, allowDefault = false): string[] {
  if (v === undefined || v === 'on' || v === 'off' || (allowDefault && v === 'default')) return [];
  return [`--boost-fallback must be on or off${allowDefault ? ' (or default)' : ''}, not "${v}"`];
}

export function idleCommand(ctx: CliContext): Command {
  return withGlobals(new Command('idle'))
    .description("show or change when an idle environment dozes (its worker shrunk in place) and sleeps (snapshot, then scaled to zero); the idle controller applies it")
    .argument('<name>', 'environment name')
    .option('--doze-after <duration>', 'idle time before dozing: 90s, 5m, 1h, 2d, never, or default (the cluster config)')
    .option('--sleep-after <duration>', 'idle time before sleeping: 90s, 5m, 1h, 2d, never, or default (the cluster config)')
    .option('--boost-fallback <on|off|default>', 'on: a boost (-a on a command) ends when it dozes or sleeps, and the next command runs at its baseline')
    .addOption(anyOwnerOption())
    .action(async (name: string, o: IdleOptions) => {
      rejectProblems([...nameProblems(name), ...afterProblems(o, true), ...boostFallbackProblems(o.boostFallback, true)]);
      const [{ setIdlePolicy }, { idleReport }] = await Promise.all([import('../../env/idle/set-policy.ts'), import('../../env/idle/report.ts')]);
      const deps = await envDeps(ctx, o, { quiet: true });
      const dep = await setIdlePolicy(deps, { name, anyOwner: Boolean(o.anyOwner), change: { dozeAfter: o.dozeAfter, sleepAfter: o.sleepAfter, boostFallback: o.boostFallback } });
      const report = await idleReport(deps, dep);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const line = (what: string, p: { value: string; source: string }) => `${what} ${p.value}${p.source === 'environment' ? '' : ` (${p.source})`}`;
      const boost = `boost fallback ${line('', report.boostFallback).trim()}${report.baseline === undefined ? '' : ` (baseline ${report.baseline} unit${report.baseline === 1 ? '' : 's'})`}`;
      ctx.io.stdout.write(`${name}: ${line('doze after', report.dozeAfter)}, ${line('sleep after', report.sleepAfter)}, ${boost}; ${report.state}\n`);
    });
}
