/*
 * Names, labels and annotations shared by the CLI, the sidecar and the
 * controller. Deterministic, so every program finds an environment's objects
 * from its name alone. Imports nothing.
 */

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_ENV = 'runbox.dev/env';
export const LABEL_OWNER = 'runbox.dev/owner';
export const MANAGED_BY = 'runbox';

export const ANNOTATION = {
  owner: 'runbox.dev/owner',
  image: 'runbox.dev/image',
  allocation: 'runbox.dev/allocation',
  /** The worker's exact resources as JSON {cpu, memory}: what a wake applies. */
  resources: 'runbox.dev/resources',
  lastActivity: 'runbox.dev/last-activity',
  /** On the pod template: set to force a new pod (as kubectl rollout restart). */
  replacedAt: 'runbox.dev/replaced-at',
  /** On the pod template: which sidecar it runs (bundle hash and Node image, or an image). */
  sidecar: 'runbox.dev/sidecar',
  /** The root-filesystem snapshots, as JSON (see contract/snapshot.ts SnapshotRecord[]). */
  snapshots: 'runbox.dev/snapshots',
  /** The version the next start runs when it is not the latest (a rollback), e.g. "v1". */
  rollback: 'runbox.dev/rollback',
  /** Idle policy: how long idle before the worker is shrunk, and before it sleeps (90s, 5m, 1h, never). */
  dozeAfter: 'runbox.dev/doze-after',
  sleepAfter: 'runbox.dev/sleep-after',
  /** `on`: an idle environment's allocation falls back to its baseline (a boost with -a ends) when it dozes or sleeps. */
  boostFallback: 'runbox.dev/boost-fallback',
  /** The allocation it was created with, as JSON {units, resources}: what a boost falls back to. */
  baseline: 'runbox.dev/baseline',
  /** Dozing or sleeping, since when, why and by whom, as JSON (see contract/idle.ts IdleRecord). */
  idle: 'runbox.dev/idle',
} as const;

/** The environment's containers. */
export const WORKER = 'worker';
export const SIDECAR = 'sidecar';
/** Where the environment's volume is mounted in both containers. */
export const DATA_PATH = '/data';
/** The worker's environment variable naming its environment. */
export const ENV_VARIABLE = 'RUNBOX_ENV';

export const volumeClaimName = (env: string): string => `${env}-data`;
export const usageLedgerName = (env: string): string => `${env}-usage`;
/** Shards of the usage ledger, one per period (see src/env/usage). */
export const usageShardName = (env: string, period: string): string => `${env}-usage-${period}`;
