// What the benchmarks share: the dev cluster's kubeconfig, a laptop of their
// own, and an environment in the runbox-bench namespace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const KUBECONFIG = join(ROOT, '.runbox-dev/kubeconfig');
export const KUBECTL = join(process.env.HOME ?? '/root', '.cache/runbox-dev/bin/v1.34.4/kubectl');
export const RUNBOX = join(ROOT, 'bin/runbox.js');
export const NS = 'runbox-bench';

export const env = {
  ...process.env,
  KUBECONFIG,
  XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'runbox-bench-')),
  RUNBOX_SIDECAR_IMAGE: readFileSync(join(ROOT, '.runbox-dev/sidecar-image'), 'utf8').trim(),
};

/** Creates the environment unless it exists already. */
export function ensureEnv(name: string, image: string): void {
  spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, 'create', 'namespace', NS], { stdio: 'ignore' });
  const r = spawnSync(process.execPath, [RUNBOX, '-n', NS, 'create', name, '--image', image], { env, encoding: 'utf8' });
  if (r.status !== 0 && !r.stderr.includes('already exists')) throw new Error(r.stderr);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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
