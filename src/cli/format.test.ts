import { describe, expect, it } from 'vitest';
import { shortAge, table } from './format.ts';

describe('shortAge', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  it.each([
    ['2026-01-01T23:59:18Z', '42s'],
    ['2026-01-01T23:50:00Z', '10m'],
    ['2026-01-01T21:00:00Z', '3h'],
    ['2025-12-20T00:00:00Z', '13d'],
  ])('%s -> %s', (from, want) => expect(shortAge(from, now)).toBe(want));
  it('shows a dash for an unknown time', () => expect(shortAge(undefined, now)).toBe('-'));
});

describe('table', () => {
  it('aligns columns', () => {
    expect(table([['NAME', 'STATE'], ['myrb', 'running'], ['a-longer-name', 'sleeping']])).toBe(
      'NAME            STATE\nmyrb            running\na-longer-name   sleeping\n',
    );
  });
});
