import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECONFIG, REPO_ROOT } from './cluster.ts';

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

export interface Started {
  /** Resolves once stdout (or stderr) has shown a match. */
  output(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
  pid: number;
  done: Promise<CliResult>;
}

/** Starts runbox without waiting for it, so a test can act once it has shown something. */
export function startRunbox(args: string[], opts: { env: NodeJS.ProcessEnv }): Started {
  const child = spawn(process.execPath, [RUNBOX, ...args], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const seen = { stdout: '', stderr: '' };
  const waiters: { pattern: RegExp; stream: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  const check = () => {
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(seen[w.stream])) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    seen.stdout += c.toString();
    check();
  });
  child.stderr.on('data', (c: Buffer) => {
    seen.stderr += c.toString();
    check();
  });
  child.stdin.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: seen.stdout, stderr: seen.stderr }),
    );
  });
  return {
    pid: child.pid ?? 0,
    done,
    output: (pattern, stream = 'stdout') =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, stream, resolve });
        check();
        void done.then(() => {
          if (!pattern.test(seen[stream])) reject(new Error(`runbox ended without printing ${pattern}: ${JSON.stringify(seen)}`));
        });
      }),
  };
}

export function runbox(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string | Buffer }): Promise<CliResult> {
  return runProgram(process.execPath, [RUNBOX, ...args], opts);
}

export function kubectl(args: string[]): Promise<CliResult> {
  return runProgram(KUBECTL, ['--kubeconfig', KUBECONFIG, ...args], {});
}
