import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DRAIN_HOLD_MS } from '../src/contract/idle.ts';
import type { SidecarStatus } from '../src/contract/sidecar.ts';

/*
 * The sidecar's side of the idle handshake (see src/contract/idle.ts): it
 * raises the doze and drain flags in the pod's shared memory, where every
 * command's prologue looks, only while nothing runs, and checks once more
 * after raising them.
 */

export interface Handshake {
  /**
   * The worker is shrunk to `quota` (its CFS quota): raise the doze flag, unless something runs,
   * or the shrink was not applied (the kubelet refused it): `applied` says what quota holds then.
   */
  doze(quota: number): Promise<{ ok: true } | { ok: false; status: SidecarStatus } | { ok: false; applied: number | undefined }>;
  drain(): Promise<{ ok: true } | { ok: false; status: SidecarStatus }>;
  undrain(): Promise<void>;
  /** A restarted sidecar: no flag of its earlier run holds (its lapse timer went with it). */
  reset(): Promise<void>;
}

export function idleHandshake(deps: {
  /** Where the flags are (contract/idle.ts), as paths. */
  flags: { drain: string; doze: string };
  activity: (opts: { countPrologues: boolean }) => Promise<SidecarStatus>;
  /** The worker's CFS quota as it sees it now, when known. */
  workerQuota: () => Promise<number | undefined>;
  holdMs?: number;
  /** How long a shrink may take to reach the cgroup. */
  applyMs?: number;
}): Handshake {
  let lapse: NodeJS.Timeout | undefined;
  const drop = async (file: string) => rm(file, { force: true });

  async function raise(file: string, content: string): Promise<{ ok: true } | { ok: false; status: SidecarStatus }> {
    const before = await deps.activity({ countPrologues: false });
    if (before.busy > 0) return { ok: false, status: before };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    // A command whose prologue read no flag a moment ago is running (or about to) now.
    const after = await deps.activity({ countPrologues: true });
    if (after.busy > 0) {
      await drop(file);
      return { ok: false, status: after };
    }
    return { ok: true };
  }

  return {
    async doze(quota) {
      // The prologue compares the flag with the quota it sees: raise it only once the shrink is applied.
      const until = Date.now() + (deps.applyMs ?? 5_000);
      let seen = await deps.workerQuota();
      while (seen !== quota && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await deps.workerQuota();
      }
      // A quota that cannot be read (cgroup hidden) is taken on trust, as the prologue then never refuses.
      if (seen !== undefined && seen !== quota) return { ok: false, applied: seen };
      return raise(deps.flags.doze, `${quota}\n`);
    },
    async drain() {
      const r = await raise(deps.flags.drain, '');
      if (r.ok) {
        clearTimeout(lapse);
        lapse = setTimeout(() => void drop(deps.flags.drain), deps.holdMs ?? DRAIN_HOLD_MS);
        lapse.unref();
      }
      return r;
    },
    async undrain() {
      clearTimeout(lapse);
      await drop(deps.flags.drain);
    },
    async reset() {
      await Promise.all([drop(deps.flags.drain), drop(deps.flags.doze)]);
    },
  };
}

/**
 * The worker's CPU quota (microseconds per 100 ms period, -1 unlimited), read
 * through a worker process's root: cgroup v1's cpu.cfs_quota_us, or v2's cpu.max.
 */
export async function workerQuota(proc: string, workerPid: () => Promise<number | undefined>): Promise<number | undefined> {
  const pid = await workerPid();
  if (pid === undefined) return undefined;
  for (const file of ['sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us', 'sys/fs/cgroup/cpu.max']) {
    const text = await readFile(join(proc, String(pid), 'root', file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const first = text.trim().split(/\s+/)[0];
    return first === 'max' ? -1 : Number(first);
  }
  return undefined;
}
