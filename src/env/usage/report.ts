import type { UsageEntry } from './entry.ts';
import { parseEntry, type LedgerView } from './layout.ts';
import { addBuckets, bucketRange, parseSummary, type Buckets } from './summary.ts';

/*
 * `runbox usage` from one snapshot of the ledger. Pure. Which of a shard's
 * entries and records count is explained in rollup.ts.
 *
 * `since` applies to detail entries by their time, and to rolled-up totals by
 * their bucket: a day (or month) counts when it starts at or after `since`.
 * So with `since` inside a rolled-up day, that day's commands are left out of
 * the total; `rolledUpBefore` says detail is missing there.
 */

export interface UsageReport {
  /** Entries kept in detail (time >= since when since is given), sorted by time. */
  entries: UsageEntry[];
  /** Totals over everything in the ledger matching `since` (detail + rolled-up periods), exact. */
  total: { commands: number; units: number; durationMs: number };
  /**
   * When some matching commands are only kept as totals: the end (ISO) of the
   * latest rolled-up day that counts or that `since` falls in, else undefined.
   */
  rolledUpBefore?: string | undefined;
}

const round1 = (n: number): number => Math.round(n * 10) / 10 || 0;

export function buildReport(view: LedgerView, since?: Date): UsageReport {
  const summary = parseSummary(view.summary?.data ?? {});
  const rolled: Buckets = structuredClone(summary.totals);
  const detail = new Map<string, UsageEntry>();
  for (const e of summary.legacy) detail.set(e.id, e);
  const live = new Set<string>();
  for (const shard of view.shards) {
    live.add(shard.uid);
    for (const [id, value] of Object.entries(shard.data)) {
      const e = detail.has(id) ? undefined : parseEntry(id, value);
      if (e) detail.set(id, e);
    }
  }
  for (const [uid, record] of summary.rolled) if (!live.has(uid)) addBuckets(rolled, record.days);

  const sinceMs = since?.getTime() ?? -Infinity;
  const entries = [...detail.values()]
    .filter((e) => Date.parse(e.time) >= sinceMs)
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let [commands, units, durationMs] = [0, 0, 0];
  for (const e of entries) {
    commands += 1;
    units += e.units;
    durationMs += e.durationMs;
  }
  let rolledUpBeforeMs: number | undefined;
  for (const [key, [c, u, d]] of Object.entries(rolled)) {
    const range = bucketRange(key);
    if (!range || c === 0 || range.endMs <= sinceMs) continue;
    rolledUpBeforeMs = Math.max(rolledUpBeforeMs ?? -Infinity, range.endMs);
    if (range.startMs < sinceMs) continue;
    commands += c;
    units += u;
    durationMs += d;
  }
  return {
    entries,
    total: { commands, units: round1(units), durationMs },
    rolledUpBefore: rolledUpBeforeMs === undefined ? undefined : new Date(rolledUpBeforeMs).toISOString(),
  };
}
