import { readdir, readFile } from 'node:fs/promises';

/** What runs in the pod besides the pause process, the worker's long sleep and us. */
export interface WorkerActivity {
  /** Processes other than the worker's idle command and the sidecar itself. */
  busy: number;
  commands: string[];
}

const IDLE = new Set(['sleep', 'pause']);

/**
 * Counts user processes in the pod (shareProcessNamespace makes them visible).
 * A process is idle when it is pid 1 (the sandbox), ours, or the worker's
 * long sleep.
 */
export async function workerActivity(proc: string, self: number): Promise<WorkerActivity> {
  const commands: string[] = [];
  for (const entry of await readdir(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === 1 || pid === self) continue;
    let cmdline: string;
    try {
      cmdline = (await readFile(`${proc}/${pid}/cmdline`, 'utf8')).replace(/\0+$/, '').replaceAll('\0', ' ');
    } catch {
      continue; // exited while we looked
    }
    const argv0 = cmdline.split(' ')[0]?.split('/').pop() ?? '';
    if (cmdline === '' || IDLE.has(argv0) || cmdline.includes('/opt/runbox/sidecar/')) continue;
    commands.push(cmdline);
  }
  return { busy: commands.length, commands };
}
