import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UsageEntry } from './usage.ts';

/*
 * The laptop's memory of each environment: its pod, so that a warm
 * `runbox NAME CMD` goes straight to the exec upgrade without any lookup (a
 * stale entry costs one failed upgrade, then a lookup), and when activity was
 * last recorded on the cluster, so that it is recorded at most once a minute.
 */

export interface CacheEntry {
  pod?: string | undefined;
  /** Epoch ms when last-activity was last written to the Deployment. */
  touched?: number | undefined;
  /** Allocation units as last seen by this laptop (lookup or resize), for the usage ledger. */
  units?: number | undefined;
  /** Usage ledger entries not written to the cluster yet (short commands are batched). */
  pending?: UsageEntry[] | undefined;
}
type Entries = Record<string, CacheEntry>;

const file = (dir: string) => join(dir, 'envs.json');
export const cacheKey = (server: string, namespace: string, env: string): string => `${server} ${namespace} ${env}`;

function load(dir: string): Entries {
  try {
    return JSON.parse(readFileSync(file(dir), 'utf8')) as Entries;
  } catch {
    return {};
  }
}

export function readEntry(dir: string, key: string): CacheEntry {
  return load(dir)[key] ?? {};
}

/** Merges `patch` into the entry; `pod: undefined` forgets the pod. */
export function writeEntry(dir: string, key: string, patch: CacheEntry): void {
  const entries = load(dir);
  const next = { ...entries[key], ...patch };
  if (JSON.stringify(next) === JSON.stringify(entries[key])) return;
  entries[key] = next;
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file(dir)}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(entries));
    renameSync(tmp, file(dir));
  } catch {
    // A cache we cannot write only costs a lookup next time.
  }
}
