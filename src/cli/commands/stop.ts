import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption } from '../options.ts';
import { envDeps, laptopCache, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface StopOptions extends GlobalOptions {
  anyOwner?: boolean;
}

export function stopCommand(ctx: CliContext): Command {
  return withGlobals(new Command('stop'))
    .description('scale an environment to zero; files and state stay, the next command wakes it')
    .argument('<name>', 'environment name')
    .addOption(anyOwnerOption())
    .action(async (name: string, o: StopOptions) => {
      rejectProblems(nameProblems(name));
      const { stopEnv } = await import('../../env/lifecycle/stop.ts');
      const deps = await envDeps(ctx, o, { quiet: false });
      await stopEnv(deps, { name, anyOwner: Boolean(o.anyOwner) });
      laptopCache(ctx, deps, name).write({ pod: undefined });
    });
}
