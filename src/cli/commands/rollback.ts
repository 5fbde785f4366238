import { Command } from 'commander';
import { ANNOTATION } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import { nameProblems } from '../../env/names.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { anyOwnerOption } from '../options.ts';

interface RollbackOptions extends GlobalOptions {
  anyOwner?: boolean;
}

export function rollbackCommand(ctx: CliContext): Command {
  return withGlobals(new Command('rollback'))
    .description("make an environment's next start run an earlier image version (see runbox history)")
    .argument('<name>', 'environment name')
    .argument('<version>', 'the version, e.g. v1')
    .addOption(anyOwnerOption())
    .action(async (name: string, version: string, o: RollbackOptions) => {
      const [{ parseVersion, snapshotRecords }, { readOwnEnv }, { callJson, PATCH }, { objectPath }] = await Promise.all([
        import('../../env/snapshot/records.ts'),
        import('../../env/inspect/identity.ts'),
        import('../../kube/rest.ts'),
        import('../../kube/paths.ts'),
      ]);
      const wanted = parseVersion(version);
      rejectProblems([...nameProblems(name), ...(wanted === undefined ? [`the version must look like v1, not "${version}"`] : [])]);
      const deps = await envDeps(ctx, o, { quiet: true });
      const dep = await readOwnEnv(deps.kube, name, Boolean(o.anyOwner));
      const records = snapshotRecords(dep);
      if (!records.some((r) => r.version === wanted)) {
        throw new RunboxError(`${name} has no version v${wanted}`, { hint: `see its versions with: runbox history ${name}` });
      }
      await callJson(deps.kube, {
        method: 'PATCH',
        path: objectPath('deployments', deps.kube.namespace, name),
        body: { metadata: { annotations: { [ANNOTATION.rollback]: `v${wanted}` } } },
        contentType: PATCH.merge,
      });
      const running = (dep.spec?.replicas ?? 1) > 0;
      ctx.io.stderr.write(
        `${name} runs v${wanted} from its next start${running ? `; changes since its last snapshot are dropped then (runbox stop ${name} applies it now)` : ''}\n`,
      );
    });
}
