/*
 * Names and labels of an environment's objects: deterministic, so every
 * operation (and the controller) finds the same objects from the name alone.
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
} as const;

export const WORKER = 'worker';
export const SIDECAR = 'sidecar';
export const DATA_PATH = '/data';

export const volumeClaimName = (env: string): string => `${env}-data`;
export const usageLedgerName = (env: string): string => `${env}-usage`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Leaves room for the `-data` suffix of the volume claim.
const MAX_NAME = 58;

/** Every problem with an environment name, as messages; empty when it is valid. */
export function nameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0) problems.push('the name is empty');
  else {
    if (name.length > MAX_NAME) problems.push(`it is longer than ${MAX_NAME} characters`);
    if (!DNS_LABEL.test(name)) {
      problems.push('it must consist of lower-case letters, digits and "-", and start and end with a letter or digit');
    }
  }
  return problems.map((p) => `invalid environment name "${name}": ${p}`);
}
