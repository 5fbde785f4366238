import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_FILE_DIRS } from '../src/env/exec/shell-state.ts';

/**
 * When the worker last started or finished a runbox command: the newest run
 * file the prologue leaves (written as a command starts and again as it ends),
 * read through a worker process's root. A command too short for the activity
 * sampling to see still counts.
 */
export async function lastRun(proc: string, workerPid: number | undefined): Promise<Date | undefined> {
  if (workerPid === undefined) return undefined;
  let newest = 0;
  for (const dir of RUN_FILE_DIRS) {
    const where = join(proc, String(workerPid), 'root', dir);
    const names = await readdir(where).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.startsWith('runbox-')) continue;
      const st = await stat(join(where, name)).catch(() => undefined);
      if (st && st.mtimeMs > newest) newest = st.mtimeMs;
    }
  }
  return newest > 0 ? new Date(newest) : undefined;
}
