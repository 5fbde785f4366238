import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { envDeps, laptopCache, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { parseAllocation, type AllocationOptions } from './allocation-options.ts';

interface ResizeOptions extends GlobalOptions, AllocationOptions {
  anyOwner?: boolean;
  replace?: boolean;
  timeout: number;
}

export function resizeCommand(ctx: CliContext): Command {
  return withGlobals(new Command('resize'))
    .description('resize an environment in place (or record the size for its next wake if it sleeps)')
    .argument('<name>', 'environment name')
    .argument('[units]', 'allocation units (1 = 1/8 CPU and 128 MiB)')
    .option('--cpu <quantity>', 'explicit CPU (e.g. 500m, 2)')
    .option('--memory <quantity>', 'explicit memory (e.g. 512Mi, 2Gi)')
    .option('--replace', 'replace the pod instead of resizing in place (what runbox falls back to where in place is impossible)')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a replaced pod'))
    .action(async (name: string, units: string | undefined, o: ResizeOptions) => {
      const parsed = parseAllocation({ allocate: units, cpu: o.cpu, memory: o.memory });
      const problems = [...nameProblems(name), ...parsed.problems];
      if (!parsed.allocation && parsed.problems.length === 0) problems.push('give the units, or --cpu and --memory');
      rejectProblems(problems);
      const { resizeNamed } = await import('../../env/resize/resize.ts');
      const deps = await envDeps(ctx, o, { quiet: false });
      const to = parsed.allocation!;
      const done = await resizeNamed(deps, {
        name,
        to,
        anyOwner: Boolean(o.anyOwner),
        timeoutMs: o.timeout,
        replace: Boolean(o.replace),
      });
      laptopCache(ctx, deps, name).write({ units: to.units, ...(done.outcome === 'resized' ? { pod: done.pod.metadata?.name } : {}) });
    });
}
