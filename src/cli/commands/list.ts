import { Command } from 'commander';
import { envDeps, outputFormat, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { envTable } from '../format.ts';

interface ListOptions extends GlobalOptions {
  all?: boolean;
  allNamespaces?: boolean;
}

export function listCommand(ctx: CliContext): Command {
  return withGlobals(new Command('list'))
    .alias('ls')
    .description('list your environments (seed form: runbox --list, -l)')
    .option('--all', "include other users' environments")
    .option('-A, --all-namespaces', 'list across all namespaces')
    .action(async (o: ListOptions) => {
      const { listEnvs } = await import('../../env/inspect/list.ts');
      const envs = await listEnvs(await envDeps(ctx, o, { quiet: true }), {
        allOwners: Boolean(o.all),
        allNamespaces: Boolean(o.allNamespaces),
      });
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(envs, null, 2)}\n`);
      } else if (envs.length === 0) {
        ctx.io.stderr.write('No environments found; create one with: runbox create NAME --image IMAGE\n');
      } else {
        ctx.io.stdout.write(envTable(envs, ctx.io.now(), { namespace: Boolean(o.allNamespaces), owner: Boolean(o.all) }));
      }
    });
}
