import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLeaderElection } from '../../controller/lease.ts';
import type { KubeTarget } from '../../src/kube/target.ts';
import type { Kube } from './support/cluster.ts';
import { devCluster, uniqueName, waitFor } from './support/cluster.ts';

// Leader election on the real API server: who leads is whatever the Lease
// object says, so each step checks the Lease as well as the callbacks.

const NAMESPACE = 'default';
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, renewEveryMs: 1000, retryEveryMs: 300 };

interface Elector {
  id: string;
  stop: AbortController;
  done: Promise<void>;
  leading: boolean;
  starts: number;
  stops: number;
  /** performance.now() when it last started leading. */
  startedAt: number | undefined;
  leadingSignal: AbortSignal | undefined;
  /** performance.now() when it last stopped leading. */
  stoppedAt: number | undefined;
  /** Its own copy of the target, so a test can cut it off from the API server. */
  target: KubeTarget;
  logs: string[];
}

let kube: Kube;
let coordination: InstanceType<Kube['lib']['CoordinationV1Api']>;
const leases: string[] = [];
const electors: Elector[] = [];

function elector(lease: string, id: string, opts: { releaseOnStop?: boolean } = {}): Elector {
  const e: Elector = {
    id,
    stop: new AbortController(),
    done: Promise.resolve(),
    leading: false,
    starts: 0,
    stops: 0,
    startedAt: undefined,
    leadingSignal: undefined,
    stoppedAt: undefined,
    target: { ...kube.target },
    logs: [],
  };
  e.done = runLeaderElection(e.target, {
    namespace: NAMESPACE,
    name: lease,
    identity: id,
    ...TIMING,
    ...opts,
    signal: e.stop.signal,
    onStartedLeading: (leading) => {
      e.leading = true;
      e.starts++;
      e.startedAt = performance.now();
      e.leadingSignal = leading;
    },
    onStoppedLeading: () => {
      e.leading = false;
      e.stops++;
      e.stoppedAt = performance.now();
    },
    log: (msg, fields) => e.logs.push(`${msg} ${JSON.stringify(fields)}`),
  });
  electors.push(e);
  return e;
}

const readLease = (name: string) => coordination.readNamespacedLease({ name, namespace: NAMESPACE });
// The typed client declares MicroTime a Date but hands back the string the server sent.
const timeMs = (t: unknown): number => (t instanceof Date ? t.getTime() : Date.parse(String(t)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  kube = await devCluster();
  coordination = kube.config.makeApiClient(kube.lib.CoordinationV1Api);
});

afterAll(async () => {
  for (const e of electors) e.stop.abort();
  await Promise.allSettled(electors.map((e) => e.done));
  for (const name of leases) await coordination.deleteNamespacedLease({ name, namespace: NAMESPACE }).catch(() => undefined);
});

describe('lease election between two candidates', () => {
  const lease = uniqueName('e2e-lease');
  leases.push(lease);
  let a: Elector;
  let b: Elector;
  let leader: Elector;
  let follower: Elector;

  it('lets exactly one lead, and keeps it leading while it renews', async () => {
    // Started together, both find no lease and race to create it.
    a = elector(lease, uniqueName('a'));
    b = elector(lease, uniqueName('b'));
    leader = await waitFor('a leader', 10_000, async () => (a.leading ? a : b.leading ? b : undefined));
    follower = leader === a ? b : a;
    // Longer than the lease duration: the leader's renewals keep the follower out.
    await sleep(TIMING.leaseDurationMs + 1500);
    expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    expect(leader).toMatchObject({ leading: true, starts: 1, stops: 0 });
    expect(follower).toMatchObject({ leading: false, starts: 0 });
    const l = await readLease(lease);
    expect(l.spec).toMatchObject({ holderIdentity: leader.id, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(timeMs(l.spec?.renewTime)).toBeGreaterThan(timeMs(l.spec?.acquireTime));
  });

  it('hands over at once when the leader stops and releases', async () => {
    const before = (await readLease(lease)).spec?.leaseTransitions ?? 0;
    const stoppedAt = performance.now();
    leader.stop.abort();
    await leader.done;
    expect(leader).toMatchObject({ leading: false, starts: 1, stops: 1 });
    expect(leader.leadingSignal?.aborted).toBe(true);

    await waitFor('the follower to lead', 5000, async () => follower.leading);
    // Released, not expired: well under the 3 s lease duration.
    expect(follower.startedAt! - stoppedAt).toBeLessThan(1500);
    const l = await readLease(lease);
    expect(l.spec).toMatchObject({ holderIdentity: follower.id, leaseTransitions: before + 1 });
  });
});

describe('lease election after a leader dies', () => {
  const lease = uniqueName('e2e-lease');
  leases.push(lease);

  it('lets another take over once the lease expires', async () => {
    const dying = elector(lease, uniqueName('dies'), { releaseOnStop: false });
    await waitFor('the first candidate to lead', 10_000, async () => dying.leading);
    const next = elector(lease, uniqueName('next'));
    await sleep(1500);
    expect(next.leading).toBe(false);
    const before = await readLease(lease);
    expect(before.spec?.holderIdentity).toBe(dying.id);

    // Stops renewing and leaves the lease as it was, as a killed process would.
    const diedAt = performance.now();
    dying.stop.abort();
    await dying.done;
    expect((await readLease(lease)).spec?.holderIdentity).toBe(dying.id);

    await waitFor('the other candidate to lead', 10_000, async () => next.leading);
    const waited = next.startedAt! - diedAt;
    // The last renewal was at most renewEveryMs before the death, so the lease ran out 2–3 s later.
    expect(waited).toBeGreaterThan(TIMING.leaseDurationMs - TIMING.renewEveryMs - 500);
    expect(waited).toBeLessThan(TIMING.leaseDurationMs + 2000);
    const after = await readLease(lease);
    expect(after.spec).toMatchObject({ holderIdentity: next.id, leaseTransitions: (before.spec?.leaseTransitions ?? 0) + 1 });
    expect(timeMs(after.spec?.acquireTime)).toBeGreaterThan(timeMs(before.spec?.renewTime));
  });
});

describe('lease election when the leader loses the API server', () => {
  const lease = uniqueName('e2e-lease');
  leases.push(lease);

  it('steps down once its renewals have failed for the renew deadline, before the lease runs out, and another takes over', async () => {
    const cut = elector(lease, uniqueName('cut'));
    await waitFor('the first candidate to lead', 10_000, async () => cut.leading);
    const next = elector(lease, uniqueName('next'));
    await sleep(1500);

    // Nothing listens on port 1: every renewal now fails to connect.
    const cutAt = performance.now();
    cut.target.server = 'https://127.0.0.1:1';
    await waitFor('the cut-off leader to step down', 10_000, async () => !cut.leading);
    expect(cut.leadingSignal?.aborted).toBe(true);
    expect(cut.logs.some((l) => l.startsWith('lease request failed') && l.includes('ECONNREFUSED'))).toBe(true);
    const steppedDown = cut.stoppedAt! - cutAt;
    expect(steppedDown).toBeGreaterThan(TIMING.renewDeadlineMs - TIMING.renewEveryMs - 500);
    expect(steppedDown).toBeLessThan(TIMING.renewDeadlineMs + 500);

    await waitFor('the other candidate to lead', 10_000, async () => next.leading);
    // No overlap: the cut-off leader gives up a third of the lease before others may take it.
    expect(next.startedAt!).toBeGreaterThanOrEqual(cut.stoppedAt!);
    expect((await readLease(lease)).spec).toMatchObject({ holderIdentity: next.id, leaseTransitions: 1 });
    // Still campaigning, against an unreachable server: it neither throws nor leads.
    expect(cut.leading).toBe(false);
  });
});

describe("lease election when the leader's work fails", () => {
  const lease = uniqueName('e2e-lease');
  leases.push(lease);

  it('releases the lease and ends with the error', async () => {
    const identity = uniqueName('fails');
    let stopped = 0;
    const done = runLeaderElection(kube.target, {
      namespace: NAMESPACE,
      name: lease,
      identity,
      ...TIMING,
      signal: new AbortController().signal,
      onStartedLeading: async () => {
        await sleep(200);
        throw new Error('reconciler crashed');
      },
      onStoppedLeading: () => stopped++,
    });
    await expect(done).rejects.toThrow("the leader's work failed: reconciler crashed");
    expect(stopped).toBe(1);
    expect((await readLease(lease)).spec).toMatchObject({ holderIdentity: '', leaseTransitions: 0 });
  });
});
