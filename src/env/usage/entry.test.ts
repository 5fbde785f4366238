import { describe, expect, it } from 'vitest';
import { shouldFlush, usageEntry } from './entry.ts';

const now = new Date('2026-01-01T00:10:00Z');
const at = (iso: string, ms = 50) => usageEntry(['true'], { start: new Date(iso), durationMs: ms, allocation: 1, exitCode: 0 });

describe('usage entries', () => {
  it('meters allocation x duration and shortens long commands', () => {
    const e = usageEntry(['sleep', '1'], { start: now, durationMs: 1500, allocation: 2, exitCode: 0 });
    expect(e).toMatchObject({ time: now.toISOString(), command: 'sleep 1', durationMs: 1500, allocation: 2, units: 30, exitCode: 0 });
    expect(e.id).toMatch(new RegExp(`^e${now.getTime()}-[0-9a-f]{8}$`));
    expect(usageEntry(['x'.repeat(500)], { start: now, durationMs: 1, allocation: 1, exitCode: 0 }).command).toHaveLength(200);
  });
  it('gives every command its own id', () => {
    expect(at('2026-01-01T00:09:59Z').id).not.toBe(at('2026-01-01T00:09:59Z').id);
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
  it('writes a batch whose oldest command is a minute old, whatever the order', () => {
    expect(shouldFlush([at('2026-01-01T00:09:59Z'), at('2026-01-01T00:09:00Z')], now, false)).toBe(true);
  });
  it('writes a batch of twenty', () => {
    expect(shouldFlush(Array.from({ length: 20 }, () => at('2026-01-01T00:09:59Z')), now, false)).toBe(true);
  });
  it('has nothing to write without entries', () => {
    expect(shouldFlush([], now, true)).toBe(false);
  });
});
