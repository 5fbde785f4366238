import type { UsageEntry } from './entry.ts';
import { parseEntry } from './layout.ts';

/*
 * The summary ConfigMap's data (see layout.ts) and the totals it keeps. Pure.
 *
 * Totals are kept per UTC day, and per month once a day is over
 * DAILY_TOTALS_DAYS old: a year of daily use is ~12 KiB, and the months after
 * that ~0.4 KiB a year, so the summary stays far below 1 MiB.
 */

/** [commands, units, durationMs]. Units are summed unrounded: they are rounded to 0.1 only when reported. */
export type Sums = [number, number, number];
/** UTC day (YYYYMMDD) or month (YYYYMM) -> its sums. */
export type Buckets = Record<string, Sums>;

/** A rolled-up shard's totals, kept under its uid while the shard may still exist. */
export interface RolledRecord {
  /** The shard's name, for people reading the summary. */
  shard: string;
  days: Buckets;
}

export interface Summary {
  /** shard uid -> its record. */
  rolled: Map<string, RolledRecord>;
  totals: Buckets;
  /** Entries of the single-ConfigMap ledger runbox kept before shards, by key. */
  legacy: UsageEntry[];
  /** Keys this version does not know: kept as they are. */
  other: Record<string, string>;
}

export const DAILY_TOTALS_DAYS = 400;
const DAY_MS = 86_400_000;
const ROLLED_PREFIX = 'rolled.';
const TOTALS_KEY = 'totals';
const LEGACY_KEY = /^e\d+-[0-9a-z]+$/;

export const dayKey = (time: string): string => new Date(Date.parse(time)).toISOString().slice(0, 10).replace(/-/g, '');

/** The time a bucket covers, [start, end); undefined for a key that is not a day or a month. */
export function bucketRange(key: string): { startMs: number; endMs: number } | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})?$/.exec(key);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, m[3] === undefined ? undefined : Number(m[3])];
  return d === undefined
    ? { startMs: Date.UTC(y, mo, 1), endMs: Date.UTC(y, mo + 1, 1) }
    : { startMs: Date.UTC(y, mo, d), endMs: Date.UTC(y, mo, d + 1) };
}

export function addSums(into: Buckets, key: string, [c, u, d]: Sums): void {
  const s = (into[key] ??= [0, 0, 0]);
  s[0] += c;
  s[1] += u;
  s[2] += d;
}

export function addEntry(into: Buckets, e: UsageEntry): void {
  addSums(into, dayKey(e.time), [1, e.units, e.durationMs]);
}

export function addBuckets(into: Buckets, from: Buckets): void {
  for (const [k, s] of Object.entries(from)) addSums(into, k, s);
}

/** Folds the days that ended over DAILY_TOTALS_DAYS ago into their months; whether anything changed. */
export function compactBuckets(b: Buckets, now: Date): boolean {
  const cutoff = now.getTime() - DAILY_TOTALS_DAYS * DAY_MS;
  let changed = false;
  for (const [k, s] of Object.entries(b)) {
    const r = bucketRange(k);
    if (k.length !== 8 || !r || r.endMs > cutoff) continue;
    delete b[k];
    addSums(b, k.slice(0, 6), s);
    changed = true;
  }
  return changed;
}

function parseBuckets(value: unknown): Buckets | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const out: Buckets = {};
  for (const [k, s] of Object.entries(value)) {
    const ok = bucketRange(k) && Array.isArray(s) && s.length === 3 && s.every((n) => typeof n === 'number' && Number.isFinite(n));
    if (!ok) return undefined;
    out[k] = [s[0], s[1], s[2]];
  }
  return out;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Reads the summary's data; values it cannot read are kept under `other`, never counted. */
export function parseSummary(data: Record<string, string>): Summary {
  const summary: Summary = { rolled: new Map(), totals: {}, legacy: [], other: {} };
  for (const [key, value] of Object.entries(data)) {
    if (key === TOTALS_KEY) {
      const totals = parseBuckets(parseJson(value));
      if (totals) {
        summary.totals = totals;
        continue;
      }
    } else if (key.startsWith(ROLLED_PREFIX)) {
      const v = parseJson(value) as Partial<RolledRecord> | undefined;
      const days = parseBuckets(v?.days);
      if (days && typeof v?.shard === 'string') {
        summary.rolled.set(key.slice(ROLLED_PREFIX.length), { shard: v.shard, days });
        continue;
      }
    } else if (LEGACY_KEY.test(key)) {
      const e = parseEntry(key, value);
      if (e) {
        summary.legacy.push(e);
        continue;
      }
    }
    summary.other[key] = value;
  }
  return summary;
}

/** The summary's data as stored: legacy entries are not written back (a roll-up has folded them). */
export function summaryData(s: Pick<Summary, 'rolled' | 'totals' | 'other'>): Record<string, string> {
  const data: Record<string, string> = { ...s.other, [TOTALS_KEY]: JSON.stringify(s.totals) };
  for (const [uid, r] of s.rolled) data[`${ROLLED_PREFIX}${uid}`] = JSON.stringify(r);
  return data;
}
