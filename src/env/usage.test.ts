import { describe, expect, it } from 'vitest';
import { shouldFlush, usageEntry } from './usage.ts';

const now = new Date('2026-01-01T00:10:00Z');
const at = (iso: string, ms = 50) => usageEntry(['true'], new Date(iso), ms, 1, 0);

describe('usage entries', () => {
  it('meters allocation x duration and shortens long commands', () => {
    const e = usageEntry(['sleep', '1'], now, 1500, 2, 0);
    expect(e).toEqual({ time: now.toISOString(), command: 'sleep 1', durationMs: 1500, allocation: 2, units: 30, exitCode: 0 });
    expect(usageEntry(['x'.repeat(500)], now, 1, 1, 0).command).toHaveLength(200);
  });
});

describe('shouldFlush', () => {
  it('holds back a short command', () => {
    expect(shouldFlush([at('2026-01-01T00:09:59Z')], now, false)).toBe(false);
  });
  it('writes a command of a second or more at once', () => {
    expect(shouldFlush([at('2026-01-01T00:09:58Z', 1000)], now, false)).toBe(true);
  });
  it('writes when asked (-u, --kill)', () => {
    expect(shouldFlush([at('2026-01-01T00:09:59Z')], now, true)).toBe(true);
  });
  it('writes a batch whose oldest command is a minute old', () => {
    expect(shouldFlush([at('2026-01-01T00:09:00Z'), at('2026-01-01T00:09:59Z')], now, false)).toBe(true);
  });
  it('writes a batch of twenty', () => {
    expect(shouldFlush(Array.from({ length: 20 }, () => at('2026-01-01T00:09:59Z')), now, false)).toBe(true);
  });
  it('has nothing to write without entries', () => {
    expect(shouldFlush([], now, true)).toBe(false);
  });
});
