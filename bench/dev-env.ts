// What the benchmarks share: the dev cluster's kubeconfig, the standalone
// kubectl users have, a laptop of their own, an environment in the
// runbox-bench namespace, and honest summaries (median, min, max, run count).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const KUBECONFIG = join(ROOT, '.runbox-dev/kubeconfig');
export const RUNBOX = join(ROOT, 'bin/runbox.js');
export const NS = 'runbox-bench';

/** The standalone kubectl of the server's version (test/cluster/build-kubectl.sh builds it once). */
export const KUBECTL = (() => {
  const r = spawnSync('bash', [join(ROOT, 'test/cluster/build-kubectl.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('cannot build the standalone kubectl');
  return r.stdout.trim();
})();

export const env = {
  ...process.env,
  KUBECONFIG,
  XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'runbox-bench-')),
};

/** Runs a program to completion; throws unless it exits 0. Returns its wall time in ms and its stdout. */
export function timed(file: string, args: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

export const runbox = (...args: string[]) => timed(process.execPath, [RUNBOX, '-n', NS, ...args]);
export const kubectl = (...args: string[]) => timed(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, ...args]);

/** Creates the environment unless it exists already, and makes sure it runs. */
export function ensureEnv(name: string, image: string): void {
  spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, 'create', 'namespace', NS], { stdio: 'ignore' });
  const r = spawnSync(process.execPath, [RUNBOX, '-n', NS, 'create', name, '--image', image], { env, encoding: 'utf8' });
  if (r.status !== 0 && !r.stderr.includes('already exists')) throw new Error(r.stderr);
  runbox(name, 'true');
}

export function podOf(name: string): string {
  const out = kubectl('get', 'pod', '-l', `runbox.dev/env=${name}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{"\\n"}{end}').stdout;
  const live = out.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes(' '));
  if (live.length !== 1) throw new Error(`expected one live pod of ${name}, found: ${out}`);
  return live[0]!;
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2, min: s[0]!, max: s.at(-1)!, runs: s.length };
}

export const row = (what: string, s: Stats) => `| ${what} | ${s.median.toFixed(0)} ms | ${s.min.toFixed(0)} ms | ${s.max.toFixed(0)} ms | ${s.runs} |`;
export const TABLE_HEAD = '| | median | min | max | runs |\n|---|---|---|---|---|';

/** Where and with what the figures were measured, read off the machine rather than written in. */
export function machine(): string {
  const server = (JSON.parse(kubectl('get', '--raw', '/version').stdout) as { gitVersion: string }).gitVersion;
  const client = timed(KUBECTL, ['version', '--client', '-o', 'json']).stdout;
  const kubectlVersion = (JSON.parse(client) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion;
  const cpu = cpus();
  return `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), Kubernetes ${server} dev cluster, runbox on Node ${process.versions.node}, standalone kubectl ${kubectlVersion} (built alone from k8s.io/kubernetes/cmd/kubectl)`;
}

/** Replaces (or appends) the section of bench/RESULTS.md that starts with `heading`. */
export function writeSection(heading: string, section: string): void {
  const file = join(ROOT, 'bench/RESULTS.md');
  let doc = '# Benchmark results\n\n';
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    // first run
  }
  const at = doc.indexOf(heading);
  if (at < 0) doc = `${doc.trimEnd()}\n\n${section}`;
  else {
    const next = doc.indexOf('\n## ', at + heading.length);
    doc = doc.slice(0, at) + section + (next < 0 ? '' : doc.slice(next));
  }
  writeFileSync(file, doc);
}

/** Alternates which side goes first, so neither always runs on a cache the other warmed. */
export function interleave(runs: number, sides: (() => void)[]): void {
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) side();
  }
}

/**
 * The CPU time (ms) a container of a pod has used so far, read from its cgroup on the node: the dev
 * cluster is this machine, and reading from outside adds nothing to what is measured (a `kubectl exec
 * cat` would run in the container). Undefined where the cgroup v1 file is not found.
 */
export function containerCpuMs(pod: string, container: string): (() => number) | undefined {
  const id = kubectl('get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${container}")].containerID}`).stdout.replace(/^[a-z]+:\/\//, '');
  if (!id) return undefined;
  const base = '/sys/fs/cgroup/cpuacct/kubepods';
  const dir = spawnSync('find', [base, '-maxdepth', '3', '-type', 'd', '-name', id], { encoding: 'utf8' }).stdout?.trim().split('\n')[0];
  const file = dir ? join(dir, 'cpuacct.usage') : undefined;
  if (!file || !existsSync(file)) return undefined;
  return () => Number(readFileSync(file, 'utf8')) / 1e6;
}
