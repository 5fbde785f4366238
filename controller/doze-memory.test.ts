import { describe, expect, it } from 'vitest';
import { dozeMemory } from './doze-memory.ts';

const MiB = 1024 * 1024;
const facts = (worker: number, sidecar = 40 * MiB, limit = '128Mi') => ({ limit, sidecarLimit: '96Mi', usage: { worker, sidecar }, floor: '32Mi' });

describe('dozeMemory', () => {
  it('lowers an idle worker to the floor', () => {
    expect(dozeMemory(facts(3 * MiB))).toBe('32Mi');
  });

  it('keeps room above what the worker uses (page cache included), in 16 MiB steps', () => {
    // 60 MiB * 1.25 + 8 = 83 MiB -> 96 MiB
    expect(dozeMemory(facts(60 * MiB))).toBe('96Mi');
    expect(dozeMemory(facts(60 * MiB, 40 * MiB, '1Gi'))).toBe('96Mi');
  });

  it('leaves memory alone when the worker uses too much of it, or little would be saved', () => {
    expect(dozeMemory(facts(100 * MiB))).toBeUndefined();
    expect(dozeMemory(facts(3 * MiB, 40 * MiB, '40Mi'))).toBeUndefined();
    expect(dozeMemory(facts(3 * MiB, 40 * MiB, '32Mi'))).toBeUndefined();
  });

  it('leaves it alone when the pod as a whole would not fit below its lowered limit', () => {
    // The sidecar over its limit cannot happen in a cgroup, but a sandbox and a full sidecar can leave no room.
    expect(dozeMemory(facts(20 * MiB, 120 * MiB))).toBeUndefined();
  });
});
