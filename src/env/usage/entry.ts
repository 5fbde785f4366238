import { randomBytes } from 'node:crypto';
import { capacityUnits } from '../resize/allocation.ts';

/*
 * One command's line in the usage ledger, and when the laptop writes its
 * batch: short commands are written in batches, so the hot path does not pay
 * a round trip per command.
 */

export interface UsageEntry {
  /** Unique per command, so that writing an entry twice (a retried batch) records it once. */
  id: string;
  /** When the command started (ISO). */
  time: string;
  command: string;
  durationMs: number;
  allocation: number;
  units: number;
  exitCode: number;
}

/** Commands shorter than this wait in the laptop's cache for the next batch. */
export const FLUSH_MIN_DURATION_MS = 1_000;
/** A batch is written at the latest this long after its oldest command... */
export const FLUSH_MAX_AGE_MS = 60_000;
/** ...or once it holds this many commands. */
export const FLUSH_MAX_ENTRIES = 20;

/** Whether the pending entries go to the cluster now. */
export function shouldFlush(pending: UsageEntry[], now: Date, forced: boolean): boolean {
  if (pending.length === 0) return false;
  const oldest = Math.min(...pending.map((e) => Date.parse(e.time)));
  return (
    forced ||
    pending.some((e) => e.durationMs >= FLUSH_MIN_DURATION_MS) ||
    pending.length >= FLUSH_MAX_ENTRIES ||
    now.getTime() - oldest >= FLUSH_MAX_AGE_MS
  );
}

const MAX_COMMAND = 200;

export function usageEntry(
  argv: readonly string[],
  run: { start: Date; durationMs: number; allocation: number; exitCode: number },
): UsageEntry {
  const command = argv.join(' ');
  const start = run.start.getTime();
  return {
    // Sorts by time: e<epoch ms>-<random>. ConfigMap keys allow [-._a-zA-Z0-9].
    id: `e${start}-${randomBytes(4).toString('hex')}`,
    time: run.start.toISOString(),
    command: command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND - 1)}…` : command,
    durationMs: Math.round(run.durationMs),
    allocation: run.allocation,
    units: capacityUnits(run.allocation, run.durationMs),
    exitCode: run.exitCode,
  };
}
