import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { shortAge } from '../format.ts';

export function statusCommand(ctx: CliContext): Command {
  return withGlobals(new Command('status'))
    .description('show one environment: state (and why it dozes or sleeps), allocation, pod, node')
    .argument('<name>', 'environment name')
    .action(async (name: string, o: GlobalOptions) => {
      rejectProblems(nameProblems(name));
      const { envStatus } = await import('../../env/inspect/env-status.ts');
      const s = await envStatus(await envDeps(ctx, o, { quiet: true }), name);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const now = ctx.io.now();
      const lines: [string, string][] = [
        ['Name', s.name],
        ['Namespace', s.namespace],
        ['State', s.reason ? `${s.state} (${s.reason})` : s.idle ? `${s.state} since ${shortAge(s.idle.at, now)} ago: ${s.idle.why}${s.idle.by ? ` (${s.idle.by})` : ''}` : s.state],
        ['Image', s.image],
        ['Allocation', `${s.allocation} unit${s.allocation === 1 ? '' : 's'} (${s.resources.cpu} CPU, ${s.resources.memory} memory)`],
        ['Applied', s.applied ? `${s.applied.cpu ?? '?'} CPU, ${s.applied.memory ?? '?'} memory` : '-'],
        ['Pod', s.pod ?? '-'],
        ['Node', s.node ?? '-'],
        ['Snapshot', s.snapshot ? `v${s.snapshot.version} (${shortAge(s.snapshot.time, now)} ago)${s.snapshot.rollbackTo ? `; the next start runs v${s.snapshot.rollbackTo}` : ''}` : '-'],
        ['Owner', s.owner],
        ['Last activity', s.lastActivity ? `${shortAge(s.lastActivity, now)} ago` : '-'],
        ['Age', shortAge(s.created, now)],
      ];
      ctx.io.stdout.write(lines.map(([k, v]) => `${`${k}:`.padEnd(15)}${v}`).join('\n') + '\n');
    });
}
