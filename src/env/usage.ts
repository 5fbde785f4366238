import { RunboxError, httpStatusOf } from '../errors.ts';
import type { Kube } from '../kube/client.ts';
import { apiError } from '../kube/api-error.ts';
import { requestJson } from '../kube/rest.ts';
import type { KubeTarget } from '../kube/target.ts';
import { capacityUnits } from './allocation.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY, usageLedgerName } from './names.ts';

/*
 * The usage ledger: one ConfigMap per environment (NAME-usage), one key per
 * command, so that appending is a single merge patch with no read, and the
 * ledger outlives pods and laptops. Short commands are written in batches (see
 * shouldFlush), so the hot path does not pay a round trip per command.
 */

/** Commands shorter than this wait in the laptop's cache for the next batch. */
export const FLUSH_MIN_DURATION_MS = 1_000;
/** A batch is written at the latest this long after its oldest command... */
export const FLUSH_MAX_AGE_MS = 60_000;
/** ...or once it holds this many commands. */
export const FLUSH_MAX_ENTRIES = 20;

/** Whether the pending entries (the newest last) go to the cluster now. */
export function shouldFlush(pending: UsageEntry[], now: Date, forced: boolean): boolean {
  const newest = pending.at(-1);
  const oldest = pending[0];
  if (!newest || !oldest) return false;
  return (
    forced ||
    newest.durationMs >= FLUSH_MIN_DURATION_MS ||
    pending.length >= FLUSH_MAX_ENTRIES ||
    now.getTime() - Date.parse(oldest.time) >= FLUSH_MAX_AGE_MS
  );
}

export interface UsageEntry {
  /** When the command started (ISO). */
  time: string;
  command: string;
  durationMs: number;
  allocation: number;
  units: number;
  exitCode: number;
}

const MAX_COMMAND = 200;

export function usageEntry(argv: readonly string[], start: Date, durationMs: number, allocation: number, exitCode: number): UsageEntry {
  const command = argv.join(' ');
  return {
    time: start.toISOString(),
    command: command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND - 1)}…` : command,
    durationMs: Math.round(durationMs),
    allocation,
    units: capacityUnits(allocation, durationMs),
    exitCode,
  };
}

/** Keys sort by time: e<epoch ms>-<random>. ConfigMap keys allow [-._a-zA-Z0-9]. */
const entryKey = (e: UsageEntry) => `e${Date.parse(e.time)}-${Math.random().toString(36).slice(2, 8)}`;

export async function recordUsage(target: KubeTarget, env: string, entries: UsageEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const ns = encodeURIComponent(target.namespace);
  const name = usageLedgerName(env);
  const data = Object.fromEntries(entries.map((e) => [entryKey(e), JSON.stringify(e)]));
  const patch = () =>
    requestJson(target, {
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
      body: { data },
      contentType: 'application/merge-patch+json',
    });
  let res = await patch();
  if (res.status === 404) {
    res = await requestJson(target, {
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ENV]: env } },
        data,
      },
    });
    if (res.status === 409) res = await patch(); // created meanwhile by another command
  }
  if (res.status >= 300) {
    const message = (res.body as { message?: string } | undefined)?.message ?? `HTTP ${res.status}`;
    throw new RunboxError(`recording usage of ${env} failed: ${message}`);
  }
}

export async function readUsage(kube: Kube, env: string, since?: Date): Promise<UsageEntry[]> {
  let data: Record<string, string>;
  try {
    const cm = await kube.core.readNamespacedConfigMap({ name: usageLedgerName(env), namespace: kube.target.namespace });
    data = cm.data ?? {};
  } catch (err) {
    if (httpStatusOf(err) === 404) return [];
    throw apiError(err, `reading the usage of ${env}`, kube.target.server);
  }
  return Object.values(data)
    .flatMap((v) => {
      try {
        return [JSON.parse(v) as UsageEntry];
      } catch {
        return [];
      }
    })
    .filter((e) => !since || Date.parse(e.time) >= since.getTime())
    .sort((a, b) => a.time.localeCompare(b.time));
}
