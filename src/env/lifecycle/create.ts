import { LABEL_MANAGED_BY, MANAGED_BY, volumeClaimName } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath, type Resource } from '../../kube/paths.ts';
import { callJson, getIfExists } from '../../kube/rest.ts';
import type { Deployment, PersistentVolumeClaim, Pod } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { whoAmI } from '../inspect/identity.ts';
import { summarize, type EnvSummary } from '../inspect/status.ts';
import { ensureSidecarBundle } from './sidecar.ts';
import { deployment, volumeClaim, type EnvSpec } from './spec.ts';
import { deleteAndWait, type Created } from './delete-objects.ts';
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
export async function createEnv(deps: EnvDeps, req: CreateRequest): Promise<{ summary: EnvSummary; pod: Pod }> {
  const { kube } = deps;
  const ns = kube.namespace;
  const owner = await whoAmI(kube);
  const spec: EnvSpec = { ...req, namespace: ns, owner };
  const read = <T>(resource: Resource, name: string, doing: string) =>
    getIfExists<T>(kube, objectPath(resource, ns, name)).catch((err: unknown) => {
      throw apiError(err, doing, kube.server);
    });

  if (await read<Deployment>('deployments', req.name, 'checking for the environment')) {
    throw new RunboxError(`environment ${req.name} already exists in namespace ${ns}`, {
      hint: `use it with: runbox ${req.name} CMD, or delete it first: runbox delete ${req.name}`,
    });
  }
  const claim = volumeClaimName(req.name);
  const existingClaim = await read<PersistentVolumeClaim>('persistentvolumeclaims', claim, 'checking for the volume');
  if (existingClaim && existingClaim.metadata?.labels?.[LABEL_MANAGED_BY] !== MANAGED_BY) {
    throw new RunboxError(`a volume claim ${claim} that runbox did not create exists in namespace ${ns}`, {
      hint: 'choose another name',
    });
  }

  const created: Created[] = [];
  try {
    await ensureSidecarBundle(kube, req.sidecar);
    if (existingClaim) {
      deps.progress.step(`reusing the volume ${claim} kept from an earlier ${req.name}`);
    } else {
      deps.progress.step(`creating volume ${claim} (${req.volumeSize})`);
      await callJson(kube, { method: 'POST', path: collectionPath('persistentvolumeclaims', ns), body: volumeClaim(spec) });
      created.push({ resource: 'persistentvolumeclaims', name: claim });
    }
    deps.progress.step(`creating deployment ${req.name} (image ${req.image})`);
    const dep = await callJson<Deployment>(kube, {
      method: 'POST',
      path: collectionPath('deployments', ns),
      body: deployment(spec, deps.clock.now()),
    });
    created.push({ resource: 'deployments', name: req.name });
    const pod = await waitReady(kube, req.name, {
      timeoutMs: req.timeoutMs,
      progress: deps.progress,
      signal: deps.signal,
      until: 'pod-ready',
    });
    return { summary: summarize(dep, [pod]), pod };
  } catch (err) {
    if (!req.keep) await deleteAndWait(kube, created.reverse());
    throw err instanceof RunboxError ? err : apiError(err, `creating environment ${req.name}`, kube.server);
  }
}
