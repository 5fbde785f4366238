/*
 * Every API path runbox calls, built in one place with every segment encoded:
 * a namespace or name is never pasted into a URL by hand elsewhere.
 */

export type Resource =
  | 'pods'
  | 'deployments'
  | 'persistentvolumeclaims'
  | 'configmaps'
  | 'secrets'
  | 'events'
  | 'leases';

const GROUP: Record<Resource, string> = {
  pods: '/api/v1',
  persistentvolumeclaims: '/api/v1',
  configmaps: '/api/v1',
  secrets: '/api/v1',
  events: '/api/v1',
  deployments: '/apis/apps/v1',
  leases: '/apis/coordination.k8s.io/v1',
};

const seg = encodeURIComponent;

/** A namespaced collection (namespace given) or the cluster-wide one (namespace undefined). */
export function collectionPath(resource: Resource, namespace: string | undefined): string {
  return namespace === undefined
    ? `${GROUP[resource]}/${resource}`
    : `${GROUP[resource]}/namespaces/${seg(namespace)}/${resource}`;
}

/** One object, optionally one of its subresources (scale, resize, status, exec). */
export function objectPath(resource: Resource, namespace: string, name: string, subresource?: string): string {
  return `${collectionPath(resource, namespace)}/${seg(name)}${subresource ? `/${subresource}` : ''}`;
}

/** A path with a query string; undefined values are left out. */
export function withQuery(path: string, query: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const NODES_PATH = '/api/v1/nodes';
export const nodePath = (name: string): string => `${NODES_PATH}/${seg(name)}`;
export const SELF_SUBJECT_REVIEW_PATH = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
export const SELF_SUBJECT_ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
export const CORE_DISCOVERY_PATH = '/api/v1';
export const VERSION_PATH = '/version';
export const STORAGE_CLASSES_PATH = '/apis/storage.k8s.io/v1/storageclasses';
