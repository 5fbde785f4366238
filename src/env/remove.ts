import { httpStatusOf } from '../errors.ts';
import { connectKube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import type { EnvDeps } from './deps.ts';
import { assertOwner, whoAmI } from './identity.ts';
import { readEnv } from './lookup.ts';
import { waitDeleted } from './wait-deleted.ts';
import { usageLedgerName, volumeClaimName } from './names.ts';
import { cacheKey, writeEntry } from './pod-cache.ts';
import { sleepEnv } from './scale.ts';

export interface TargetRequest {
  name: string;
  anyOwner: boolean;
}

/** Deletes the Deployment and, unless kept, the volume with the user's files. */
export async function deleteEnv(deps: EnvDeps, req: TargetRequest & { keepVolume: boolean }): Promise<void> {
  const kube = await connectKube(deps.sel, deps.env);
  const ns = kube.target.namespace;
  const [dep, me] = await Promise.all([readEnv(kube.target, req.name), whoAmI(kube.target)]);
  assertOwner(dep, me, req.anyOwner);
  try {
    deps.progress.step(`deleting deployment ${req.name}`);
    await kube.apps.deleteNamespacedDeployment({ name: req.name, namespace: ns, propagationPolicy: 'Foreground' });
    if (!req.keepVolume) {
      const gone = (err: unknown) => {
        if (httpStatusOf(err) !== 404) throw err;
      };
      deps.progress.step(`deleting volume ${volumeClaimName(req.name)} and the usage ledger`);
      await kube.core.deleteNamespacedPersistentVolumeClaim({ name: volumeClaimName(req.name), namespace: ns }).catch(gone);
      await kube.core.deleteNamespacedConfigMap({ name: usageLedgerName(req.name), namespace: ns }).catch(gone);
    }
  } catch (err) {
    throw apiError(err, `deleting ${req.name}`, kube.target.server);
  }
  // As kubectl delete: return once it is gone, so the name can be used again at once.
  deps.progress.step(`waiting for ${req.name} to be gone`);
  await waitDeleted(kube, `/apis/apps/v1/namespaces/${ns}/deployments`, req.name, () =>
    kube.apps.readNamespacedDeployment({ name: req.name, namespace: ns }),
  );
  if (!req.keepVolume) {
    const claim = volumeClaimName(req.name);
    await waitDeleted(kube, `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim, () =>
      kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns }),
    );
  }
  writeEntry(deps.cacheDir, cacheKey(kube.target.server, ns, req.name), { pod: undefined, ...(req.keepVolume ? {} : { pending: [] }) });
  deps.progress.done(`deleted ${req.name}${req.keepVolume ? ` (volume ${volumeClaimName(req.name)} and usage ledger kept)` : ''}`);
}

/** Scales the environment to zero; its volume and state stay. */
export async function stopEnv(deps: EnvDeps, req: TargetRequest): Promise<void> {
  const kube = await connectKube(deps.sel, deps.env);
  const [dep, me] = await Promise.all([readEnv(kube.target, req.name), whoAmI(kube.target)]);
  assertOwner(dep, me, req.anyOwner);
  deps.progress.step(`stopping ${req.name}`);
  await sleepEnv(kube, req.name);
  writeEntry(deps.cacheDir, cacheKey(kube.target.server, kube.target.namespace, req.name), { pod: undefined });
  deps.progress.done(`${req.name} is sleeping`);
}
