import { describe, expect, it } from 'vitest';
import { abandoned, isTempName, tempName } from './temp-name.ts';

describe('temp names', () => {
  it('carry the writer pid and are recognised', () => {
    const name = tempName();
    expect(name).toMatch(new RegExp(`^\\.runbox-tmp-${process.pid}-[0-9a-f]{16}$`));
    expect(isTempName(name)).toBe(true);
    expect(isTempName('runbox-tmp-1-2')).toBe(false);
  });

  it('are abandoned when the writer is gone or silent for ten minutes', () => {
    const now = 1_000_000_000;
    expect(abandoned('.runbox-tmp-42-ab', now - 1000, now, () => true)).toBe(false);
    expect(abandoned('.runbox-tmp-42-ab', now - 1000, now, () => false)).toBe(true);
    expect(abandoned('.runbox-tmp-42-ab', now - 11 * 60_000, now, () => true)).toBe(true);
    // The older name, without a pid: only its age tells.
    expect(abandoned('.runbox-tmp-ab12', now - 1000, now, () => false)).toBe(false);
    expect(abandoned(tempName(), now - 1000, now)).toBe(false); // this process is alive
  });
});
