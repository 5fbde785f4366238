import { usageLedgerName, usageShardName } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import type { ConfigMap } from '../../kube/types.ts';
import type { UsageEntry } from './entry.ts';
import { entryValue, hourPeriod, isDataKey, ledgerLabels, ledgerSelector, ledgerView, periodName } from './layout.ts';
import { buildReport, type UsageReport } from './report.ts';
import { planRollup } from './rollup.ts';
import type { LedgerStore } from './store.ts';

/*
 * The usage ledger of an environment: every command run in it, in ConfigMaps
 * that outlive pods and laptops. A write is one merge patch into the shard of
 * the current hour (no read first); shards older than a week are rolled up
 * into daily totals in the summary, so the ledger stays a bounded number of
 * objects, each under the API's 1 MiB, whatever the number of commands. The
 * objects' format is in layout.ts, why totals stay exact in rollup.ts.
 */

export { restStore, type LedgerStore } from './store.ts';
export type { UsageReport } from './report.ts';

/** Spill shards an hour may have after its first: 21 MiB of commands in an hour. */
const MAX_SPILL = 20;
/** What one patch carries at most, so a batch never makes a shard `full` on its own. */
const MAX_PATCH_SIZE = 256 * 1024;
/** Roll-ups that find the summary changed under them try again this often, then leave it to the next one. */
const ROLLUP_ATTEMPTS = 5;
/** A shard deleted between our 404 and our create (a roll-up of a late writer's hour): tries of merge-then-create. */
const WRITE_ATTEMPTS = 3;

/**
 * Writes the entries into the shard of the hour `now` falls in (not of the
 * entries' own times: a late batch never touches rolled-up hours). Writing an
 * entry again records it once. Creating a shard (once an hour) also rolls old
 * shards up, so a plain write is one call.
 */
export async function recordUsage(store: LedgerStore, env: string, entries: UsageEntry[], now: Date): Promise<void> {
  const bad = entries.filter((e) => !isDataKey(e.id));
  if (bad.length > 0) throw new RunboxError(`usage entries with invalid ids: ${bad.map((e) => JSON.stringify(e.id)).join(', ')}`);
  const hour = hourPeriod(now);
  let created = false;
  for (const chunk of chunks(entries)) {
    if ((await writeChunk(store, env, hour, chunk)) === 'created') created = true;
  }
  if (created) await rollUp(store, env, now);
}

export async function readUsage(store: LedgerStore, env: string, since?: Date): Promise<UsageReport> {
  return buildReport(ledgerView(env, await store.list(ledgerSelector(env))), since);
}

/** Removes every object of the environment's ledger. */
export async function deleteUsage(store: LedgerStore, env: string): Promise<void> {
  const view = ledgerView(env, await store.list(ledgerSelector(env)));
  const names = [...view.shards.map((s) => s.name), usageLedgerName(env)];
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(names.slice(i, i + 10).map((name) => store.delete(name)));
  }
}

/** The entries as shard data, in patches of at most MAX_PATCH_SIZE. */
function chunks(entries: UsageEntry[]): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let size = 0;
  for (const e of entries) {
    const value = entryValue(e);
    if (size > 0 && size + e.id.length + value.length > MAX_PATCH_SIZE) {
      out.push(current);
      [current, size] = [{}, 0];
    }
    current[e.id] = value;
    size += e.id.length + value.length;
  }
  if (size > 0) out.push(current);
  return out;
}

/** Into the hour's first shard that takes it. */
async function writeChunk(store: LedgerStore, env: string, hour: string, data: Record<string, string>): Promise<'ok' | 'created'> {
  for (let spill = 0; spill <= MAX_SPILL; spill++) {
    const name = usageShardName(env, periodName(hour, spill));
    const written = await mergeOrCreate(store, env, name, data);
    if (written !== 'full') return written;
  }
  throw new RunboxError(`the usage ledger of ${env} is full for the hour ${hour} (${MAX_SPILL + 1} ConfigMaps of 1 MiB)`, {
    hint: 'the commands stay on this laptop and are written with a command in the next hour',
  });
}

async function mergeOrCreate(
  store: LedgerStore,
  env: string,
  name: string,
  data: Record<string, string>,
): Promise<'ok' | 'created' | 'full'> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const merged = await store.mergeData(name, data);
    if (merged !== 'missing') return merged;
    const shard: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: ledgerLabels(env, 'shard') }, data };
    if ((await store.create(shard)) === 'created') return 'created';
    // Another writer created it meanwhile: merge into theirs.
  }
  throw new RunboxError(`writing usage ledger ${name} failed: it was deleted ${WRITE_ATTEMPTS} times while being written`);
}

/**
 * Rolls the shards that are due up into the summary (see rollup.ts). When
 * other roll-ups keep changing the summary, it is left to the next one: the
 * ledger stays exact meanwhile, only larger.
 */
async function rollUp(store: LedgerStore, env: string, now: Date): Promise<void> {
  for (let attempt = 0; attempt < ROLLUP_ATTEMPTS; attempt++) {
    const view = ledgerView(env, await store.list(ledgerSelector(env)));
    const plan = planRollup(view, now);
    if (!plan) return;
    const meta = view.summary?.metadata;
    const summary: ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: usageLedgerName(env),
        labels: { ...meta?.labels, ...ledgerLabels(env, 'summary') },
        ...(meta?.annotations ? { annotations: meta.annotations } : {}),
        ...(meta?.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      data: plan.data,
    };
    const saved = view.summary ? await store.replace(summary) : (await store.create(summary)) === 'created' ? 'ok' : 'conflict';
    if (saved === 'conflict') continue;
    // A shard written since the snapshot stays ('conflict'): its entries count until the next roll-up takes it.
    for (const s of plan.rolled) await store.delete(s.name, s.resourceVersion);
    return;
  }
}
