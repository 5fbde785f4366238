import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/*
 * Memory in use, as the kubelet counts it before it lowers a memory limit
 * (the container cgroup's usage, page cache included): the controller lowers
 * a dozing worker's memory only where that fits under the new limit, since
 * the kubelet refuses the whole resize otherwise, CPU and all.
 */

/** cgroup v1's usage_in_bytes, or v2's memory.current, under a cgroup root (`/sys/fs/cgroup`). */
export async function cgroupMemoryUsage(root: string): Promise<number | undefined> {
  for (const file of ['memory/memory.usage_in_bytes', 'memory.current']) {
    const text = await readFile(join(root, file), 'utf8').catch(() => undefined);
    const bytes = text === undefined ? NaN : Number(text.trim());
    if (Number.isSafeInteger(bytes) && bytes >= 0) return bytes;
  }
  return undefined;
}

/** The worker's and the sidecar's own usage; the worker's read through a worker process's root. */
export async function podMemoryUsage(proc: string, workerPid: number | undefined, ownCgroupRoot = '/sys/fs/cgroup'): Promise<{ worker: number; sidecar: number } | undefined> {
  if (workerPid === undefined) return undefined;
  const [worker, sidecar] = await Promise.all([cgroupMemoryUsage(join(proc, String(workerPid), 'root', 'sys/fs/cgroup')), cgroupMemoryUsage(ownCgroupRoot)]);
  return worker === undefined || sidecar === undefined ? undefined : { worker, sidecar };
}
