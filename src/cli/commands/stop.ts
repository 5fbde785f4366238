import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption } from '../options.ts';
import { sleepNote, snapshotRegistry } from '../snapshot-registry.ts';
import { envDeps, laptopCache, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface StopOptions extends GlobalOptions {
  anyOwner?: boolean;
  snapshot: boolean;
}

export function stopCommand(ctx: CliContext): Command {
  return withGlobals(new Command('stop'))
    .description('snapshot the root filesystem, then scale to zero; files, packages and state stay, the next command wakes it')
    .argument('<name>', 'environment name')
    .option('--no-snapshot', 'do not snapshot the root filesystem first: its changes since the last snapshot are dropped at the next start')
    .addOption(anyOwnerOption())
    .action(async (name: string, o: StopOptions) => {
      rejectProblems(nameProblems(name));
      const { snapshotAndSleep } = await import('../../env/snapshot/sleep.ts');
      const deps = await envDeps(ctx, o, { quiet: false });
      const registry = o.snapshot ? await snapshotRegistry(ctx, deps) : undefined;
      const outcome = await snapshotAndSleep(deps, {
        name,
        anyOwner: Boolean(o.anyOwner),
        registry,
        commands: [],
        record: { state: 'sleeping', at: deps.clock.now().toISOString(), why: 'runbox stop', by: 'runbox stop' },
      });
      laptopCache(ctx, deps, name).write({ pod: undefined });
      deps.progress.done(`${name} is sleeping${o.snapshot ? sleepNote(outcome) : ' (no snapshot, as asked)'}`);
    });
}
