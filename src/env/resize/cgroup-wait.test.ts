import { describe, expect, it } from 'vitest';
import { cfsQuota, waitForCgroup } from './cgroup-wait.ts';

describe('waitForCgroup', () => {
  it('asks for the limits the kubelet writes: bytes, and the quota of a 100 ms period', () => {
    const argv = waitForCgroup({ cpu: '250m', memory: '256Mi' }, 10);
    expect(argv.slice(4)).toEqual(['268435456', '25000', '10']);
    expect(cfsQuota('2')).toBe(200000);
    expect(cfsQuota('1m')).toBe(1000);
  });
});
