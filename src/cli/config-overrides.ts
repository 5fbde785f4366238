import type { ConfigSetting } from '../contract/config.ts';
import type { Setting } from '../env/config/settings.ts';

/** Environment variables that override one setting for one command. */
const VARIABLES: Partial<Record<ConfigSetting, string>> = {
  nodeImage: 'RUNBOX_NODE_IMAGE',
  image: 'RUNBOX_IMAGE',
  storageClass: 'RUNBOX_STORAGE_CLASS',
};

/** Per-command overrides of the cluster config: flags first, then environment variables. */
export function configOverrides(
  env: NodeJS.ProcessEnv,
  flags: Partial<Record<ConfigSetting, string | undefined>>,
): Partial<Record<ConfigSetting, Setting>> {
  const out: Partial<Record<ConfigSetting, Setting>> = {};
  for (const [setting, variable] of Object.entries(VARIABLES) as [ConfigSetting, string][]) {
    if (env[variable]) out[setting] = { value: env[variable], source: 'environment' };
  }
  for (const [setting, value] of Object.entries(flags) as [ConfigSetting, string | undefined][]) {
    if (value !== undefined) out[setting] = { value, source: 'flag' };
  }
  return out;
}
