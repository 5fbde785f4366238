import type { Transfer } from '../env/sync/session.ts';

/*
 * The sync's progress line on a terminal: files, bytes and rate, redrawn at
 * most ten times a second.
 */

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0)} MB`;

export function transferText(t: Transfer, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${mb((t.bytes * 1000) / elapsedMs)}/s` : '';
  const files = `${t.files} file${t.files === 1 ? '' : 's'}`;
  return `sync ${t.direction === 'up' ? 'up' : 'down'}: ${files}, ${mb(t.bytes)} of ${mb(t.totalBytes)}${rate ? `, ${rate}` : ''}`;
}

export function transferMeter(show: (text: string) => void, now: () => number = Date.now): (t: Transfer) => void {
  let started: { direction: Transfer['direction']; at: number } | undefined;
  let shown = -Infinity;
  return (t) => {
    const at = now();
    if (started?.direction !== t.direction) started = { direction: t.direction, at };
    if (at - shown < 100 && t.bytes < t.totalBytes) return;
    shown = at;
    show(transferText(t, at - started.at));
  };
}
