import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY, usageLedgerName, usageShardName } from '../../contract/names.ts';
import type { ConfigMap } from '../../kube/types.ts';
import type { UsageEntry } from './entry.ts';

/*
 * What the ledger's objects look like: names, labels, and the format of their
 * data. Pure; the roll-up and the report work on the LedgerView built here.
 *
 * Detail shards, NAME-usage-<period>: one key per command, entry.id -> the
 * entry as compact JSON (without its id, which is the key). The period is the
 * UTC hour of the write, YYYYMMDDHH, then .1, .2, ... when a shard is full.
 *
 * The summary, NAME-usage: the totals of shards already rolled up.
 *   `rolled.<uid>` -> {shard, days}: one rolled shard's totals per UTC day,
 *                     while that shard may still exist (see rollup.ts);
 *   `totals`       -> {YYYYMMDD or YYYYMM: [commands, units, durationMs]}: the
 *                     totals of every shard rolled up before that.
 * Before shards, NAME-usage held one key per command (e<ms>-<random>); those
 * "legacy" keys are read as detail and folded into `totals` by the first roll-up.
 */

/** Marks a ConfigMap as part of a usage ledger: 'shard' or 'summary'. */
export const LABEL_USAGE_LEDGER = 'runbox.dev/usage-ledger';

const HOUR_MS = 3_600_000;

/** Every object of the ledger carries these (and the old single ConfigMap did too). */
export const ledgerSelector = (env: string): string => `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_ENV}=${env}`;

export const ledgerLabels = (env: string, role: 'shard' | 'summary'): Record<string, string> => ({
  [LABEL_MANAGED_BY]: MANAGED_BY,
  [LABEL_ENV]: env,
  [LABEL_USAGE_LEDGER]: role,
});

/** The hour a shard is written in, then which spill of that hour (0 for the first). */
export interface Period {
  hourMs: number;
  spill: number;
}

/** YYYYMMDDHH of a time, in UTC. */
export function hourPeriod(t: Date): string {
  return t.toISOString().slice(0, 13).replace(/[-T]/g, '');
}

export function periodName(hour: string, spill: number): string {
  return spill === 0 ? hour : `${hour}.${spill}`;
}

export function parsePeriod(s: string): Period | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(?:\.([1-9]\d*))?$/.exec(s);
  if (!m) return undefined;
  const hourMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return { hourMs, spill: m[5] === undefined ? 0 : Number(m[5]) };
}

export const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

export const comparePeriods = (a: Period, b: Period): number => a.hourMs - b.hourMs || a.spill - b.spill;

export interface Shard {
  name: string;
  period: Period;
  uid: string;
  resourceVersion: string;
  /** entry id -> entry JSON, as stored. */
  data: Record<string, string>;
}

/** The ledger of one environment as one list call returned it: a consistent snapshot. */
export interface LedgerView {
  env: string;
  summary: ConfigMap | undefined;
  shards: Shard[];
}

export function ledgerView(env: string, items: ConfigMap[]): LedgerView {
  const summaryName = usageLedgerName(env);
  const prefix = usageShardName(env, '');
  const view: LedgerView = { env, summary: undefined, shards: [] };
  for (const cm of items) {
    const name = cm.metadata?.name ?? '';
    if (name === summaryName) {
      view.summary = cm;
      continue;
    }
    const period = name.startsWith(prefix) ? parsePeriod(name.slice(prefix.length)) : undefined;
    if (!period || cm.metadata?.labels?.[LABEL_USAGE_LEDGER] !== 'shard') continue;
    view.shards.push({
      name,
      period,
      uid: cm.metadata?.uid ?? name,
      resourceVersion: cm.metadata?.resourceVersion ?? '',
      data: cm.data ?? {},
    });
  }
  view.shards.sort((a, b) => comparePeriods(a.period, b.period));
  return view;
}

/** The stored form of an entry: its id is the key. */
export function entryValue(e: UsageEntry): string {
  const { time, command, durationMs, allocation, units, exitCode } = e;
  return JSON.stringify({ time, command, durationMs, allocation, units, exitCode });
}

/** An entry read back; undefined for a value that is not one (it is skipped, not fatal to `runbox usage`). */
export function parseEntry(id: string, value: string): UsageEntry | undefined {
  let v: Partial<Record<keyof UsageEntry, unknown>>;
  try {
    v = JSON.parse(value) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { time, command, durationMs, allocation, units, exitCode } = v;
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time)) || typeof command !== 'string') return undefined;
  if (![durationMs, allocation, units, exitCode].every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined;
  return { id, time, command, durationMs, allocation, units, exitCode } as UsageEntry;
}

/** ConfigMap keys: [-._a-zA-Z0-9], at most 253 characters. */
export const isDataKey = (key: string): boolean => key.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(key);

/** Roughly what a ConfigMap's data counts against the 1 MiB limit (characters, not bytes). */
export function dataSize(data: Record<string, string>): number {
  let n = 0;
  for (const k in data) n += k.length + (data[k]?.length ?? 0);
  return n;
}
