import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { shortAge, table } from '../format.ts';
import { anyOwnerOption } from '../options.ts';

interface HistoryOptions extends GlobalOptions {
  anyOwner?: boolean;
}

/** Commands as one short line: a table row must not break. */
const oneLine = (text: string) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
};

export function historyCommand(ctx: CliContext): Command {
  return withGlobals(new Command('history'))
    .description("list an environment's image versions: time, size, layers, the commands before each")
    .argument('<name>', 'environment name')
    .addOption(anyOwnerOption())
    .action(async (name: string, o: HistoryOptions) => {
      rejectProblems(nameProblems(name));
      const [{ readOwnEnv }, { snapshotRecords, imageToRun }] = await Promise.all([import('../../env/inspect/identity.ts'), import('../../env/snapshot/records.ts')]);
      const deps = await envDeps(ctx, o, { quiet: true });
      const dep = await readOwnEnv(deps.kube, name, Boolean(o.anyOwner));
      const records = snapshotRecords(dep);
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        return;
      }
      if (records.length === 0) {
        ctx.io.stderr.write(`${name} has no snapshot yet: it runs its base image\n`);
        return;
      }
      const next = imageToRun(dep);
      const now = ctx.io.now();
      const rows = records.map((r) => [
        `${r.image === next ? '*' : ' '}v${r.version}`,
        `${shortAge(r.time, now)} ago`,
        `${(r.size / 1e6).toFixed(1)} MB`,
        String(r.layers),
        oneLine(r.commands.join('; ')) || '-',
      ]);
      ctx.io.stdout.write(`${table([['VERSION', 'AGE', 'SIZE', 'LAYERS', 'COMMANDS'], ...rows])}\n`);
    });
}
