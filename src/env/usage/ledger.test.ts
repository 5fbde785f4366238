import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY, usageLedgerName, usageShardName } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import type { ConfigMap } from '../../kube/types.ts';
import { usageEntry, type UsageEntry } from './entry.ts';
import { entryValue, ledgerLabels } from './layout.ts';
import { deleteUsage, readUsage, recordUsage, type LedgerStore } from './ledger.ts';
import { DETAIL_RETENTION_HOURS } from './rollup.ts';

/** The API's limit on a ConfigMap's data. */
const LIMIT = 1_048_576;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ENV = 'dev';

const dataBytes = (data: Record<string, string> | undefined) => Buffer.byteLength(JSON.stringify(data ?? {}));

/**
 * ConfigMaps in memory with the API server's rules: names are unique, an
 * object over 1 MiB is refused, writes bump the resourceVersion, PUT and
 * conditional DELETE check it. Every call yields to the event loop first, so
 * concurrent callers interleave as they would against a server.
 */
function memoryStore() {
  const objects = new Map<string, ConfigMap>();
  const seen = { calls: 0, exists: 0, full: 0, conflicts: 0 };
  let version = 0;
  const turn = async () => {
    seen.calls += 1;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  // Stored objects are replaced on every write, never changed: readers get them frozen, so a caller changing one throws.
  const frozen = (cm: ConfigMap): ConfigMap =>
    Object.freeze({
      ...cm,
      metadata: Object.freeze({ ...cm.metadata, labels: Object.freeze({ ...cm.metadata?.labels }) }),
      data: Object.freeze({ ...cm.data }),
    });
  const validate = (data: Record<string, string> | undefined) => {
    for (const k of Object.keys(data ?? {})) if (!/^[-._a-zA-Z0-9]{1,253}$/.test(k)) throw new Error(`Invalid value: ${k}`);
    return dataBytes(data) <= LIMIT;
  };
  const put = (cm: ConfigMap, uid: string) => {
    const name = cm.metadata?.name ?? '';
    objects.set(name, frozen({ ...cm, metadata: { ...cm.metadata, uid, resourceVersion: String(++version) } }));
  };
  const store: LedgerStore = {
    async get(name) {
      await turn();
      return objects.get(name);
    },
    async list(selector) {
      await turn();
      const want = selector.split(',').map((kv) => kv.split('=') as [string, string]);
      return [...objects.values()].filter((cm) => want.every(([k, v]) => cm.metadata?.labels?.[k] === v));
    },
    async create(cm) {
      await turn();
      if (objects.has(cm.metadata?.name ?? '')) {
        seen.exists += 1;
        return 'exists';
      }
      if (!validate(cm.data)) throw new Error('Too long: must have at most 1048576 bytes');
      put(cm, randomUUID());
      return 'created';
    },
    async mergeData(name, data) {
      await turn();
      const cm = objects.get(name);
      if (!cm) return 'missing';
      const merged = { ...cm.data, ...data };
      if (!validate(merged)) {
        seen.full += 1;
        return 'full';
      }
      put({ ...cm, data: merged }, cm.metadata?.uid ?? '');
      return 'ok';
    },
    async replace(cm) {
      await turn();
      const old = objects.get(cm.metadata?.name ?? '');
      const rv = cm.metadata?.resourceVersion;
      if (!old || (rv !== undefined && rv !== old.metadata?.resourceVersion)) {
        seen.conflicts += 1;
        return 'conflict';
      }
      if (!validate(cm.data)) throw new Error('Too long: must have at most 1048576 bytes');
      put(cm, old.metadata?.uid ?? '');
      return 'ok';
    },
    async delete(name, rv) {
      await turn();
      const cm = objects.get(name);
      if (!cm) return 'ok';
      if (rv !== undefined && rv !== cm.metadata?.resourceVersion) {
        seen.conflicts += 1;
        return 'conflict';
      }
      objects.delete(name);
      return 'ok';
    },
  };
  return { store, objects, seen };
}

/** A small deterministic random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const at = (iso: string, durationMs = 1234, allocation = 2): UsageEntry =>
  usageEntry(['make', 'test'], { start: new Date(iso), durationMs, allocation, exitCode: 0 });

const sums = (entries: UsageEntry[]) => ({
  commands: entries.length,
  units: Math.round(entries.reduce((n, e) => n + e.units, 0) * 10) / 10,
  durationMs: entries.reduce((n, e) => n + e.durationMs, 0),
});

const shardNames = (objects: Map<string, ConfigMap>) => [...objects.keys()].filter((n) => n !== usageLedgerName(ENV)).sort();

describe('usage ledger', () => {
  it('holds 100,000 commands over 30 days in a bounded number of objects under 1 MiB, with exact totals', async () => {
    const { store, objects } = memoryStore();
    const rand = random(42);
    const start = Date.UTC(2026, 0, 1);
    const batches = 5_000;
    const step = (30 * DAY) / batches;
    const written = { commands: 0, units: 0, durationMs: 0 };
    let maxObjects = 0;
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const now = start + b * step;
      const batch = Array.from({ length: 20 }, (_, i) => {
        // Mostly the last ten minutes; one in 250 flushed a week late.
        const time = now - ((b * 20 + i) % 250 === 0 ? 8 * DAY : Math.floor(rand() * 600_000));
        const argv = ['npm', 'run', 'x'.repeat(Math.floor(rand() * 150))];
        const e = usageEntry(argv, { start: new Date(time), durationMs: rand() * 120_000, allocation: 1 + Math.floor(rand() * 8), exitCode: 0 });
        written.commands += 1;
        written.units += e.units;
        written.durationMs += e.durationMs;
        return e;
      });
      await recordUsage(store, ENV, batch, new Date(now));
      maxObjects = Math.max(maxObjects, objects.size);
    }
    const report = await readUsage(store, ENV);
    const elapsedMs = performance.now() - t0;
    console.log(`100,000 commands written and read in ${Math.round(elapsedMs)} ms; at most ${maxObjects} objects`);

    expect(report.total).toEqual({ commands: 100_000, units: Math.round(written.units * 10) / 10, durationMs: written.durationMs });
    // A week of hourly shards, the current hour's and the summary.
    expect(maxObjects).toBeLessThanOrEqual(DETAIL_RETENTION_HOURS + 2);
    for (const cm of objects.values()) expect(dataBytes(cm.data)).toBeLessThanOrEqual(LIMIT);
    expect(dataBytes(objects.get(usageLedgerName(ENV))?.data)).toBeLessThan(16 * 1024);
    // Detail is kept for the last week only, and the report says so.
    expect(report.entries.length).toBeGreaterThan(20_000);
    expect(report.entries.length).toBeLessThan(30_000);
    expect(report.rolledUpBefore).toBeDefined();
    expect(report.entries.map((e) => e.time)).toEqual(report.entries.map((e) => e.time).sort());
    expect(elapsedMs).toBeLessThan(30_000);
  }, 60_000);

  it('records a batch written twice once, also across hours and after both copies are rolled up', async () => {
    const { store, objects } = memoryStore();
    const batch = Array.from({ length: 20 }, (_, i) => at(`2026-03-01T10:0${i % 10}:00Z`, 1000 + i));
    await recordUsage(store, ENV, batch, new Date('2026-03-01T10:10:00Z'));
    await recordUsage(store, ENV, batch, new Date('2026-03-01T10:40:00Z'));
    await recordUsage(store, ENV, batch, new Date('2026-03-01T11:05:00Z')); // a retry in the next hour's shard
    expect(shardNames(objects)).toHaveLength(2);
    expect((await readUsage(store, ENV)).total).toEqual(sums(batch));

    const later = at('2026-03-10T12:00:00Z');
    await recordUsage(store, ENV, [later], new Date('2026-03-10T12:00:01Z'));
    expect(shardNames(objects)).toEqual([usageShardName(ENV, '2026031012')]);
    expect((await readUsage(store, ENV)).total).toEqual(sums([...batch, later]));
  });

  it('keeps every command of concurrent writers, the shard created by one of them', async () => {
    const { store, objects, seen } = memoryStore();
    const entries = Array.from({ length: 50 }, (_, i) => at(`2026-03-01T10:00:${String(i).padStart(2, '0')}Z`, 100 + i));
    await Promise.all(entries.map((e) => recordUsage(store, ENV, [e], new Date('2026-03-01T10:01:00Z'))));
    expect(seen.exists).toBeGreaterThan(0); // the race happened: creates that found the shard there
    expect(shardNames(objects)).toEqual([usageShardName(ENV, '2026030110')]);
    const report = await readUsage(store, ENV);
    expect(report.entries.map((e) => e.id).sort()).toEqual(entries.map((e) => e.id).sort());
    expect(report.total).toEqual(sums(entries));
  });

  it('counts a roll-up interrupted between the summary and the delete once, and finishes it the next time', async () => {
    const { store, objects } = memoryStore();
    const early = Array.from({ length: 30 }, (_, i) => at(`2026-03-01T10:${String(i).padStart(2, '0')}:00Z`, 500 * i));
    await recordUsage(store, ENV, early, new Date('2026-03-01T10:30:00Z'));
    const crashing: LedgerStore = { ...store, delete: () => Promise.reject(new Error('process killed')) };
    const second = at('2026-03-09T10:00:00Z');
    await expect(recordUsage(crashing, ENV, [second], new Date('2026-03-09T10:00:01Z'))).rejects.toThrow('process killed');
    // The summary has the shard's totals and the shard is still there: they count once, from the shard.
    expect(objects.has(usageShardName(ENV, '2026030110'))).toBe(true);
    expect(Object.keys(objects.get(usageLedgerName(ENV))?.data ?? {}).some((k) => k.startsWith('rolled.'))).toBe(true);
    const interrupted = await readUsage(store, ENV);
    expect(interrupted.total).toEqual(sums([...early, second]));
    expect(interrupted.entries).toHaveLength(31);

    const third = at('2026-03-09T11:00:00Z');
    await recordUsage(store, ENV, [third], new Date('2026-03-09T11:00:01Z'));
    expect(objects.has(usageShardName(ENV, '2026030110'))).toBe(false);
    expect((await readUsage(store, ENV)).total).toEqual(sums([...early, second, third]));
    // One more roll-up folds the record of the deleted shard into the daily totals.
    const fourth = at('2026-03-09T12:00:00Z');
    await recordUsage(store, ENV, [fourth], new Date('2026-03-09T12:00:01Z'));
    expect(Object.keys(objects.get(usageLedgerName(ENV))?.data ?? {})).toEqual(['totals']);
    expect((await readUsage(store, ENV)).total).toEqual(sums([...early, second, third, fourth]));
  });

  it('keeps a command written into a shard while it is rolled up', async () => {
    const { store, objects } = memoryStore();
    const early = [at('2026-03-01T10:00:00Z', 1000), at('2026-03-01T10:01:00Z', 2000)];
    await recordUsage(store, ENV, early, new Date('2026-03-01T10:05:00Z'));
    // A laptop whose clock is a week behind writes just before the shard's delete.
    const late = at('2026-03-01T10:59:00Z', 4000);
    const old = usageShardName(ENV, '2026030110');
    let raced = false;
    const racing: LedgerStore = {
      ...store,
      delete: async (name, rv) => {
        if (name === old && !raced) {
          raced = true;
          await recordUsage(store, ENV, [late], new Date('2026-03-01T10:59:30Z'));
        }
        return store.delete(name, rv);
      },
    };
    const now = at('2026-03-09T10:00:00Z');
    await recordUsage(racing, ENV, [now], new Date('2026-03-09T10:00:01Z'));
    expect(raced).toBe(true);
    expect(objects.has(old)).toBe(true);
    expect((await readUsage(store, ENV)).total).toEqual(sums([...early, late, now]));

    const next = at('2026-03-09T11:00:00Z');
    await recordUsage(store, ENV, [next], new Date('2026-03-09T11:00:01Z'));
    expect(objects.has(old)).toBe(false);
    expect((await readUsage(store, ENV)).total).toEqual(sums([...early, late, now, next]));
  });

  it("spills into the hour's next shard when one is full, and says so when all are", async () => {
    const { store, objects, seen } = memoryStore();
    const hour = '2026030110';
    const fill = (name: string) =>
      store.create({ metadata: { name, labels: ledgerLabels(ENV, 'shard') }, data: { pad: 'x'.repeat(LIMIT - 100) } });
    await fill(usageShardName(ENV, hour));
    const batch = Array.from({ length: 20 }, (_, i) => at(`2026-03-01T10:${String(i).padStart(2, '0')}:00Z`));
    await recordUsage(store, ENV, batch, new Date('2026-03-01T10:30:00Z'));
    expect(seen.full).toBe(1);
    expect(Object.keys(objects.get(usageShardName(ENV, `${hour}.1`))?.data ?? {}).sort()).toEqual(batch.map((e) => e.id).sort());
    expect((await readUsage(store, ENV)).total).toEqual(sums(batch));

    const first = usageShardName(ENV, `${hour}.1`);
    const room = LIMIT - dataBytes(objects.get(first)?.data);
    expect(await store.mergeData(first, { pad: 'x'.repeat(room - 100) })).toBe('ok');
    for (let spill = 2; spill <= 20; spill++) await fill(usageShardName(ENV, `${hour}.${spill}`));
    const failed = recordUsage(store, ENV, [at('2026-03-01T10:31:00Z')], new Date('2026-03-01T10:31:00Z'));
    await expect(failed).rejects.toThrow(RunboxError);
    await expect(failed).rejects.toThrow(/usage ledger of dev is full for the hour 2026030110/);
  });

  it('splits a batch larger than a shard holds into patches', async () => {
    const { store, objects } = memoryStore();
    const big = Array.from({ length: 6_000 }, (_, i) =>
      usageEntry(['x'.repeat(190)], { start: new Date(Date.UTC(2026, 2, 1, 10) + i), durationMs: i, allocation: 1, exitCode: 0 }),
    );
    await recordUsage(store, ENV, big, new Date('2026-03-01T10:30:00Z'));
    expect(shardNames(objects).length).toBeGreaterThan(1);
    expect((await readUsage(store, ENV)).total).toEqual(sums(big));
  });

  it('lists detail entries since a time, sorted by time, and totals them', async () => {
    const { store } = memoryStore();
    const [a, b, c, d] = ['09:00', '09:10', '09:20', '09:30'].map((t, i) => at(`2026-03-01T${t}:00Z`, 1000 * (i + 1)));
    await recordUsage(store, ENV, [d!, a!, c!, b!], new Date('2026-03-01T09:35:00Z'));
    const report = await readUsage(store, ENV, new Date('2026-03-01T09:15:00Z'));
    expect(report.entries.map((e) => e.id)).toEqual([c!.id, d!.id]);
    expect(report.total).toEqual(sums([c!, d!]));
    expect(report.rolledUpBefore).toBeUndefined();
    expect((await readUsage(store, ENV)).entries.map((e) => e.id)).toEqual([a, b, c, d].map((e) => e!.id));
  });

  it('applies since to rolled-up totals by whole UTC days, and says where detail ends', async () => {
    const { store } = memoryStore();
    const day1 = [at('2026-03-01T10:00:00Z', 1000), at('2026-03-01T10:10:00Z', 2000)];
    const day2 = [at('2026-03-02T10:00:00Z', 3000), at('2026-03-02T10:10:00Z', 4000), at('2026-03-02T10:20:00Z', 5000)];
    await recordUsage(store, ENV, day1, new Date('2026-03-01T10:30:00Z'));
    await recordUsage(store, ENV, day2, new Date('2026-03-02T10:30:00Z'));
    const now = at('2026-03-11T10:00:00Z', 6000);
    await recordUsage(store, ENV, [now], new Date('2026-03-11T10:00:01Z'));

    const all = await readUsage(store, ENV);
    expect(all.total).toEqual(sums([...day1, ...day2, now]));
    expect(all.entries.map((e) => e.id)).toEqual([now.id]);
    expect(all.rolledUpBefore).toBe('2026-03-03T00:00:00.000Z');
    const fromDay2 = await readUsage(store, ENV, new Date('2026-03-02T00:00:00Z'));
    expect(fromDay2.total).toEqual(sums([...day2, now]));
    expect(fromDay2.rolledUpBefore).toBe('2026-03-03T00:00:00.000Z');
    // Day 2 started before since: its totals are left out, and the report says detail is missing there.
    const midDay2 = await readUsage(store, ENV, new Date('2026-03-02T10:05:00Z'));
    expect(midDay2.total).toEqual(sums([now]));
    expect(midDay2.rolledUpBefore).toBe('2026-03-03T00:00:00.000Z');
    const recent = await readUsage(store, ENV, new Date('2026-03-05T00:00:00Z'));
    expect(recent.total).toEqual(sums([now]));
    expect(recent.rolledUpBefore).toBeUndefined();
  });

  it('reads the single-ConfigMap ledger of earlier versions and folds it into the totals', async () => {
    const { store, objects } = memoryStore();
    const legacy = [at('2026-02-01T10:00:00Z', 1000), at('2026-02-20T10:00:00Z', 2000)];
    // Earlier versions: keys e<ms>-<random>, values without an id, no ledger-role label.
    const data = Object.fromEntries(legacy.map((e, i) => [`e${Date.parse(e.time)}-k${i}x`, entryValue(e)]));
    await store.create({ metadata: { name: usageLedgerName(ENV), labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ENV]: ENV } }, data });
    const before = await readUsage(store, ENV);
    expect(before.entries.map((e) => e.time)).toEqual(legacy.map((e) => e.time));
    expect(before.total).toEqual(sums(legacy));

    const next = at('2026-03-01T10:00:00Z', 3000);
    await recordUsage(store, ENV, [next], new Date('2026-03-01T10:00:01Z'));
    const summary = objects.get(usageLedgerName(ENV));
    expect(Object.keys(summary?.data ?? {})).toEqual(['totals']);
    expect(summary?.metadata?.labels?.['runbox.dev/usage-ledger']).toBe('summary');
    expect((await readUsage(store, ENV)).total).toEqual(sums([...legacy, next]));
  });

  it('deletes every object of the ledger and nothing else', async () => {
    const { store, objects } = memoryStore();
    await recordUsage(store, ENV, [at('2026-03-01T10:00:00Z')], new Date('2026-03-01T10:00:01Z'));
    await recordUsage(store, ENV, [at('2026-03-09T10:00:00Z')], new Date('2026-03-09T10:00:01Z'));
    await recordUsage(store, ENV, [at('2026-03-09T11:00:00Z')], new Date('2026-03-09T11:00:01Z'));
    await recordUsage(store, 'other', [at('2026-03-09T11:00:00Z')], new Date('2026-03-09T11:00:01Z'));
    expect(objects.size).toBe(4);
    await deleteUsage(store, ENV);
    expect([...objects.keys()]).toEqual([usageShardName('other', '2026030911')]);
  });
});
