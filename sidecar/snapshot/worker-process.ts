/**
 * The worker container's main process, found afresh each time (pids change when the container
 * restarts): the one running runbox's idle command. Its `/proc/<pid>/root` is the worker's root
 * filesystem as the worker sees it, and its mountinfo lists what is mounted over it.
 */
import { readFile, readdir } from 'node:fs/promises';
import { WORKER_IDLE_COMMAND } from '../../src/contract/sidecar.ts';
import { RunboxError } from '../../src/errors.ts';

const IDLE = WORKER_IDLE_COMMAND.join('\0');

export async function workerProcess(proc: string): Promise<number> {
  for (const entry of await readdir(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const cmdline = await readFile(`${proc}/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replace(/\0+$/, '') === IDLE) return pid;
  }
  throw new RunboxError("the worker's process is not visible from the sidecar (is the pod's process namespace shared?)");
}
