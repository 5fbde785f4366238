import { RunboxError, httpStatusOf } from '../errors.ts';
import { connectKube, type Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { exists, waitDeleted } from './wait-deleted.ts';
import type { EnvDeps } from './deps.ts';
import { whoAmI } from './identity.ts';
import { LABEL_MANAGED_BY, MANAGED_BY, volumeClaimName } from './names.ts';
import { cacheKey, writeEntry } from './pod-cache.ts';
import { deployment, volumeClaim, type EnvSpec } from './spec.ts';
import { summarize, type EnvSummary } from './status.ts';
import { waitReady } from './wait-ready.ts';

export interface CreateRequest extends Omit<EnvSpec, 'namespace' | 'owner'> {
  /** Keep what was created when the environment fails to start. */
  keep: boolean;
  timeoutMs: number;
}

/**
 * Creates the volume claim and the Deployment, then waits until both
 * containers are ready. On failure everything this call created is deleted
 * again (unless `keep`), so a bad image leaves nothing behind.
 */
export async function createEnv(deps: EnvDeps, req: CreateRequest): Promise<EnvSummary> {
  const kube = await connectKube(deps.sel, deps.env);
  const ns = kube.target.namespace;
  const owner = await whoAmI(kube.target);
  const spec: EnvSpec = { ...req, namespace: ns, owner };

  if (await exists(() => kube.apps.readNamespacedDeployment({ name: req.name, namespace: ns }), kube, 'checking for the environment')) {
    throw new RunboxError(`environment ${req.name} already exists in namespace ${ns}`, {
      hint: `use it with: runbox ${req.name} CMD, or delete it first: runbox delete ${req.name}`,
    });
  }
  const claim = volumeClaimName(req.name);
  const existingClaim = await exists(
    () => kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns }),
    kube,
    'checking for the volume',
  );
  if (existingClaim && existingClaim.metadata?.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
    throw new RunboxError(`a volume claim ${claim} that runbox did not create exists in namespace ${ns}`, {
      hint: 'choose another name',
    });
  }

  const created: ('claim' | 'deployment')[] = [];
  try {
    if (existingClaim) {
      deps.progress.step(`reusing the volume ${claim} kept from an earlier ${req.name}`);
    } else {
      deps.progress.step(`creating volume ${claim} (${req.volumeSize})`);
      await kube.core.createNamespacedPersistentVolumeClaim({ namespace: ns, body: volumeClaim(spec) });
      created.push('claim');
    }
    deps.progress.step(`creating deployment ${req.name} (image ${req.image})`);
    const dep = await kube.apps.createNamespacedDeployment({ namespace: ns, body: deployment(spec, deps.now()) });
    created.push('deployment');
    const pod = await waitReady(kube, req.name, { timeoutMs: req.timeoutMs, progress: deps.progress, signal: deps.signal });
    writeEntry(deps.cacheDir, cacheKey(kube.target.server, ns, req.name), { pod: pod.metadata?.name, units: req.allocation });
    return summarize(dep, [pod]);
  } catch (err) {
    if (!req.keep) await removeCreated(kube, req.name, created);
    throw err instanceof RunboxError ? err : apiError(err, `creating environment ${req.name}`, kube.target.server);
  }
}


/** Deletes what this create made and waits until it is gone, so a retry starts clean. */
async function removeCreated(kube: Kube, name: string, created: ('claim' | 'deployment')[]): Promise<void> {
  const ns = kube.target.namespace;
  const ignore404 = (err: unknown) => {
    if (httpStatusOf(err) !== 404) throw apiError(err, `cleaning up ${name}`, kube.target.server);
  };
  const claim = volumeClaimName(name);
  if (created.includes('deployment')) {
    await kube.apps
      .deleteNamespacedDeployment({ name, namespace: ns, propagationPolicy: 'Foreground' })
      .catch(ignore404);
  }
  if (created.includes('claim')) {
    await kube.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: ns }).catch(ignore404);
  }
  // Foreground deletion keeps the Deployment until its pods are gone, and the
  // claim stays (pvc-protection) until no pod mounts it.
  if (created.includes('deployment')) {
    await waitDeleted(kube, `/apis/apps/v1/namespaces/${ns}/deployments`, name, () =>
      kube.apps.readNamespacedDeployment({ name, namespace: ns }),
    );
  }
  if (created.includes('claim')) {
    await waitDeleted(kube, `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim, () =>
      kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns }),
    );
  }
}
