import { Writable } from 'node:stream';
import { execInPod } from './exec-socket.ts';
import type { KubeTarget } from './target.ts';

/** Runs a short command in a container without input and resolves to its exit code and output. */
export async function execOutput(
  target: KubeTarget,
  where: { pod: string; container: string },
  command: readonly string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        into.push(chunk);
        done();
      },
    });
  const code = await execInPod({ target, ...where, command, stdin: null, stdout: sink(out), stderr: sink(err), signal });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
