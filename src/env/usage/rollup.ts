import { dataSize, floorHour, parseEntry, type LedgerView, type Shard } from './layout.ts';
import { addBuckets, addEntry, compactBuckets, parseSummary, summaryData, type Buckets } from './summary.ts';

/*
 * What a roll-up does to the ledger, decided from one consistent snapshot (one
 * list call). Pure; ledger.ts carries the plan out in two steps: write the
 * summary (one PUT, conditional on the summary's resourceVersion), then delete
 * each rolled shard (conditional on the shard's resourceVersion).
 *
 * Why totals are exact whatever happens between and around those steps:
 * - Shards only grow (merge patches add keys), so a shard that exists holds
 *   at least what any record taken from it counted. A reader counts a shard
 *   from its entries while it exists, from its record once it is gone.
 * - A rolled shard's totals go under its uid. Rolling it again (a crash
 *   before the delete) overwrites them; a shard of the same name created
 *   later (a writer whose clock is a week behind) has another uid.
 * - A write landing in a shard after the snapshot makes the shard's delete
 *   fail (precondition), so the shard stays and is counted from its entries
 *   until the next roll-up takes it again.
 * - A record is folded into `totals` (and dropped) only when its shard is not
 *   in the snapshot. No one re-adds it: a roller that saw the shard read the
 *   summary in the same snapshot, before the shard was deleted and so before
 *   the fold, and its PUT therefore fails on the summary's resourceVersion.
 * - The legacy keys leave the summary in the same PUT that adds their totals.
 * - The same entry id in several shards (a batch retried in the next hour)
 *   counts once: in detail once by id, and a rolled shard leaves out the ids
 *   of every newer shard. It would count twice only if written again after
 *   its first copy was rolled up (7 days on).
 */

/** Detail is kept for the shards of the last week... */
export const DETAIL_RETENTION_HOURS = 7 * 24;
/** ...unless there are more shards than this... */
export const MAX_DETAIL_SHARDS = 200;
/** ...or more data than this (what `runbox usage` downloads). */
export const MAX_DETAIL_SIZE = 8 * 1024 * 1024;

/**
 * The shards to roll up, oldest first: those of hours past the retention, then
 * more of the oldest while the detail is over its bounds. Never a shard of the
 * current hour (or later): writers are adding to those.
 */
export function selectToRoll(shards: readonly Shard[], now: Date): Shard[] {
  const currentHour = floorHour(now.getTime());
  const oldestKept = currentHour - DETAIL_RETENTION_HOURS * 3_600_000;
  let count = shards.length;
  let size = shards.reduce((n, s) => n + dataSize(s.data), 0);
  const roll: Shard[] = [];
  for (const s of shards) {
    if (s.period.hourMs >= currentHour) break;
    if (s.period.hourMs >= oldestKept && count <= MAX_DETAIL_SHARDS && size <= MAX_DETAIL_SIZE) break;
    roll.push(s);
    count -= 1;
    size -= dataSize(s.data);
  }
  return roll;
}

export interface RollupPlan {
  /** The summary's new data. */
  data: Record<string, string>;
  /** The shards to delete once the summary is written, each only if still at this resourceVersion. */
  rolled: { name: string; resourceVersion: string }[];
}

/** The roll-up to do on this snapshot (its shards sorted oldest first), or undefined when there is nothing to do. */
export function planRollup(view: LedgerView, now: Date): RollupPlan | undefined {
  const summary = parseSummary(view.summary?.data ?? {});
  const toRoll = new Set(selectToRoll(view.shards, now));
  const live = new Set(view.shards.map((s) => s.uid));
  const gone = [...summary.rolled].filter(([uid]) => !live.has(uid));
  const totals = structuredClone(summary.totals);
  const compacted = compactBuckets(totals, now);
  if (toRoll.size === 0 && gone.length === 0 && summary.legacy.length === 0 && !compacted) return undefined;

  for (const [uid, record] of gone) {
    addBuckets(totals, record.days);
    summary.rolled.delete(uid);
  }
  const newest = newestHolders(view.shards, [...summary.legacy.map((e) => e.id), ...[...toRoll].flatMap((s) => Object.keys(s.data))]);
  view.shards.forEach((shard, i) => {
    if (!toRoll.has(shard)) return;
    const days = shardDays(shard, (id) => (newest.get(id) ?? -1) > i);
    summary.rolled.set(shard.uid, { shard: shard.name, days });
  });
  for (const e of summary.legacy) if (!newest.has(e.id)) addEntry(totals, e);
  compactBuckets(totals, now);
  return {
    data: summaryData({ rolled: summary.rolled, totals, other: summary.other }),
    rolled: [...toRoll].map((s) => ({ name: s.name, resourceVersion: s.resourceVersion })),
  };
}

/** For each of `ids` held by a shard: the index of the newest shard holding it. */
function newestHolders(shards: readonly Shard[], ids: string[]): Map<string, number> {
  const wanted = new Set(ids);
  const newest = new Map<string, number>();
  shards.forEach((s, i) => {
    for (const id in s.data) if (wanted.has(id)) newest.set(id, i);
  });
  return newest;
}

/** A shard's totals per day, leaving out the entries `counted` elsewhere. */
function shardDays(shard: Shard, counted: (id: string) => boolean): Buckets {
  const days: Buckets = {};
  for (const [id, value] of Object.entries(shard.data)) {
    const e = counted(id) ? undefined : parseEntry(id, value);
    if (e) addEntry(days, e);
  }
  return days;
}
