import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath, withQuery } from '../../kube/paths.ts';
import { ApiStatusError, PATCH, callJson, getIfExists, requestJson, type RequestOptions } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { ConfigMap, List } from '../../kube/types.ts';

/*
 * The ConfigMap calls the usage ledger makes, as answers the ledger decides on
 * ('missing', 'full', 'conflict') rather than HTTP statuses. The REST store is
 * the real one; the ledger's tests use an in-memory one with the API's rules.
 */

/** The few ConfigMap operations the ledger needs; the real one is REST, tests use an in-memory one that enforces the API's rules. */
export interface LedgerStore {
  get(name: string): Promise<ConfigMap | undefined>;
  list(labelSelector: string): Promise<ConfigMap[]>;
  /** 409 -> 'exists'. */
  create(cm: ConfigMap): Promise<'created' | 'exists'>;
  /** A merge patch of .data: 404 -> 'missing'; the object would pass 1 MiB -> 'full'. */
  mergeData(name: string, data: Record<string, string>): Promise<'ok' | 'missing' | 'full'>;
  /** PUT with metadata.resourceVersion: 409 (changed) or 404 (deleted meanwhile) -> 'conflict'. */
  replace(cm: ConfigMap): Promise<'ok' | 'conflict'>;
  /**
   * 404 is fine ('ok'). With a resourceVersion the delete is conditional: an
   * object written since -> 'conflict', and it stays.
   */
  delete(name: string, resourceVersion?: string): Promise<'ok' | 'conflict'>;
}

/** The API's answer when an object would pass the 1 MiB limit (ConfigMap validation, or a body the server refuses). */
export function isTooLarge(status: number, body: unknown): boolean {
  if (status === 413) return true;
  const message = (body as { message?: unknown } | undefined)?.message;
  return status === 422 && typeof message === 'string' && /too long|too large/i.test(message);
}

export function restStore(kube: KubeTarget): LedgerStore {
  const ns = kube.namespace;
  const fail = (err: unknown, doing: string) => apiError(err, doing, kube.server);
  /** One call whose statuses the caller sorts out; a failed transport becomes the user's one line. */
  const send = async (opts: RequestOptions, doing: string) => {
    try {
      return await requestJson(kube, opts);
    } catch (err) {
      throw fail(err, doing);
    }
  };
  const ok = (status: number) => status >= 200 && status < 300;
  const unexpected = (res: { status: number; body: unknown }, doing: string) =>
    fail(new ApiStatusError(res.status, res.body), doing);

  return {
    async get(name) {
      try {
        return await getIfExists<ConfigMap>(kube, objectPath('configmaps', ns, name));
      } catch (err) {
        throw fail(err, `reading usage ledger ${name}`);
      }
    },
    async list(labelSelector) {
      try {
        const path = withQuery(collectionPath('configmaps', ns), { labelSelector });
        return (await callJson<List<ConfigMap>>(kube, { method: 'GET', path })).items;
      } catch (err) {
        throw fail(err, `listing the usage ledger (${labelSelector})`);
      }
    },
    async create(cm) {
      const doing = `creating usage ledger ${cm.metadata?.name}`;
      const res = await send({ method: 'POST', path: collectionPath('configmaps', ns), body: cm }, doing);
      if (ok(res.status)) return 'created';
      if (res.status === 409) return 'exists';
      throw unexpected(res, doing);
    },
    async mergeData(name, data) {
      const doing = `writing usage ledger ${name}`;
      const res = await send(
        { method: 'PATCH', path: objectPath('configmaps', ns, name), body: { data }, contentType: PATCH.merge },
        doing,
      );
      if (ok(res.status)) return 'ok';
      if (res.status === 404) return 'missing';
      if (isTooLarge(res.status, res.body)) return 'full';
      throw unexpected(res, doing);
    },
    async replace(cm) {
      const name = cm.metadata?.name ?? '';
      const doing = `updating usage ledger ${name}`;
      const res = await send({ method: 'PUT', path: objectPath('configmaps', ns, name), body: cm }, doing);
      if (ok(res.status)) return 'ok';
      if (res.status === 409 || res.status === 404) return 'conflict';
      throw unexpected(res, doing);
    },
    async delete(name, resourceVersion) {
      const doing = `deleting usage ledger ${name}`;
      const body = {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        ...(resourceVersion === undefined ? {} : { preconditions: { resourceVersion } }),
      };
      const res = await send({ method: 'DELETE', path: objectPath('configmaps', ns, name), body }, doing);
      if (ok(res.status) || res.status === 404) return 'ok';
      if (res.status === 409) return 'conflict';
      throw unexpected(res, doing);
    },
  };
}
