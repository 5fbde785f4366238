import { ANNOTATION } from '../../contract/names.ts';
import { apiError } from '../../kube/api-error.ts';
import { objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { Deployment } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { readOwnEnv } from '../inspect/identity.ts';

/** A new value for a policy: a duration or `never`, or `default` to follow the cluster config again. */
export interface PolicyChange {
  dozeAfter?: string | undefined;
  sleepAfter?: string | undefined;
  /** on, off, or default. */
  boostFallback?: string | undefined;
}

/** Writes the environment's own idle policy; the controller sees it through its watch at once. */
export async function setIdlePolicy(deps: EnvDeps, req: { name: string; anyOwner: boolean; change: PolicyChange }): Promise<Deployment> {
  const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
  const value = (v: string | undefined) => (v === 'default' ? null : v);
  const annotations: Record<string, string | null> = {};
  if (req.change.dozeAfter !== undefined) annotations[ANNOTATION.dozeAfter] = value(req.change.dozeAfter) ?? null;
  if (req.change.sleepAfter !== undefined) annotations[ANNOTATION.sleepAfter] = value(req.change.sleepAfter) ?? null;
  if (req.change.boostFallback !== undefined) annotations[ANNOTATION.boostFallback] = value(req.change.boostFallback) ?? null;
  if (Object.keys(annotations).length === 0) return dep;
  try {
    return await callJson<Deployment>(deps.kube, {
      method: 'PATCH',
      path: objectPath('deployments', deps.kube.namespace, req.name),
      body: { metadata: { annotations } },
      contentType: PATCH.merge,
    });
  } catch (err) {
    throw apiError(err, `setting the idle policy of ${req.name}`, deps.kube.server);
  }
}
