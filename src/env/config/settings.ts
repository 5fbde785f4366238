import { CONFIG_KEYS, type ConfigSetting } from '../../contract/config.ts';

/*
 * What each setting means, its default, and how a value is checked: pure, so
 * the same rules hold for `runbox config set`, for a ConfigMap an admin wrote
 * by hand, and for a flag.
 */

export type ConfigSource = 'flag' | 'environment' | 'namespace' | 'cluster' | 'default';

export interface Setting {
  value: string | undefined;
  source: ConfigSource;
}

export type EffectiveConfig = Record<ConfigSetting, Setting>;

interface Rule {
  description: string;
  default?: string;
  check: (value: string) => string | undefined;
}

const IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const HOST = /^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._/-]+)?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DURATION = /^(never|[0-9]+(s|m|h|d))$/;

const matches = (re: RegExp, what: string) => (v: string) => (re.test(v) ? undefined : `must be ${what}`);

export const RULES: Record<ConfigSetting, Rule> = {
  nodeImage: { description: 'the Node 24 image the sidecar runs on', default: 'node:24-slim', check: matches(IMAGE, 'an image reference such as node:24-slim') },
  image: { description: 'the default environment image', default: 'debian:bookworm', check: matches(IMAGE, 'an image reference such as debian:bookworm') },
  storageClass: { description: "the environments' volume StorageClass (empty: the cluster default)", check: matches(NAME, 'a StorageClass name') },
  registryPush: { description: 'where sidecars push snapshots (host[:port][/path], as pods see it)', check: matches(HOST, 'host[:port][/path]') },
  registryPull: { description: 'where nodes pull snapshots from (host[:port][/path])', check: matches(HOST, 'host[:port][/path]') },
  registrySecret: { description: 'the Secret with registry credentials (sidecar only)', check: matches(NAME, 'a Secret name') },
  dozeAfter: { description: 'idle time before an environment is shrunk (90s, 5m, 1h, never)', default: '10m', check: matches(DURATION, 'a duration such as 90s, 5m, 1h, or never') },
  sleepAfter: { description: 'idle time before an environment is put to sleep (90s, 5m, 1h, never)', default: '30m', check: matches(DURATION, 'a duration such as 90s, 5m, 1h, or never') },
  boostFallback: { description: 'on: a boost (-a) ends when the environment dozes or sleeps; its next command runs at its baseline', default: 'off', check: matches(/^(on|off)$/, 'on or off') },
};

export const SETTINGS = Object.keys(CONFIG_KEYS) as ConfigSetting[];

/** The setting a ConfigMap key stands for. */
export function settingOfKey(key: string): ConfigSetting | undefined {
  return SETTINGS.find((s) => CONFIG_KEYS[s] === key);
}

/** Every problem with a ConfigMap's data, each naming where it is. */
export function configProblems(data: Record<string, string>, where: string): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const setting = settingOfKey(key);
    if (!setting) {
      problems.push(`${where}: unknown key "${key}" (known: ${SETTINGS.map((s) => CONFIG_KEYS[s]).join(', ')})`);
      continue;
    }
    const problem = RULES[setting].check(value);
    if (problem) problems.push(`${where}: ${key} ${problem}, not "${value}"`);
  }
  return problems;
}

/** Each setting from the first layer that has it: flag or environment, namespace, cluster, default. */
export function effectiveConfig(layers: {
  overrides: Partial<Record<ConfigSetting, Setting>>;
  namespace?: Record<string, string> | undefined;
  cluster?: Record<string, string> | undefined;
}): EffectiveConfig {
  const out = {} as EffectiveConfig;
  for (const s of SETTINGS) {
    const key = CONFIG_KEYS[s];
    const override = layers.overrides[s];
    if (override?.value !== undefined) out[s] = override;
    else if (layers.namespace?.[key] !== undefined) out[s] = { value: layers.namespace[key], source: 'namespace' };
    else if (layers.cluster?.[key] !== undefined) out[s] = { value: layers.cluster[key], source: 'cluster' };
    else out[s] = { value: RULES[s].default, source: 'default' };
  }
  return out;
}
