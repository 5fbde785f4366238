import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { RunboxError } from '../../errors.ts';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption } from '../options.ts';
import { snapshotRegistry } from '../snapshot-registry.ts';
import { envDeps, laptopCache, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface DeleteOptions extends GlobalOptions {
  yes?: boolean;
  keepVolume?: boolean;
  anyOwner?: boolean;
}

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function deleteCommand(ctx: CliContext): Command {
  return withGlobals(new Command('delete'))
    .alias('rm')
    .description('delete an environment and its volume (seed form: runbox --delete NAME, -d)')
    .argument('<name>', 'environment name')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--keep-volume', 'keep the /data volume (a later create with the same name reuses it)')
    .addOption(anyOwnerOption())
    .action(async (name: string, o: DeleteOptions) => {
      rejectProblems(nameProblems(name));
      if (ctx.io.stdin.isTTY && ctx.io.stderr.isTTY && !o.yes) {
        const what = o.keepVolume ? `environment ${name}` : `environment ${name} and its volume (all files in /data)`;
        if (!(await confirm(ctx, `Delete ${what}?`))) throw new RunboxError('not deleted', { exitCode: 1 });
      }
      const { deleteEnv } = await import('../../env/lifecycle/delete.ts');
      const deps = await envDeps(ctx, o, { quiet: false });
      const registry = o.keepVolume ? undefined : await snapshotRegistry(ctx, deps);
      await deleteEnv(deps, { name, keepVolume: Boolean(o.keepVolume), anyOwner: Boolean(o.anyOwner), registry });
      laptopCache(ctx, deps, name).write({ pod: undefined });
    });
}
