import { httpStatusOf } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { objectPath, type Resource } from '../../kube/paths.ts';
import { callJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import { waitDeleted } from './wait-deleted.ts';

export interface Created {
  resource: Resource;
  name: string;
}

/**
 * Deletes the objects in order and returns once they are gone, as kubectl
 * delete does, so the names can be used again at once. Foreground deletion
 * keeps a Deployment until its pods are gone; a claim stays (pvc-protection)
 * until no pod mounts it.
 */
export async function deleteAndWait(kube: KubeTarget, objects: Created[]): Promise<void> {
  for (const o of objects) {
    try {
      await callJson(kube, {
        method: 'DELETE',
        path: objectPath(o.resource, kube.namespace, o.name),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground' },
      });
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw apiError(err, `deleting ${o.name}`, kube.server);
    }
  }
  for (const o of objects) await waitDeleted(kube, o.resource, o.name);
}
