import { randomBytes } from 'node:crypto';

/*
 * The name a file is written under before it is renamed into place:
 * `.runbox-tmp-<pid>-<random>`. Never part of a manifest. One left behind by
 * a writer that died (its pid is gone, or it has not been written to for ten
 * minutes) is swept away by the next read of the folder.
 */

export const TEMP_PREFIX = '.runbox-tmp-';
const ABANDONED_MS = 10 * 60_000;

export const tempName = (): string => `${TEMP_PREFIX}${process.pid}-${randomBytes(8).toString('hex')}`;

export const isTempName = (base: string): boolean => base.startsWith(TEMP_PREFIX);

/** Whether a temp file's writer is gone. */
export function abandoned(base: string, mtimeMs: number, now: number, alive: (pid: number) => boolean = pidAlive): boolean {
  if (now - mtimeMs > ABANDONED_MS) return true;
  const pid = /^\.runbox-tmp-(\d+)-/.exec(base)?.[1];
  return pid !== undefined && !alive(Number(pid));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
