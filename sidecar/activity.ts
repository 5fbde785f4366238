import { readdir, readFile } from 'node:fs/promises';

/** What runs in the worker container besides its idle command. */
export interface WorkerActivity {
  busy: number;
  commands: string[];
}

// The worker's own long sleep (see src/env/spec.ts) and the sandbox: not activity.
// A user's `sleep 60` is.
const IDLE = new Set(['sleep 2147483647', '/pause']);

const read = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/**
 * Counts user processes in the worker (shareProcessNamespace makes them
 * visible here). Processes of the sidecar's own container (its cgroup) are
 * not the worker's, whatever they run; nor are the sandbox and the worker's
 * long sleep.
 */
export async function workerActivity(proc: string, self: number): Promise<WorkerActivity> {
  const ownCgroup = await read(`${proc}/${self}/cgroup`);
  const commands: string[] = [];
  for (const entry of await readdir(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === 1 || pid === self) continue;
    const [cmdline, cgroup] = await Promise.all([read(`${proc}/${pid}/cmdline`), read(`${proc}/${pid}/cgroup`)]);
    if (cmdline === undefined) continue; // exited while we looked
    if (ownCgroup !== undefined && cgroup === ownCgroup) continue;
    const argv = cmdline.replace(/\0+$/, '').replaceAll('\0', ' ');
    if (argv === '' || IDLE.has(argv)) continue;
    commands.push(argv);
  }
  return { busy: commands.length, commands };
}
