import { describe, expect, it } from 'vitest';
import { decide, type EnvFacts } from './decide.ts';

const T = new Date('2026-11-23T10:00:00Z');
const at = (s: number) => new Date(T.getTime() + s * 1000);
const idle = { busy: 0, commands: [], agents: [] };
const facts = (more: Partial<EnvFacts> = {}): EnvFacts => ({
  replicas: 1,
  policy: { dozeAfter: 10_000, sleepAfter: 20_000, boostFallback: false },
  lastActivity: T,
  idle: undefined,
  podReady: true,
  now: at(1),
  ...more,
});

describe('decide', () => {
  it('leaves a sleeping environment, and one whose policy is never, alone', () => {
    expect(decide(facts({ replicas: 0 })).kind).toBe('nothing');
    expect(decide(facts({ policy: { dozeAfter: null, sleepAfter: null, boostFallback: false } })).kind).toBe('nothing');
  });

  it('waits without asking anyone until the first threshold is due', () => {
    expect(decide(facts())).toMatchObject({ kind: 'wait', at: at(10) });
    expect(decide(facts({ policy: { dozeAfter: null, sleepAfter: 20_000, boostFallback: false } }))).toMatchObject({ kind: 'wait', at: at(20) });
    // Dozing already: the next threshold is the sleep.
    expect(decide(facts({ idle: { state: 'dozing', at: '', why: '', by: '' }, now: at(12) }))).toMatchObject({ kind: 'wait', at: at(20) });
    // A doze-after longer than sleep-after never dozes.
    expect(decide(facts({ policy: { dozeAfter: 30_000, sleepAfter: 20_000, boostFallback: false } }))).toMatchObject({ kind: 'wait', at: at(20) });
  });

  it('asks the sidecar once due, then acts only when nothing runs', () => {
    expect(decide(facts({ now: at(10) })).kind).toBe('ask');
    expect(decide(facts({ now: at(10), sidecar: { ...idle, lastBusy: T.toISOString() } }))).toEqual({ kind: 'doze', why: 'idle for 10s (doze-after 10s)', idleFor: '10s', after: '10s' });
    expect(decide(facts({ now: at(25), idle: { state: 'dozing', at: '', why: '', by: '' }, sidecar: idle }))).toEqual({ kind: 'sleep', why: 'idle for 25s (sleep-after 20s)', idleFor: '25s', after: '20s' });
  });

  it('never acts on a busy environment, however old its last command', () => {
    const d = decide(facts({ now: at(3600), sidecar: { busy: 1, commands: ['sleep 120'], agents: [] } }));
    expect(d).toMatchObject({ kind: 'wait', at: at(3610), why: 'busy: sleep 120' });
  });

  it('counts idle time from what the sidecar last saw running', () => {
    expect(decide(facts({ now: at(15), sidecar: { ...idle, lastBusy: at(8).toISOString() } }))).toMatchObject({ kind: 'wait', at: at(18) });
  });

  it('counts idle time from the pod becoming ready at the earliest: the command that woke it is on its way', () => {
    expect(decide(facts({ now: at(15), podReadySince: at(12), sidecar: idle }))).toMatchObject({ kind: 'wait', at: at(22) });
  });

  it('waits for a pod that does not serve yet', () => {
    expect(decide(facts({ podReady: false, now: at(50) }))).toMatchObject({ kind: 'wait', at: at(60) });
  });
});
