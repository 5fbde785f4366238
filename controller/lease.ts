import { setTimeout as sleep } from 'node:timers/promises';
import { RunboxError } from '../src/errors.ts';
import { collectionPath, objectPath } from '../src/kube/paths.ts';
import { ApiStatusError, callJson, getIfExists } from '../src/kube/rest.ts';
import type { KubeTarget } from '../src/kube/target.ts';

/*
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's
 * leaderelection does it, over the repo's own REST calls (the controller
 * bundle must not load the typed client). Every write carries the
 * resourceVersion it read, so two candidates can never both win a round.
 */

/** The Lease fields election reads and writes; anything else the server sent is kept as is. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** RFC3339 micro time, e.g. 2026-11-23T10:00:00.000000Z */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

export type LeaseAction = 'create' | 'renew' | 'take' | 'wait';

/** The Kubernetes MicroTime form of a wall-clock instant. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** When the holder's claim runs out; -Infinity when it never renewed (or the time does not parse). */
export function expiresAtMs(spec: LeaseSpec): number {
  const renewed = Date.parse(spec.renewTime ?? '');
  if (!Number.isFinite(renewed)) return -Infinity;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000;
}

/** What a candidate does with the lease it just read. */
export function leaseAction(lease: Lease | undefined, identity: string, nowMs: number): LeaseAction {
  if (!lease) return 'create';
  const spec = lease.spec ?? {};
  if (spec.holderIdentity === identity) return 'renew';
  if (!spec.holderIdentity) return 'take';
  return expiresAtMs(spec) <= nowMs ? 'take' : 'wait';
}

export interface Claim {
  identity: string;
  leaseDurationSeconds: number;
  nowMs: number;
}

/** The spec to write to hold the lease: a renewal keeps acquireTime, a change of holder counts a transition. */
export function nextLease(current: LeaseSpec | undefined, claim: Claim): LeaseSpec {
  const now = microTime(claim.nowMs);
  const renewing = current?.holderIdentity === claim.identity;
  const transitions = current?.leaseTransitions ?? 0;
  return {
    ...current,
    holderIdentity: claim.identity,
    leaseDurationSeconds: claim.leaseDurationSeconds,
    acquireTime: renewing ? (current?.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: renewing || current === undefined ? transitions : transitions + 1,
  };
}

/** The spec that gives the lease up: no holder, so any candidate takes it on its next read (as client-go releases). */
export function releasedLease(current: LeaseSpec | undefined, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return { ...current, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
}

export interface ElectionClock {
  /** Wall clock, for the times written into the lease. */
  wallMs(): number;
  /** Monotonic clock, for our own renew deadline (a wall-clock jump must not extend it). */
  monoMs(): number;
}

export interface ElectionOptions {
  namespace: string;
  name: string;
  /** Unique per process (e.g. pod name + random): a restarted process must not inherit the old one's claim. */
  identity: string;
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down (default 2/3 of leaseDurationMs), before others may take the lease. */
  renewDeadlineMs?: number;
  renewEveryMs?: number;
  retryEveryMs?: number;
  /** Give the lease up when `signal` aborts, so another candidate leads at once (default true). */
  releaseOnStop?: boolean;
  signal: AbortSignal;
  /**
   * Starts the leader's work; must return promptly (the work may go on in the
   * returned promise) and stop when `leading` aborts. The promise resolving
   * does not end leadership; its rejecting does, and ends the election with
   * that error (after releasing the lease).
   */
  onStartedLeading: (leading: AbortSignal) => void | Promise<void>;
  onStoppedLeading: () => void;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  clock?: ElectionClock;
}

const systemClock: ElectionClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

interface Timing {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  renewEveryMs: number;
  retryEveryMs: number;
}

/** Every problem with the options, before any I/O. */
export function electionProblems(o: Timing & { identity: string; name: string }): string[] {
  const problems: string[] = [];
  if (!o.identity) problems.push('identity is empty');
  if (!o.name) problems.push('lease name is empty');
  if (!(o.retryEveryMs > 0)) problems.push(`retryEveryMs must be positive (got ${o.retryEveryMs})`);
  if (!(o.renewEveryMs > 0)) problems.push(`renewEveryMs must be positive (got ${o.renewEveryMs})`);
  if (!(o.leaseDurationMs > o.renewDeadlineMs && o.renewDeadlineMs > o.renewEveryMs)) {
    problems.push(`leaseDurationMs (${o.leaseDurationMs}) must exceed renewDeadlineMs (${o.renewDeadlineMs}), which must exceed renewEveryMs (${o.renewEveryMs})`);
  }
  return problems;
}

/** One round's outcome: we hold the lease, someone else does, or the read/write failed or lost a race. */
type Round = { kind: 'held'; stampMono: number } | { kind: 'other'; holder: string | undefined } | { kind: 'retry' };

interface Ctx {
  kube: KubeTarget;
  opts: ElectionOptions;
  clock: ElectionClock;
  path: string;
  timing: Timing;
  log: (msg: string, fields: Record<string, unknown>) => void;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Aborts after `ms` (AbortSignal.timeout takes whole milliseconds only; rounding down keeps us inside a deadline). */
const timeout = (ms: number): AbortSignal => AbortSignal.timeout(Math.max(1, Math.floor(ms)));

const isTimeout = (reason: unknown): boolean => reason instanceof DOMException && reason.name === 'TimeoutError';

/** Sleeps, cut short (without throwing) when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await sleep(Math.max(0, Math.floor(ms)), undefined, { signal });
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/**
 * Reads the lease and, when the decision allows, writes our claim. A leader
 * only renews: finding another holder (or no lease) means it lost.
 */
async function round(ctx: Ctx, leading: boolean, signal: AbortSignal): Promise<Round> {
  const { kube, opts, clock, path } = ctx;
  // renewTime and our own deadline are anchored at the same instant, before the read.
  const stampMono = clock.monoMs();
  const nowMs = clock.wallMs();
  try {
    const current = await getIfExists<Lease>(kube, path, signal);
    const action = leaseAction(current, opts.identity, nowMs);
    if (action === 'wait' || (leading && action !== 'renew')) return { kind: 'other', holder: current?.spec?.holderIdentity };
    const spec = nextLease(current?.spec, { identity: opts.identity, leaseDurationSeconds: Math.ceil(ctx.timing.leaseDurationMs / 1000), nowMs });
    if (current === undefined) {
      const body = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: opts.name, namespace: opts.namespace }, spec };
      await callJson(kube, { method: 'POST', path: collectionPath('leases', opts.namespace), body, signal });
    } else {
      await callJson(kube, { method: 'PUT', path, body: { ...current, spec }, signal });
    }
    return { kind: 'held', stampMono };
  } catch (err) {
    // Cancelled by the caller (stop or the leader's work failing): nothing to report.
    if (signal.aborted && !isTimeout(signal.reason)) return { kind: 'retry' };
    if (err instanceof ApiStatusError && err.code === 409) ctx.log('lease write lost a race; re-reading', { leading });
    else ctx.log('lease request failed; retrying', { leading, error: errorText(err) });
    return { kind: 'retry' };
  }
}

/** Gives the lease up if it is still ours; best effort, and pointless once our claim has run out. */
async function release(ctx: Ctx, deadlineMono: number): Promise<void> {
  const left = deadlineMono - ctx.clock.monoMs();
  if (left <= 0) return;
  const signal = timeout(left);
  try {
    const current = await getIfExists<Lease>(ctx.kube, ctx.path, signal);
    if (current?.spec?.holderIdentity !== ctx.opts.identity) return;
    await callJson(ctx.kube, { method: 'PUT', path: ctx.path, body: { ...current, spec: releasedLease(current.spec, ctx.clock.wallMs()) }, signal });
    ctx.log('lease released', {});
  } catch (err) {
    ctx.log('lease release failed; it expires on its own', { error: errorText(err) });
  }
}

/**
 * Holds the lease until it is lost, `signal` aborts or the leader's work
 * fails: renews every renewEveryMs (retryEveryMs after a failure), and steps
 * down once no renewal has succeeded for renewDeadlineMs, a margin before
 * leaseDurationMs, from which others may take the lease.
 */
async function lead(ctx: Ctx, held: { stampMono: number }): Promise<void> {
  const { opts, clock } = ctx;
  const { leaseDurationMs, renewDeadlineMs, renewEveryMs, retryEveryMs } = ctx.timing;
  const leading = new AbortController();
  const failed = new AbortController();
  let failure: unknown;
  const wake = AbortSignal.any([opts.signal, failed.signal]);
  ctx.log('started leading', {});

  let work: Promise<void>;
  try {
    work = Promise.resolve(opts.onStartedLeading(leading.signal));
  } catch (err) {
    work = Promise.reject(err);
  }
  void work.then(undefined, (err: unknown) => {
    if (leading.signal.aborted) return ctx.log('leader work failed after stepping down', { error: errorText(err) });
    failure = err;
    failed.abort(err);
  });

  let renewedAt = held.stampMono;
  let lastOk = true;
  let lostBecause: string | undefined;
  while (!wake.aborted) {
    const left = renewedAt + renewDeadlineMs - clock.monoMs();
    if (left <= 0) {
      lostBecause = `no renewal succeeded for ${renewDeadlineMs} ms`;
      break;
    }
    await pause(Math.min(lastOk ? renewEveryMs : retryEveryMs, left), wake);
    if (wake.aborted) break;
    const untilDeadline = renewedAt + renewDeadlineMs - clock.monoMs();
    if (untilDeadline <= 0) continue;
    // A hung request must not carry us past the deadline.
    const r = await round(ctx, true, AbortSignal.any([wake, timeout(untilDeadline)]));
    if (r.kind === 'held') renewedAt = r.stampMono;
    if (r.kind === 'other') {
      lostBecause = r.holder ? `the lease is held by ${r.holder}` : 'the lease was given up or deleted';
      break;
    }
    lastOk = r.kind === 'held';
  }

  const stopping = opts.signal.aborted || failed.signal.aborted;
  leading.abort(new Error(stopping ? 'leader election stopped' : `lost the lease: ${lostBecause}`));
  if (stopping && (opts.releaseOnStop ?? true)) await release(ctx, renewedAt + leaseDurationMs);
  ctx.log(stopping ? 'stopped leading' : 'lost the lease', lostBecause ? { reason: lostBecause } : {});
  opts.onStoppedLeading();
  if (failed.signal.aborted) throw new RunboxError(`the leader's work failed: ${errorText(failure)}`, { cause: failure });
}

/**
 * Campaigns for the lease until `signal` aborts: tries every retryEveryMs,
 * leads while it holds the lease, and goes back to trying when it loses it.
 * API and transport errors are logged and retried; only bad options or a
 * failure of the leader's own work end it with an error.
 */
export async function runLeaderElection(kube: KubeTarget, opts: ElectionOptions): Promise<void> {
  const timing: Timing = {
    leaseDurationMs: opts.leaseDurationMs ?? 15_000,
    renewDeadlineMs: opts.renewDeadlineMs ?? Math.round(((opts.leaseDurationMs ?? 15_000) * 2) / 3),
    renewEveryMs: opts.renewEveryMs ?? 5000,
    retryEveryMs: opts.retryEveryMs ?? 2000,
  };
  const problems = electionProblems({ ...timing, identity: opts.identity, name: opts.name });
  if (problems.length) throw new RunboxError(`invalid leader election options: ${problems.join('; ')}`);
  const lease = `${opts.namespace}/${opts.name}`;
  const log = opts.log ?? (() => {});
  const ctx: Ctx = {
    kube,
    opts,
    clock: opts.clock ?? systemClock,
    path: objectPath('leases', opts.namespace, opts.name),
    timing,
    log: (msg, fields) => log(msg, { lease, identity: opts.identity, ...fields }),
  };

  let seenHolder: string | undefined;
  while (!opts.signal.aborted) {
    const r = await round(ctx, false, AbortSignal.any([opts.signal, timeout(timing.leaseDurationMs)]));
    if (r.kind === 'held') {
      seenHolder = undefined;
      await lead(ctx, r);
      continue;
    }
    if (r.kind === 'other' && r.holder !== seenHolder) {
      seenHolder = r.holder;
      ctx.log('lease held by another candidate', { holder: r.holder });
    }
    await pause(timing.retryEveryMs, opts.signal);
  }
}
