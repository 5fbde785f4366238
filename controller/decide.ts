import type { IdleRecord } from '../src/contract/idle.ts';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import { formatAfter, type IdlePolicy } from '../src/env/idle/policy.ts';

/*
 * What the controller does with one environment, from what it observed:
 * pure, so that every reconcile is the same function of the same facts, and
 * a controller killed at any moment simply decides again.
 */

export interface EnvFacts {
  /** Desired replicas (0: asleep). */
  replicas: number;
  policy: IdlePolicy;
  /** The last command's start (runbox.dev/last-activity), else the Deployment's creation. */
  lastActivity: Date;
  idle: IdleRecord | undefined;
  /** Whether a pod serves (worker and sidecar ready). */
  podReady: boolean;
  /** Since when it is ready: a pod just woken has had no time to receive the command that woke it. */
  podReadySince?: Date | undefined;
  /** The sidecar's answer, when it was asked. */
  sidecar?: SidecarStatus | undefined;
  now: Date;
}

export type Decision =
  | { kind: 'nothing'; why: string }
  /** Look again at `at` (no API call before then). */
  | { kind: 'wait'; at: Date; why: string }
  /** Due: ask the sidecar whether anything runs, and decide again. */
  | { kind: 'ask' }
  | { kind: 'doze' | 'sleep'; why: string; idleFor: string; after: string };

/** A busy environment is looked at again after its policy's time, but never more often than this. */
export const MIN_RECHECK_MS = 5_000;
const MAX_RECHECK_MS = 5 * 60_000;

export function decide(f: EnvFacts): Decision {
  if (f.replicas === 0) return { kind: 'nothing', why: 'asleep' };
  const dozing = f.idle?.state === 'dozing';
  const doze = !dozing && f.policy.dozeAfter !== null && (f.policy.sleepAfter === null || f.policy.dozeAfter < f.policy.sleepAfter);
  const after = doze ? f.policy.dozeAfter : f.policy.sleepAfter;
  if (after === null) return { kind: 'nothing', why: dozing ? 'dozing; sleep-after is never' : 'doze-after and sleep-after are never' };
  if (!f.podReady) return { kind: 'wait', at: new Date(f.now.getTime() + Math.max(MIN_RECHECK_MS, Math.min(after, MAX_RECHECK_MS))), why: 'no pod serves yet' };
  const lastBusy = f.sidecar?.lastBusy ? new Date(f.sidecar.lastBusy) : undefined;
  const since = new Date(Math.max(f.lastActivity.getTime(), lastBusy?.getTime() ?? 0, f.podReadySince?.getTime() ?? 0));
  const due = new Date(since.getTime() + after);
  if (f.now < due) return { kind: 'wait', at: due, why: `idle since ${since.toISOString()}` };
  if (!f.sidecar) return { kind: 'ask' };
  if (f.sidecar.busy > 0) {
    const at = new Date(f.now.getTime() + Math.max(MIN_RECHECK_MS, Math.min(after, MAX_RECHECK_MS)));
    return { kind: 'wait', at, why: `busy: ${[...f.sidecar.commands, ...f.sidecar.agents].join('; ').slice(0, 200)}` };
  }
  const idleFor = formatAfter(Math.floor((f.now.getTime() - since.getTime()) / 1000) * 1000);
  const kind = doze ? 'doze' : 'sleep';
  return { kind, why: `idle for ${idleFor} (${kind}-after ${formatAfter(after)})`, idleFor, after: formatAfter(after) };
}
