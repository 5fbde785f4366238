import { describe, expect, it } from 'vitest';
import type { Lease, LeaseSpec } from './lease.ts';
import { electionProblems, expiresAtMs, leaseAction, microTime, nextLease, releasedLease } from './lease.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const lease = (spec: LeaseSpec | undefined): Lease => ({ metadata: { name: 'l', resourceVersion: '7' }, ...(spec ? { spec } : {}) });
const held = (holder: string, renewedMs: number, seconds = 15): Lease =>
  lease({ holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: microTime(renewedMs), acquireTime: microTime(T0 - 60_000), leaseTransitions: 3 });

describe('microTime', () => {
  it('writes RFC3339 with microseconds in UTC', () => {
    expect(microTime(T0)).toBe('2026-11-23T10:00:00.000000Z');
    expect(microTime(T0 + 1234)).toBe('2026-11-23T10:00:01.234000Z');
  });
});

describe('expiresAtMs', () => {
  it('is the renew time plus the duration', () => {
    expect(expiresAtMs({ renewTime: '2026-11-23T10:00:00.500000Z', leaseDurationSeconds: 15 })).toBe(T0 + 15_500);
  });
  it('reads offsets other than Z', () => {
    expect(expiresAtMs({ renewTime: '2026-11-23T12:00:00.000000+02:00', leaseDurationSeconds: 1 })).toBe(T0 + 1000);
  });
  it('is already past when never renewed or unreadable', () => {
    expect(expiresAtMs({ leaseDurationSeconds: 15 })).toBe(-Infinity);
    expect(expiresAtMs({ renewTime: 'yesterday', leaseDurationSeconds: 15 })).toBe(-Infinity);
  });
  it('counts a missing duration as zero', () => {
    expect(expiresAtMs({ renewTime: microTime(T0) })).toBe(T0);
  });
});

describe('leaseAction', () => {
  it.each([
    ['no lease', undefined, T0, 'create'],
    ['our own fresh lease', held('me', T0), T0 + 1000, 'renew'],
    ['our own expired lease (nobody took it)', held('me', T0), T0 + 60_000, 'renew'],
    ["another's fresh lease", held('other', T0), T0 + 14_999, 'wait'],
    ["another's lease at its expiry", held('other', T0), T0 + 15_000, 'take'],
    ["another's expired lease", held('other', T0), T0 + 20_000, 'take'],
    ["another's lease renewed in our future (skew)", held('other', T0 + 5000), T0, 'wait'],
    ['an empty holder', lease({ holderIdentity: '', renewTime: microTime(T0), leaseDurationSeconds: 15 }), T0, 'take'],
    ['no holder field', lease({ renewTime: microTime(T0), leaseDurationSeconds: 15 }), T0, 'take'],
    ['no spec at all', lease(undefined), T0, 'take'],
    ['a holder that never renewed', lease({ holderIdentity: 'other', leaseDurationSeconds: 15 }), T0, 'take'],
  ] as const)('%s → %s', (_what, l, now, want) => {
    expect(leaseAction(l, 'me', now)).toBe(want);
  });
});

describe('nextLease', () => {
  const claim = { identity: 'me', leaseDurationSeconds: 15, nowMs: T0 };

  it('creates with no transitions', () => {
    expect(nextLease(undefined, claim)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-23T10:00:00.000000Z',
      renewTime: '2026-11-23T10:00:00.000000Z',
      leaseTransitions: 0,
    });
  });

  it('renews: keeps acquireTime and transitions, moves renewTime', () => {
    const current = held('me', T0 - 5000, 10).spec;
    expect(nextLease(current, claim)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: microTime(T0 - 60_000),
      renewTime: microTime(T0),
      leaseTransitions: 3,
    });
  });

  it('renews a lease whose acquireTime is missing by setting it now', () => {
    expect(nextLease({ holderIdentity: 'me' }, claim)).toMatchObject({ acquireTime: microTime(T0), leaseTransitions: 0 });
  });

  it("takes another's lease: new acquireTime, one more transition", () => {
    expect(nextLease(held('other', T0 - 20_000).spec, claim)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: microTime(T0),
      renewTime: microTime(T0),
      leaseTransitions: 4,
    });
  });

  it('takes a released lease (empty holder) as a transition', () => {
    expect(nextLease(releasedLease(held('other', T0).spec, T0), claim).leaseTransitions).toBe(4);
  });

  it('takes a lease with an empty spec as the first transition', () => {
    expect(nextLease({}, claim).leaseTransitions).toBe(1);
  });

  it('keeps fields it does not manage', () => {
    const current = { ...held('other', T0 - 20_000).spec, preferredHolder: 'x' } as LeaseSpec;
    expect(nextLease(current, claim)).toMatchObject({ preferredHolder: 'x', holderIdentity: 'me' });
  });
});

describe('releasedLease', () => {
  it('clears the holder and keeps the transition count', () => {
    expect(releasedLease(held('me', T0 - 1000).spec, T0)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: microTime(T0),
      renewTime: microTime(T0),
      leaseTransitions: 3,
    });
  });
  it('is taken at once by the next candidate', () => {
    expect(leaseAction(lease(releasedLease(held('me', T0).spec, T0)), 'other', T0)).toBe('take');
  });
});

describe('electionProblems', () => {
  const ok = { identity: 'me', name: 'l', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, renewEveryMs: 5000, retryEveryMs: 2000 };
  it('accepts sane options', () => {
    expect(electionProblems(ok)).toEqual([]);
  });
  it('reports every problem at once', () => {
    expect(electionProblems({ identity: '', name: '', leaseDurationMs: 1000, renewDeadlineMs: 1000, renewEveryMs: 500, retryEveryMs: 0 })).toEqual([
      'identity is empty',
      'lease name is empty',
      'retryEveryMs must be positive (got 0)',
      'leaseDurationMs (1000) must exceed renewDeadlineMs (1000), which must exceed renewEveryMs (500)',
    ]);
  });
  it('rejects a non-positive renew interval', () => {
    expect(electionProblems({ ...ok, renewEveryMs: -1 })).toEqual(['renewEveryMs must be positive (got -1)']);
  });
});
