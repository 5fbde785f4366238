import type { V1Pod } from '@kubernetes/client-node';
import { connectKube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import type { EnvDeps } from './deps.ts';
import { whoAmI } from './identity.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, LABEL_OWNER, MANAGED_BY } from './names.ts';
import { summarize, type EnvSummary } from './status.ts';

export interface ListRequest {
  /** Every owner's environments, not only the caller's. */
  allOwners: boolean;
  allNamespaces: boolean;
}

export async function listEnvs(deps: EnvDeps, req: ListRequest): Promise<EnvSummary[]> {
  const kube = await connectKube(deps.sel, deps.env);
  const ns = kube.target.namespace;
  let selector = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  if (!req.allOwners) selector += `,${LABEL_OWNER}=${(await whoAmI(kube.target)).label}`;
  try {
    const [deps_, pods] = req.allNamespaces
      ? await Promise.all([
          kube.apps.listDeploymentForAllNamespaces({ labelSelector: selector }),
          kube.core.listPodForAllNamespaces({ labelSelector: selector }),
        ])
      : await Promise.all([
          kube.apps.listNamespacedDeployment({ namespace: ns, labelSelector: selector }),
          kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
        ]);
    const byEnv = new Map<string, V1Pod[]>();
    for (const p of pods.items) {
      const k = `${p.metadata?.namespace}/${p.metadata?.labels?.[LABEL_ENV]}`;
      byEnv.set(k, [...(byEnv.get(k) ?? []), p]);
    }
    return deps_.items
      .map((d) => summarize(d, byEnv.get(`${d.metadata?.namespace}/${d.metadata?.name}`) ?? []))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  } catch (err) {
    throw apiError(err, 'listing environments', kube.target.server);
  }
}
