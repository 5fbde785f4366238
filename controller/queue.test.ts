import { describe, expect, it } from 'vitest';
import { atMost, workQueue } from './queue.ts';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('workQueue', () => {
  it('works a key once however often it is added while queued, and again if added while worked on', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = workQueue(
      async (k) => {
        seen.push(k);
        if (seen.length === 1) await gate;
      },
      { concurrency: 1, onError: () => {} },
    );
    q.add('a');
    q.add('a'); // being worked on: once more afterwards
    q.add('b');
    q.add('b'); // queued: not twice
    release();
    await tick(10);
    expect(seen).toEqual(['a', 'b', 'a']);
    q.stop();
  });

  it('never works one key on two workers at once', async () => {
    let inside = 0;
    let most = 0;
    const q = workQueue(
      async () => {
        inside++;
        most = Math.max(most, inside);
        await tick(5);
        inside--;
      },
      { concurrency: 4, onError: () => {} },
    );
    for (let i = 0; i < 5; i++) q.add('same');
    await tick(30);
    expect(most).toBe(1);
    q.stop();
  });

  it('adds at a time, keeping the earliest', async () => {
    const seen: string[] = [];
    const q = workQueue(async (k) => void seen.push(k), { concurrency: 1, onError: () => {} });
    q.addAt('k', new Date(Date.now() + 60_000));
    q.addAt('k', new Date(Date.now() + 20));
    q.addAt('k', new Date(Date.now() + 60_000));
    expect([...q.pending().keys()]).toEqual(['k']);
    await tick(60);
    expect(seen).toEqual(['k']);
    expect(q.pending().size).toBe(0);
    q.stop();
  });

  it('reports a failed key and goes on', async () => {
    const failed: string[] = [];
    const q = workQueue(
      async (k) => {
        if (k === 'bad') throw new Error('no');
      },
      { concurrency: 1, onError: (k) => failed.push(k) },
    );
    q.add('bad');
    q.add('good');
    await tick(5);
    expect(failed).toEqual(['bad']);
    q.stop();
  });
});

describe('atMost', () => {
  it('at most one: runs works one after another in order, a failure not stopping the next', async () => {
    const gate = atMost(1);
    const log: string[] = [];
    const work = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name} starts`);
      await tick(ms);
      log.push(`${name} ends`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([gate(work('a', 10, true)), gate(work('b', 1)), gate(work('c', 1))]);
    expect(log).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });

  it('at most two: a third waits for a slot, and takes the first one freed', async () => {
    const gate = atMost(2);
    let now = 0;
    let peak = 0;
    const started: string[] = [];
    const work = (name: string, ms: number) => async (running: number) => {
      started.push(`${name}${running}`);
      peak = Math.max(peak, ++now);
      await tick(ms);
      now--;
    };
    await Promise.all([gate(work('a', 30)), gate(work('b', 5)), gate(work('c', 5)), gate(work('d', 5))]);
    expect(peak).toBe(2);
    expect(started).toEqual(['a1', 'b2', 'c2', 'd2']);
  });
});
