import { describe, expect, it } from 'vitest';
import { usageLedgerName } from '../../contract/names.ts';
import { parsePeriod, type LedgerView, type Shard } from './layout.ts';
import { buildReport } from './report.ts';
import { DETAIL_RETENTION_HOURS, MAX_DETAIL_SHARDS, MAX_DETAIL_SIZE, planRollup, selectToRoll } from './rollup.ts';
import { compactBuckets, parseSummary, type Buckets } from './summary.ts';

const HOUR = 3_600_000;
const now = new Date('2026-03-20T12:30:00Z');
const hourOf = (hoursAgo: number) => new Date(Date.parse('2026-03-20T12:00:00Z') - hoursAgo * HOUR).toISOString().slice(0, 13).replace(/[-T]/g, '');

function shard(hoursAgo: number, opts: { spill?: number; size?: number } = {}): Shard {
  const period = `${hourOf(hoursAgo)}${opts.spill ? `.${opts.spill}` : ''}`;
  return {
    name: `dev-usage-${period}`,
    period: parsePeriod(period)!,
    uid: `uid-${period}`,
    resourceVersion: '1',
    data: opts.size ? { pad: 'x'.repeat(opts.size) } : {},
  };
}

const names = (shards: Shard[]) => shards.map((s) => s.name.slice('dev-usage-'.length));

describe('selectToRoll', () => {
  it.each([
    { case: 'nothing past the retention', ages: [0, 5, DETAIL_RETENTION_HOURS], roll: [] },
    { case: 'the hours past the retention', ages: [DETAIL_RETENTION_HOURS + 30, DETAIL_RETENTION_HOURS + 1, 3, 0], roll: [30, 1].map((h) => hourOf(DETAIL_RETENTION_HOURS + h)) },
  ])('rolls $case', ({ ages, roll }) => {
    expect(names(selectToRoll(ages.map((h) => shard(h)).sort((a, b) => a.period.hourMs - b.period.hourMs), now))).toEqual(roll);
  });

  it('never rolls the current hour or a later one (a fast clock), even over the bounds', () => {
    const current = Array.from({ length: MAX_DETAIL_SHARDS + 1 }, (_, i) => shard(0, { spill: i, size: i === 0 ? MAX_DETAIL_SIZE : 10 }));
    expect(selectToRoll([...current, shard(-1), shard(-200)], now)).toEqual([]);
  });

  it('rolls the oldest shards beyond the maximum number, spills in order', () => {
    const shards = [shard(5, { spill: 2 }), shard(5, { spill: 1 }), shard(5), ...Array.from({ length: MAX_DETAIL_SHARDS - 1 }, (_, i) => shard(0, { spill: i + 1 }))];
    shards.sort((a, b) => a.period.hourMs - b.period.hourMs || a.period.spill - b.period.spill);
    expect(names(selectToRoll(shards, now))).toEqual([hourOf(5), `${hourOf(5)}.1`]);
  });

  it('rolls the oldest shards while the detail is over its size', () => {
    const big = MAX_DETAIL_SIZE / 4;
    const shards = [shard(40, { size: big }), shard(30, { size: big }), shard(20, { size: big }), shard(10, { size: big }), shard(1, { size: 100 })];
    expect(names(selectToRoll(shards, now))).toEqual([hourOf(40)]);
  });
});

describe('summary totals', () => {
  it('folds days over 400 days old into their months, and counts a month from its first day', () => {
    // 400 days before now is 2025-02-13.
    const totals: Buckets = { '20250101': [1, 1.5, 10], '20250131': [2, 2.5, 20], '20250212': [3, 3.5, 30], '20250213': [4, 4.5, 40] };
    expect(compactBuckets(totals, now)).toBe(true);
    expect(totals).toEqual({ '202501': [3, 4, 30], '202502': [3, 3.5, 30], '20250213': [4, 4.5, 40] });
    expect(compactBuckets(totals, now)).toBe(false);

    const view: LedgerView = {
      env: 'dev',
      summary: { metadata: { name: usageLedgerName('dev') }, data: { totals: JSON.stringify(totals) } },
      shards: [],
    };
    expect(buildReport(view).total).toEqual({ commands: 10, units: 12, durationMs: 100 });
    expect(buildReport(view, new Date('2025-01-01T00:00:00Z')).total.commands).toBe(10);
    expect(buildReport(view, new Date('2025-01-02T00:00:00Z')).total.commands).toBe(7);
    // The month 202502 reaches to March, so detail may be missing until then.
    expect(buildReport(view, new Date('2025-01-02T00:00:00Z')).rolledUpBefore).toBe('2025-03-01T00:00:00.000Z');
    expect(buildReport(view, new Date('2025-03-01T00:00:00Z')).rolledUpBefore).toBeUndefined();
  });

  it('keeps summary keys it does not know through a roll-up', () => {
    const view: LedgerView = {
      env: 'dev',
      summary: { metadata: { name: usageLedgerName('dev') }, data: { 'from-a-newer-runbox': 'x', totals: '{}' } },
      shards: [{ ...shard(DETAIL_RETENTION_HOURS + 1), data: { e1: JSON.stringify({ time: '2026-03-13T11:00:00Z', command: 'ls', durationMs: 5, allocation: 1, units: 0.1, exitCode: 0 }) } }],
    };
    const plan = planRollup(view, now);
    expect(plan?.rolled.map((r) => r.name)).toEqual([`dev-usage-${hourOf(DETAIL_RETENTION_HOURS + 1)}`]);
    const summary = parseSummary(plan?.data ?? {});
    expect(summary.other).toEqual({ 'from-a-newer-runbox': 'x' });
    expect([...summary.rolled.values()]).toEqual([{ shard: view.shards[0]?.name, days: { '20260313': [1, 0.1, 5] } }]);
  });
});
