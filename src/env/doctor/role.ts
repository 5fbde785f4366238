/*
 * What runbox does in a namespace, as the rules of the ClusterRole
 * runbox-user in manifests/user-role.yaml (role.test.ts keeps the two the
 * same): what `runbox doctor` asks the cluster about, one verb at a time.
 */

export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const RUNBOX_USER_ROLE = 'runbox-user';

export const RUNBOX_USER_RULES: readonly RoleRule[] = [
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: ['apps'], resources: ['deployments/scale'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods/resize'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch', 'update', 'delete'] },
  // get for the websocket upgrade up to 1.34, create from 1.35 on.
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['get', 'create'] },
];

/** One thing runbox does: a verb on a resource (or subresource) of an API group. */
export interface Permission {
  verb: string;
  group: string;
  /** As RBAC writes it: `pods/exec` for a subresource. */
  resource: string;
}

/** Every verb of the rules, one entry each, in the rules' order. */
export function permissionsOf(rules: readonly RoleRule[]): Permission[] {
  return rules.flatMap((r) =>
    r.apiGroups.flatMap((group) => r.resources.flatMap((resource) => r.verbs.map((verb) => ({ verb, group, resource })))),
  );
}

/** How a permission reads in a line: `create pods/exec`. */
export const permissionText = (p: Permission): string => `${p.verb} ${p.resource}`;

/** The resourceAttributes of a SelfSubjectAccessReview asking for one permission in a namespace. */
export function resourceAttributes(p: Permission, namespace: string): Record<string, string> {
  const [resource = p.resource, subresource] = p.resource.split('/');
  return { namespace, verb: p.verb, group: p.group, resource, ...(subresource ? { subresource } : {}) };
}
