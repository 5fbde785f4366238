import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';

/*
 * A bridge's stdin and stdout, opened by the sidecar's server itself through
 * /proc: the exec's pipes, which the runtime holds the other ends of. Reading
 * and writing them here means no process in between copies every byte. Only
 * for a process of this container (a bridge proves that with the key; the
 * cgroup check keeps a pid from pointing anywhere else), and only pipes: a
 * runtime that gives an exec something else (or a /proc that will not open
 * them) gets undefined, and the bridge copies instead.
 */

export interface BridgePipes {
  input: Socket;
  output: Socket;
}

export function bridgePipes(proc: string, pid: number): BridgePipes | undefined {
  const cgroup = (p: string) => {
    try {
      return readFileSync(`${proc}/${p}/cgroup`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const own = cgroup('self');
  if (own === undefined || cgroup(String(pid)) !== own) return undefined;
  const fds: number[] = [];
  try {
    // Non-blocking for the event loop: this open file description only, never the runtime's (libuv adds O_CLOEXEC).
    for (const [n, mode] of [
      [0, constants.O_RDONLY],
      [1, constants.O_WRONLY],
    ] as const) {
      const fd = openSync(`${proc}/${pid}/fd/${n}`, mode | constants.O_NONBLOCK);
      fds.push(fd);
      if (!fstatSync(fd).isFIFO()) throw new Error('not a pipe');
    }
  } catch {
    for (const fd of fds) closeSync(fd);
    return undefined;
  }
  return {
    input: new Socket({ fd: fds[0]!, readable: true, writable: false }),
    output: new Socket({ fd: fds[1]!, readable: false, writable: true }),
  };
}
