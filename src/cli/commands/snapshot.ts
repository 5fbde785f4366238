import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { envDeps, outputFormat, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { anyOwnerOption } from '../options.ts';
import { snapshotRegistry } from '../snapshot-registry.ts';

interface SnapshotOptions extends GlobalOptions {
  anyOwner?: boolean;
  squash?: boolean;
}

/** `runbox snapshot NAME`, and `runbox squash NAME` (the same with --squash). */
export function snapshotCommand(ctx: CliContext, squash = false): Command {
  const command = withGlobals(new Command(squash ? 'squash' : 'snapshot'))
    .description(
      squash
        ? "merge runbox's layers of an environment's image into one (a new version)"
        : "commit the root filesystem's changes (installed packages, files outside /data) as a new image version; a no-op when nothing changed",
    )
    .argument('<name>', 'environment name')
    .addOption(anyOwnerOption());
  if (!squash) command.option('--squash', "also merge runbox's layers into one");
  return command.action(async (name: string, o: SnapshotOptions) => {
    rejectProblems(nameProblems(name));
    const { snapshotNow } = await import('../../env/snapshot/take-now.ts');
    const deps = await envDeps(ctx, o, { quiet: false });
    const registry = await snapshotRegistry(ctx, deps);
    const { answer, asleep } = await snapshotNow(deps, { name, anyOwner: Boolean(o.anyOwner), registry, squash: squash || Boolean(o.squash) });
    await ctx.progress?.close();
    if (outputFormat(o) === 'json') {
      ctx.io.stdout.write(`${JSON.stringify(answer ?? { asleep: true, latest: asleep?.latest ?? null }, null, 2)}\n`);
      return;
    }
    if (asleep) {
      ctx.io.stderr.write(`${name} is asleep: it was snapshotted when it went to sleep${asleep.latest ? ` (latest v${asleep.latest})` : ''}\n`);
    } else if (answer && !answer.changed) {
      ctx.io.stderr.write(`${name}: root filesystem unchanged (${answer.files} entries checked in ${answer.seconds} s); no new version\n`);
    } else if (answer?.changed) {
      const r = answer.record;
      ctx.io.stderr.write(`${name}: snapshot v${r.version} (${(answer.layerBytes / 1e6).toFixed(1)} MB new layer, ${r.layers} layers, ${(r.size / 1e6).toFixed(1)} MB in all, ${answer.seconds} s); the next start runs it\n`);
    }
  });
}
