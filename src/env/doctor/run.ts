import { randomBytes } from 'node:crypto';
import { CONTROLLER_LEASE, SYSTEM_NAMESPACE, type ConfigSetting } from '../../contract/config.ts';
import { httpStatusOf } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { CORE_DISCOVERY_PATH, SELF_SUBJECT_ACCESS_REVIEW_PATH, STORAGE_CLASSES_PATH, VERSION_PATH, collectionPath, objectPath } from '../../kube/paths.ts';
import { callJson, requestJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { List, Pod } from '../../kube/types.ts';
import { waitFor } from '../../kube/watch.ts';
import { readClusterConfig } from '../config/cluster-config.ts';
import type { EffectiveConfig, Setting } from '../config/settings.ts';
import type { EnvDeps } from '../deps.ts';
import { whoAmI } from '../inspect/identity.ts';
import {
  apiServerCheck,
  controllerCheck,
  denied,
  failedCall,
  inPlaceResizeCheck,
  permissionsCheck,
  storageClassCheck,
  storageClassWhere,
  warn,
  type AccessAnswer,
  type CheckName,
  type CheckResult,
  type ControllerLease,
  type StorageClassInfo,
} from './checks.ts';
import {
  PROBE_TIMEOUT_MS,
  nodeImageCheck,
  nodeImageTimeout,
  probeDecision,
  probeDeployment,
  probeName,
  probePodsQuery,
  probeWaiting,
  type ProbeOutcome,
} from './probe.ts';
import { RUNBOX_USER_RULES, permissionText, permissionsOf, resourceAttributes, type Permission } from './role.ts';


export interface DoctorRequest {
  /** Flags and environment variables over the cluster config (RUNBOX_NODE_IMAGE, RUNBOX_STORAGE_CLASS). */
  overrides: Partial<Record<ConfigSetting, Setting>>;
}

/**
 * Checks the current context as `flux check` does, one result per check, in
 * order. A check that cannot be made says so (a warning) and the others go
 * on; an API server that cannot be reached ends the run. Throws only when
 * cancelled, after deleting what it created.
 */
export async function runDoctor(deps: EnvDeps, req: DoctorRequest): Promise<CheckResult[]> {
  const { kube, progress, signal } = deps;
  const ns = kube.namespace;
  const results: CheckResult[] = [];
  const failed = (check: CheckName, doing: string, err: unknown): CheckResult => {
    if (signal?.aborted) throw err;
    return failedCall(check, apiError(err, doing, kube.server));
  };

  // 1. The API server answers, and which Kubernetes it is.
  progress.step('asking the API server its version');
  try {
    results.push(apiServerCheck(kube.server, await callJson<{ gitVersion?: string }>(kube, { method: 'GET', path: VERSION_PATH, signal })));
  } catch (err) {
    return [failed('api-server', 'asking the API server its version', err)];
  }

  // 2. In-place resize: the pods/resize subresource is served.
  progress.step('looking for in-place resize');
  try {
    results.push(inPlaceResizeCheck(await callJson(kube, { method: 'GET', path: CORE_DISCOVERY_PATH, signal })));
  } catch (err) {
    results.push(failed('in-place-resize', 'reading the core API discovery', err));
  }

  // The cluster config names the Node image and may name a StorageClass.
  progress.step('reading the runbox config');
  let config: EffectiveConfig | undefined;
  try {
    config = await readClusterConfig(kube, req.overrides);
  } catch (err) {
    results.push(failed('config', 'reading the runbox config', err));
  }

  // 3. Where volumes come from.
  progress.step('looking for the default StorageClass');
  try {
    const listed = await requestJson(kube, { method: 'GET', path: STORAGE_CLASSES_PATH, signal });
    if (listed.status === 403) results.push(storageClassCheck('forbidden'));
    else if (listed.status < 200 || listed.status >= 300) throw Object.assign(new Error(`HTTP ${listed.status}`), { code: listed.status, body: listed.body });
    else {
      const configured = config?.storageClass.value;
      results.push(
        storageClassCheck(
          (listed.body as List<StorageClassInfo>).items,
          configured ? { name: configured, where: storageClassWhere(config!.storageClass.source, ns) } : undefined,
        ),
      );
    }
  } catch (err) {
    results.push(failed('storage-class', 'listing StorageClasses', err));
  }

  // 4. RBAC: every verb of the runbox-user role, asked for at once.
  progress.step(`checking your permissions in namespace ${ns}`);
  let missing: Permission[] | undefined;
  try {
    const answers = await Promise.all(permissionsOf(RUNBOX_USER_RULES).map((p) => mayI(kube, p, signal)));
    missing = denied(answers);
    const user = missing.length > 0 ? (await whoAmI(kube)).user : '';
    results.push(permissionsCheck(answers, ns, user));
  } catch (err) {
    if (httpStatusOf(err) === 403 && !signal?.aborted) {
      results.push(warn('permissions', 'cannot ask the cluster what you may do (SelfSubjectAccessReview is forbidden); not checked'));
    } else results.push(failed('permissions', 'asking the cluster what you may do', err));
  }

  // 5. The sidecar's Node image runs on a node.
  const image = config?.nodeImage.value;
  const blocked = missing?.filter((p) => PROBE_NEEDS.includes(permissionText(p)));
  if (!image) results.push(warn('node-image', 'Node image not checked: the runbox config could not be read'));
  else if (blocked?.length) {
    results.push(warn('node-image', `Node image ${image} not checked: not allowed to ${blocked.map(permissionText).join(', ')}`));
  } else {
    results.push(await probeNodeImage(deps, image));
  }

  // 6. The idle controller holds its Lease.
  progress.step('looking for the idle controller');
  try {
    const res = await requestJson(kube, { method: 'GET', path: objectPath('leases', SYSTEM_NAMESPACE, CONTROLLER_LEASE), signal });
    if (res.status === 403) results.push(controllerCheck('forbidden', deps.clock.now()));
    else if (res.status === 404) results.push(controllerCheck('absent', deps.clock.now()));
    else if (res.status >= 300) throw Object.assign(new Error(`HTTP ${res.status}`), { code: res.status, body: res.body });
    else results.push(controllerCheck((res.body as { spec?: ControllerLease }).spec ?? {}, deps.clock.now()));
  } catch (err) {
    results.push(failed('controller', 'reading the idle controller Lease', err));
  }
  return results;
}

/** What check 5 does in the namespace: without these it is not made. */
const PROBE_NEEDS = ['create deployments', 'delete deployments', 'list pods', 'watch pods'];

async function mayI(kube: KubeTarget, permission: Permission, signal: AbortSignal | undefined): Promise<AccessAnswer> {
  const review = await callJson<{ status?: { allowed?: boolean } }>(kube, {
    method: 'POST',
    path: SELF_SUBJECT_ACCESS_REVIEW_PATH,
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: resourceAttributes(permission, kube.namespace) },
    },
    signal,
  });
  return { permission, allowed: review.status?.allowed === true };
}

class ProbeTimeout extends Error {
  readonly lastReason: string;
  constructor(lastReason: string) {
    super('timed out');
    this.lastReason = lastReason;
  }
}

/** Runs node from the image in a throwaway Deployment and deletes it again, whatever happens. */
async function probeNodeImage(deps: EnvDeps, image: string): Promise<CheckResult> {
  const { kube, progress, signal } = deps;
  const runId = randomBytes(3).toString('hex');
  const name = probeName(runId);
  const step = `checking that a node can run the Node image ${image}`;
  progress.step(step);
  try {
    await callJson(kube, { method: 'POST', path: collectionPath('deployments', kube.namespace), body: probeDeployment(runId, image), signal });
    let lastReason = 'no pod yet';
    const outcome = await waitFor<Pod, ProbeOutcome>(kube, {
      path: collectionPath('pods', kube.namespace),
      query: probePodsQuery(runId),
      timeoutMs: PROBE_TIMEOUT_MS,
      signal,
      onTimeout: () => new ProbeTimeout(lastReason),
      decide: (phase, pod) => {
        const decision = probeDecision(phase, pod);
        const reason = decision ? undefined : probeWaiting(pod);
        if (reason && reason !== lastReason) {
          lastReason = reason;
          progress.step(`${step}: ${reason}`);
        }
        return decision;
      },
    });
    return nodeImageCheck(image, outcome);
  } catch (err) {
    if (err instanceof ProbeTimeout) return nodeImageTimeout(image, PROBE_TIMEOUT_MS / 1000, err.lastReason);
    if (signal?.aborted) throw err;
    return failedCall('node-image', apiError(err, `checking the Node image ${image}`, kube.server));
  } finally {
    await deleteProbe(deps, name);
  }
}

/** Deletes the check's Deployment (its pods go with it); not cancellable, so Ctrl-C leaves nothing behind. */
async function deleteProbe(deps: EnvDeps, name: string): Promise<void> {
  const { kube } = deps;
  try {
    await callJson(kube, {
      method: 'DELETE',
      path: objectPath('deployments', kube.namespace, name),
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    });
  } catch (err) {
    if (httpStatusOf(err) === 404) return;
    const e = apiError(err, `deleting Deployment ${name}`, kube.server);
    deps.notice(`${e.message}; delete it with: kubectl delete deployment ${name} -n ${kube.namespace}`);
  }
}
