import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECONFIG, REPO_ROOT, sidecarImage } from './cluster.ts';

export const RUNBOX = join(REPO_ROOT, 'bin', 'runbox.js');
export const KUBECTL = join(process.env.HOME ?? '/root', '.cache/runbox-dev/bin/v1.34.4/kubectl');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One laptop: its own runbox cache, pointed at the dev cluster. */
export function laptopEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG,
    RUNBOX_SIDECAR_IMAGE: sidecarImage(),
    XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'runbox-laptop-')),
    NO_COLOR: '1',
    ...extra,
  };
}

/** Runs a program to completion, feeding `input` (string or Buffer) on stdin. */
export function runProgram(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.stdin.on('error', () => {}); // the command may exit before reading all input
    child.stdin.end(opts.input ?? '');
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128 + (signal ? 15 : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
  });
}

export function runbox(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string | Buffer }): Promise<CliResult> {
  return runProgram(process.execPath, [RUNBOX, ...args], opts);
}

export function kubectl(args: string[]): Promise<CliResult> {
  return runProgram(KUBECTL, ['--kubeconfig', KUBECONFIG, ...args], {});
}
