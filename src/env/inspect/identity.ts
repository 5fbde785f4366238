import { ANNOTATION, LABEL_OWNER } from '../../contract/names.ts';
import { RunboxError, httpStatusOf } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { SELF_SUBJECT_REVIEW_PATH } from '../../kube/paths.ts';
import { callJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Deployment } from '../../kube/types.ts';
import { readEnv } from './lookup.ts';
import { ownerLabel } from './owner.ts';

export interface Identity {
  user: string;
  label: string;
}

/** Who the cluster says we are (SelfSubjectReview, GA since Kubernetes 1.28). */
export async function whoAmI(kube: KubeTarget): Promise<Identity> {
  try {
    const review = await callJson<{ status?: { userInfo?: { username?: string } } }>(kube, {
      method: 'POST',
      path: SELF_SUBJECT_REVIEW_PATH,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    const user = review.status?.userInfo?.username;
    if (!user) throw new RunboxError('the cluster did not say who you are');
    return { user, label: ownerLabel(user) };
  } catch (err) {
    const status = httpStatusOf(err);
    if (status === 404 || status === 403) {
      // Older clusters or restricted users: fall back to the kubeconfig user's name.
      const user = kube.user ?? 'unknown';
      return { user, label: ownerLabel(user) };
    }
    throw apiError(err, 'asking the cluster who you are', kube.server);
  }
}

/** Refuses to act on somebody else's environment unless asked to. */
export function assertOwner(dep: Deployment, me: Identity, allowOthers: boolean): void {
  if (allowOthers) return;
  const label = dep.metadata?.labels?.[LABEL_OWNER];
  if (label === undefined || label === me.label) return;
  const owner = dep.metadata?.annotations?.[ANNOTATION.owner] ?? label;
  throw new RunboxError(`environment ${dep.metadata?.name} belongs to ${owner}, not to you (${me.user})`, {
    hint: 'pass --any-owner to act on it anyway',
  });
}

/** The environment, after checking that it is ours to act on. */
export async function readOwnEnv(kube: KubeTarget, name: string, anyOwner: boolean): Promise<Deployment> {
  const [dep, me] = await Promise.all([readEnv(kube, name), whoAmI(kube)]);
  assertOwner(dep, me, anyOwner);
  return dep;
}
