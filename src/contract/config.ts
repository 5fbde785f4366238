/*
 * The cluster config every runbox program reads: one ConfigMap, in the
 * environment's namespace or else in the system namespace, whose keys an
 * admin sets once. Imports nothing.
 */

export const CONFIG_MAP = 'runbox-config';
export const SYSTEM_NAMESPACE = 'runbox-system';
/** The idle controller's leader-election Lease, in SYSTEM_NAMESPACE; every user may read it (runbox doctor). */
export const CONTROLLER_LEASE = 'runbox-controller';

/** Setting name -> ConfigMap key. */
export const CONFIG_KEYS = {
  nodeImage: 'node-image',
  image: 'image',
  storageClass: 'storage-class',
  registryPush: 'registry-push',
  registryPull: 'registry-pull',
  registrySecret: 'registry-secret',
  dozeAfter: 'doze-after',
  sleepAfter: 'sleep-after',
  boostFallback: 'boost-fallback',
} as const;

export type ConfigSetting = keyof typeof CONFIG_KEYS;
