import { RunboxError, httpStatusOf } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { waitFor } from '../kube/watch.ts';

/** The object, or undefined if it does not exist. */
export async function exists<T>(read: () => Promise<T>, kube: Kube, doing: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (httpStatusOf(err) === 404) return undefined;
    throw apiError(err, doing, kube.target.server);
  }
}

/** Waits until an object is gone; watching from the version just read cannot miss it. */
export async function waitDeleted(
  kube: Kube,
  collection: string,
  name: string,
  read: () => Promise<{ metadata?: { resourceVersion?: string } }>,
): Promise<void> {
  const current = await exists(read, kube, `checking ${name}`);
  if (!current) return;
  await waitFor<unknown, true>(kube, {
    path: collection,
    query: { fieldSelector: `metadata.name=${name}`, resourceVersion: current.metadata?.resourceVersion ?? '0' },
    timeoutMs: 60_000,
    onTimeout: () => new RunboxError(`${name} is still being deleted after 60 s; check kubectl get ${collection.split('/').pop()} ${name}`),
    decide: (phase) => (phase === 'DELETED' ? { done: true } : undefined),
  });
}
