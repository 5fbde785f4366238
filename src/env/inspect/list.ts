import { LABEL_ENV, LABEL_MANAGED_BY, LABEL_OWNER, MANAGED_BY } from '../../contract/names.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, withQuery } from '../../kube/paths.ts';
import { callJson } from '../../kube/rest.ts';
import type { Deployment, List, Pod } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { whoAmI } from './identity.ts';
import { summarize, type EnvSummary } from './status.ts';

export interface ListRequest {
  /** Every owner's environments, not only the caller's. */
  allOwners: boolean;
  allNamespaces: boolean;
}

export async function listEnvs(deps: EnvDeps, req: ListRequest): Promise<EnvSummary[]> {
  const { kube } = deps;
  let labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  if (!req.allOwners) labelSelector += `,${LABEL_OWNER}=${(await whoAmI(kube)).label}`;
  const ns = req.allNamespaces ? undefined : kube.namespace;
  const list = <T>(resource: 'deployments' | 'pods') =>
    callJson<List<T>>(kube, { method: 'GET', path: withQuery(collectionPath(resource, ns), { labelSelector }) });
  try {
    const [deployments, pods] = await Promise.all([list<Deployment>('deployments'), list<Pod>('pods')]);
    const byEnv = new Map<string, Pod[]>();
    for (const p of pods.items) {
      const k = `${p.metadata?.namespace}/${p.metadata?.labels?.[LABEL_ENV]}`;
      byEnv.set(k, [...(byEnv.get(k) ?? []), p]);
    }
    return deployments.items
      .map((d) => summarize(d, byEnv.get(`${d.metadata?.namespace}/${d.metadata?.name}`) ?? []))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  } catch (err) {
    throw apiError(err, 'listing environments', kube.server);
  }
}
