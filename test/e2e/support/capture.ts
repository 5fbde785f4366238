import { PassThrough, Readable } from 'node:stream';
import type { Kube } from './cluster.ts';
import { execInPod } from '../../../src/kube/exec-socket.ts';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in a pod through runbox's own exec client, capturing output. */
export async function execCapture(
  kube: Kube,
  pod: string,
  container: string,
  command: string[],
  input?: string,
): Promise<Captured> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const code = await execInPod({
    target: kube.target,
    pod,
    container,
    command,
    stdin: input === undefined ? null : Readable.from([Buffer.from(input)]),
    stdout,
    stderr,
  });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
