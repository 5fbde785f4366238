import type { EnvDeps } from '../env/deps.ts';
import { shouldFlush, type UsageEntry } from '../env/usage/entry.ts';
import { recordUsage, restStore } from '../env/usage/ledger.ts';
import type { LaptopCache } from './laptop-cache.ts';

/**
 * Keeps a command's usage entry on the laptop and writes the batch to the
 * cluster's ledger when it is due (or `forced`). A failed write keeps every
 * entry for the next command and says so once, until a write succeeds again.
 */
export async function settleUsage(
  deps: EnvDeps,
  cache: LaptopCache,
  name: string,
  opts: { entry?: UsageEntry; forced: boolean },
): Promise<void> {
  if (opts.entry) cache.addPending(opts.entry);
  if (!shouldFlush(cache.pending(), deps.clock.now(), opts.forced)) return;
  const claim = cache.claim();
  if (claim.entries.length === 0) return;
  try {
    await recordUsage(restStore(deps.kube), name, claim.entries, deps.clock.now());
    claim.done();
    if (cache.read().usageWarned) cache.write({ usageWarned: false });
  } catch (err) {
    claim.release();
    if (!cache.read().usageWarned) {
      deps.notice(
        `could not write ${claim.entries.length} usage entr${claim.entries.length === 1 ? 'y' : 'ies'} of ${name} to the cluster (${(err as Error).message}); kept on this laptop and retried with the next command`,
      );
      cache.write({ usageWarned: true });
    }
  }
}
