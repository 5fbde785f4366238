import { readFileSync, readdirSync } from 'node:fs';
import {
  AGENT_MARKER,
  PROLOGUE_MODES,
  PROLOGUE_NAME,
  SANDBOX_PROCESS,
  WORKER_IDLE_PROCESSES,
  type SidecarStatus,
} from '../src/contract/sidecar.ts';

/** runbox's prologue waiting for its command's process, which is counted itself. */
const waitingPrologue = (argv: string[]) => argv[1] === '-c' && argv[3] === PROLOGUE_NAME && argv[4] === PROLOGUE_MODES.pipes;

// Read synchronously: /proc answers from memory, and this runs every ACTIVITY_SAMPLE_MS at the
// sidecar's 50m, where a thread-pool round trip per file made a look cost ~3 ms of its 5 ms a period.
const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * What runs in the pod (shareProcessNamespace makes every container's
 * processes visible here): the worker's processes other than its idle command,
 * and runbox agents (sync, snapshot) exec'd into this container. The sandbox,
 * the sidecar's own server and anything else in its container (a probe, a
 * debugging shell) are not activity.
 */
export async function podActivity(proc: string, self: number, opts: { countPrologues?: boolean } = {}): Promise<SidecarStatus> {
  const ownCgroup = read(`${proc}/${self}/cgroup`);
  const commands: string[] = [];
  const agents: string[] = [];
  for (const entry of readdirSync(proc)) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === 1 || pid === self) continue;
    const cmdline = read(`${proc}/${pid}/cmdline`);
    if (cmdline === undefined) continue; // exited while we looked
    const cgroup = read(`${proc}/${pid}/cgroup`);
    const argv = cmdline.replace(/\0+$/, '').split('\0');
    const line = argv.join(' ');
    if (ownCgroup !== undefined && cgroup === ownCgroup) {
      if (argv.includes(AGENT_MARKER)) agents.push(line);
      continue;
    }
    if (line === '' || line === SANDBOX_PROCESS || WORKER_IDLE_PROCESSES.includes(line)) continue;
    // A prologue is counted through its command, except while draining: one that got past the flag
    // check a moment before the flag was raised may not have started its command yet.
    if (waitingPrologue(argv) && !opts.countPrologues) continue;
    commands.push(line);
  }
  return { busy: commands.length + agents.length, commands, agents };
}
