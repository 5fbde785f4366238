import { cpuMillis, memoryBytes, type Resources } from './allocation.ts';

/*
 * A command for the worker that returns once its own cgroup shows the asked
 * limits: the quickest witness of an in-place resize (the kubelet reports it
 * in the pod status up to seconds later). cgroup v1 and v2; exits 0 when
 * applied, 3 when it cannot read the cgroup, 4 when it gave up.
 */

const SCRIPT = `m=$1; q=$2; i=0
while [ "$i" -lt "$3" ]; do
  if [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    read -r a < /sys/fs/cgroup/memory/memory.limit_in_bytes; read -r b < /sys/fs/cgroup/cpu/cpu.cfs_quota_us
  elif [ -r /sys/fs/cgroup/memory.max ]; then
    read -r a < /sys/fs/cgroup/memory.max; read -r b _ < /sys/fs/cgroup/cpu.max
  else exit 3; fi
  # The kernel rounds a memory limit down to whole pages.
  case "$a" in *[!0-9]*) ;; *) [ $((m - a)) -ge 0 ] && [ $((m - a)) -lt 4096 ] && [ "$b" = "$q" ] && exit 0;; esac
  sleep 0.02 2>/dev/null || sleep 1; i=$((i+1))
done
exit 4`;

/** CFS quota for a CPU limit with the kubelet's 100 ms period. */
export const cfsQuota = (cpu: string): number => Math.max(1000, Math.round(cpuMillis(cpu) * 100));

export function waitForCgroup(r: Resources, tries = 500): string[] {
  return ['/bin/sh', '-c', SCRIPT, 'runbox', String(memoryBytes(r.memory)), String(cfsQuota(r.cpu)), String(tries)];
}
