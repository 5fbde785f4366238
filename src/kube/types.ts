// The Kubernetes object shapes runbox reads and writes. Types only: importing
// them loads nothing, and the rest of runbox names them through this file.
export type {
  V1ConfigMap as ConfigMap,
  V1Container as Container,
  V1Deployment as Deployment,
  V1Node as Node,
  V1PersistentVolumeClaim as PersistentVolumeClaim,
  V1Pod as Pod,
  V1Volume as Volume,
} from '@kubernetes/client-node';

/** Any list the API returns. */
export interface List<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}
