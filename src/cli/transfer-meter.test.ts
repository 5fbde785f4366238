import { describe, expect, it } from 'vitest';
import { transferMeter, transferText } from './transfer-meter.ts';

describe('the sync progress line', () => {
  it('says the direction, files, bytes of the total and the rate', () => {
    expect(transferText({ direction: 'up', files: 3, bytes: 5_000_000, totalBytes: 20_000_000 }, 500)).toBe('sync up: 3 files, 5.0 MB of 20 MB, 10 MB/s');
    expect(transferText({ direction: 'down', files: 1, bytes: 0, totalBytes: 0 }, 0)).toBe('sync down: 1 file, 0.0 MB of 0.0 MB');
  });

  it('redraws at most every 100 ms, but always shows the end', () => {
    let clock = 0;
    const shown: string[] = [];
    const meter = transferMeter((t) => shown.push(t), () => clock);
    meter({ direction: 'up', files: 1, bytes: 10, totalBytes: 100 });
    clock = 50;
    meter({ direction: 'up', files: 1, bytes: 20, totalBytes: 100 });
    clock = 60;
    meter({ direction: 'up', files: 1, bytes: 100, totalBytes: 100 });
    clock = 200;
    meter({ direction: 'down', files: 2, bytes: 1, totalBytes: 100 });
    expect(shown).toHaveLength(3);
    expect(shown[1]).toContain('up: 1 file, 0.0 MB of 0.0 MB');
    expect(shown[2]).toContain('down: 2 files');
  });
});
