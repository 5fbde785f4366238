import { Command } from 'commander';
import { CONFIG_KEYS, CONFIG_MAP, SYSTEM_NAMESPACE } from '../../contract/config.ts';
import { RunboxError } from '../../errors.ts';
import { RULES, SETTINGS, settingOfKey } from '../../env/config/settings.ts';
import { envDeps, outputFormat, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { configOverrides } from '../config-overrides.ts';
import { table } from '../format.ts';

interface SetOptions extends GlobalOptions {
  cluster?: boolean;
}

export function configCommand(ctx: CliContext): Command {
  const config = withGlobals(new Command('config'))
    .description(`show the effective cluster config (${CONFIG_MAP}) and where each value comes from`)
    .action(async (o: GlobalOptions) => {
      const { readClusterConfig } = await import('../../env/config/cluster-config.ts');
      const deps = await envDeps(ctx, o, { quiet: true });
      const effective = await readClusterConfig(deps.kube, configOverrides(ctx.io.env, {}));
      if (outputFormat(o) === 'json') {
        ctx.io.stdout.write(`${JSON.stringify(Object.fromEntries(SETTINGS.map((s) => [CONFIG_KEYS[s], effective[s]])), null, 2)}\n`);
        return;
      }
      const where = (source: string) =>
        source === 'namespace' ? `namespace ${deps.kube.namespace}` : source === 'cluster' ? `namespace ${SYSTEM_NAMESPACE}` : source;
      ctx.io.stdout.write(
        table([
          ['KEY', 'VALUE', 'SOURCE', 'WHAT'],
          ...SETTINGS.map((s) => [CONFIG_KEYS[s], effective[s].value ?? '-', where(effective[s].source), RULES[s].description]),
        ]),
      );
    });
  config.addCommand(
    withGlobals(new Command('set'))
      .description(`write one key into ${CONFIG_MAP} of the namespace (default) or of the cluster (${SYSTEM_NAMESPACE}); for admins`)
      .argument('<key>', SETTINGS.map((s) => CONFIG_KEYS[s]).join(', '))
      .argument('<value>', 'the value')
      .option('--cluster', `write the cluster-wide config in ${SYSTEM_NAMESPACE} instead of the namespace's`)
      .action(async (key: string, value: string, _o: SetOptions, cmd: Command) => {
        // Global flags may come before `set` (runbox -n NS config set ...): take the parent's too.
        const o = cmd.optsWithGlobals<SetOptions>();
        const setting = settingOfKey(key);
        if (!setting) {
          throw new RunboxError(`unknown config key "${key}"`, { hint: `known keys: ${SETTINGS.map((s) => CONFIG_KEYS[s]).join(', ')}` });
        }
        const { setClusterConfig } = await import('../../env/config/cluster-config.ts');
        const deps = await envDeps(ctx, o, { quiet: true });
        const namespace = await setClusterConfig(deps.kube, { setting, value, scope: o.cluster ? 'cluster' : 'namespace' });
        ctx.io.stderr.write(`${key}=${value} set in ${CONFIG_MAP} of namespace ${namespace}\n`);
      }),
  );
  return config;
}
