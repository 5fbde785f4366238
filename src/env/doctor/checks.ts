import { CONFIG_MAP, SYSTEM_NAMESPACE } from '../../contract/config.ts';
import type { RunboxError } from '../../errors.ts';
import type { ConfigSource } from '../config/settings.ts';
import { RUNBOX_USER_ROLE, permissionText, type Permission } from './role.ts';

/*
 * The decisions of `runbox doctor`, one per check: plain data from the API
 * server in, one line out. No I/O here; run.ts makes the calls.
 */

export type CheckName = 'api-server' | 'in-place-resize' | 'config' | 'storage-class' | 'permissions' | 'node-image' | 'controller';

/** pass and warn let the run succeed (a warning: could not be checked); fail does not. */
export type CheckLevel = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  check: CheckName;
  level: CheckLevel;
  detail: string;
  /** What to do about it (fails, some warnings). */
  hint?: string | undefined;
}

export const pass = (check: CheckName, detail: string): CheckResult => ({ check, level: 'pass', detail });
export const warn = (check: CheckName, detail: string, hint?: string): CheckResult => ({ check, level: 'warn', detail, ...(hint ? { hint } : {}) });
export const fail = (check: CheckName, detail: string, hint?: string): CheckResult => ({ check, level: 'fail', detail, ...(hint ? { hint } : {}) });

/** A call that failed, as the line of its check: the api-error message and hint. */
export const failedCall = (check: CheckName, err: RunboxError): CheckResult => fail(check, err.message, err.hint);

/** 1. The answer of GET /version. */
export function apiServerCheck(server: string, version: { gitVersion?: string } | undefined): CheckResult {
  return pass('api-server', `API server ${server} (Kubernetes ${version?.gitVersion ?? 'version unknown'})`);
}

export const RESIZE_SUBRESOURCE = 'pods/resize';

/** 2. The core API's discovery document (GET /api/v1): does it serve pods/resize? */
export function inPlaceResizeCheck(discovery: { resources?: { name?: string }[] } | undefined): CheckResult {
  if (discovery?.resources?.some((r) => r.name === RESIZE_SUBRESOURCE)) {
    return pass('in-place-resize', `in-place resize available (${RESIZE_SUBRESOURCE})`);
  }
  return pass(
    'in-place-resize',
    'in-place resize not available: runbox resizes by replacing the pod (Kubernetes < 1.33 or the InPlacePodVerticalScaling feature gate is off)',
  );
}

/** What check 3 needs of a StorageClass. */
export interface StorageClassInfo {
  metadata?: { name?: string; annotations?: Record<string, string>; creationTimestamp?: string | Date } | undefined;
}

const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

const isDefaultClass = (sc: StorageClassInfo): boolean =>
  DEFAULT_CLASS_ANNOTATIONS.some((a) => sc.metadata?.annotations?.[a] === 'true');

const created = (sc: StorageClassInfo): number => new Date(sc.metadata?.creationTimestamp ?? 0).getTime();

const STORAGE_CLASS_HINT =
  'create one, or mark one the default (kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true), ' +
  'or name one with --storage-class / runbox config set storage-class NAME';

/**
 * 3. Where environments' volumes come from: the StorageClass the runbox
 * config names (`configured`, with where it is set), else the cluster's
 * default. `forbidden`: the user may not list StorageClasses.
 */
export function storageClassCheck(
  classes: StorageClassInfo[] | 'forbidden',
  configured?: { name: string; where: string } | undefined,
): CheckResult {
  if (classes === 'forbidden') return warn('storage-class', 'cannot list StorageClasses with your permissions; not checked');
  const names = classes.map((sc) => sc.metadata?.name ?? '?');
  if (configured) {
    if (names.includes(configured.name)) return pass('storage-class', `StorageClass ${configured.name} (set in ${configured.where})`);
    return fail(
      'storage-class',
      `StorageClass ${configured.name} (set in ${configured.where}) does not exist${names.length ? ` (there are: ${names.join(', ')})` : ''}`,
      'set one that exists: runbox config set storage-class NAME',
    );
  }
  // Several defaults: Kubernetes gives new claims the newest one.
  const defaults = classes.filter(isDefaultClass).sort((a, b) => created(b) - created(a));
  const [chosen] = defaults;
  if (!chosen) {
    return fail('storage-class', `no default StorageClass${names.length ? ` (there are: ${names.join(', ')})` : ''}`, STORAGE_CLASS_HINT);
  }
  const others = defaults.length > 1 ? ` (newest of ${defaults.length} marked default)` : '';
  return pass('storage-class', `default StorageClass ${chosen.metadata?.name ?? '?'}${others}`);
}

/** One SelfSubjectAccessReview's answer. */
export interface AccessAnswer {
  permission: Permission;
  allowed: boolean;
}

/** The permissions a denial names, for deciding what else can be checked. */
export const denied = (answers: AccessAnswer[]): Permission[] => answers.filter((a) => !a.allowed).map((a) => a.permission);

/** 4. The SelfSubjectAccessReviews, one per verb runbox-user grants; `user` as the cluster knows us. */
export function permissionsCheck(answers: AccessAnswer[], namespace: string, user: string): CheckResult {
  const missing = denied(answers);
  if (missing.length === 0) return pass('permissions', `permissions: all ${answers.length} verbs runbox needs in namespace ${namespace}`);
  return fail(
    'permissions',
    `not allowed in namespace ${namespace}: ${missing.map(permissionText).join(', ')}`,
    `bind the ${RUNBOX_USER_ROLE} role: ${bindCommand(user, namespace)} (see manifests/)`,
  );
}

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The kubectl command that binds runbox-user to a user (or service account) in a namespace. */
export function bindCommand(user: string, namespace: string): string {
  const sa = SERVICE_ACCOUNT.exec(user);
  const subject = sa ? `--serviceaccount ${sa[1]}:${sa[2]}` : `--user ${user}`;
  const binding = `runbox-${(sa ? sa[2]! : user).toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'user'}`;
  return `kubectl create rolebinding ${binding} --clusterrole ${RUNBOX_USER_ROLE} ${subject} -n ${namespace}`;
}

/** What `-o json` prints of a check. */
export interface CheckJson {
  check: CheckName;
  ok: boolean;
  detail: string;
  hint?: string;
  /** Set when the check could not be made (ok stays true). */
  warning?: true;
}

export function checkJson(r: CheckResult): CheckJson {
  return {
    check: r.check,
    ok: r.level !== 'fail',
    detail: r.detail,
    ...(r.hint ? { hint: r.hint } : {}),
    ...(r.level === 'warn' ? { warning: true as const } : {}),
  };
}

const MARK: Record<CheckLevel, string> = { pass: '✓', warn: '!', fail: '✗' };

/** One line of text output: mark, detail, and for what is not a pass, the hint. */
export function checkLine(r: CheckResult): string {
  return `${MARK[r.level]} ${r.detail}${r.hint && r.level !== 'pass' ? ` — ${r.hint}` : ''}`;
}

/** The run succeeds when nothing failed. */
export const allOk = (results: CheckResult[]): boolean => results.every((r) => r.level !== 'fail');

/** Where the storage class of the effective config was set, for its line. */
export function storageClassWhere(source: ConfigSource, namespace: string): string {
  switch (source) {
    case 'flag':
      return '--storage-class';
    case 'environment':
      return 'RUNBOX_STORAGE_CLASS';
    case 'namespace':
      return `${CONFIG_MAP} of namespace ${namespace}`;
    case 'cluster':
      return `${CONFIG_MAP} of namespace ${SYSTEM_NAMESPACE}`;
    case 'default':
      return 'the defaults';
    default:
      return ((s: never) => s)(source);
  }
}

/** What check 6 reads of the controller's Lease (runbox-system/runbox-controller). */
export interface ControllerLease {
  holderIdentity?: string;
  renewTime?: string;
  leaseDurationSeconds?: number;
}

const INSTALL = 'install it with: npm run build && kubectl apply -k manifests/ (an admin), or run it yourself: runbox controller';

/** 6. The idle controller runs when a replica holds its Lease and renewed it in time. */
export function controllerCheck(lease: ControllerLease | 'absent' | 'forbidden', now: Date): CheckResult {
  if (lease === 'forbidden') return warn('controller', 'idle controller not checked: you may not read its Lease in runbox-system');
  if (lease === 'absent' || !lease.holderIdentity) {
    return warn('controller', 'no idle controller runs: idle environments are not dozed or put to sleep', INSTALL);
  }
  const renewed = lease.renewTime ? Date.parse(lease.renewTime) : Number.NaN;
  const ago = Math.round((now.getTime() - renewed) / 1000);
  if (Number.isNaN(renewed) || ago > (lease.leaseDurationSeconds ?? 15) * 2) {
    return warn('controller', `the idle controller's Lease was last renewed ${Number.isNaN(ago) ? 'never' : `${ago} s ago`} (by ${lease.holderIdentity}): it is not running`, INSTALL);
  }
  return pass('controller', `idle controller running (leader ${lease.holderIdentity}, renewed ${Math.max(0, ago)} s ago)`);
}
