// Benchmark: warm `runbox NAME true` against `kubectl exec POD -c worker -- true`
// on the dev cluster, interleaved, median of RUNS each; writes bench/RESULTS.md.
//   npm run bench            (brings the dev cluster up first)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KUBECONFIG = join(ROOT, '.runbox-dev/kubeconfig');
const KUBECTL = join(process.env.HOME ?? '/root', '.cache/runbox-dev/bin/v1.34.4/kubectl');
const RUNBOX = join(ROOT, 'bin/runbox.js');
const RUNS = Number(process.env.RUNS ?? 21);
const NS = 'runbox-bench';
const ENV = 'bench';

const env = {
  ...process.env,
  KUBECONFIG,
  XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'runbox-bench-')),
  RUNBOX_SIDECAR_IMAGE: readFileSync(join(ROOT, '.runbox-dev/sidecar-image'), 'utf8').trim(),
};

function run(file: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, 'create', 'namespace', NS], { stdio: 'ignore' });
const created = spawnSync(process.execPath, [RUNBOX, '-n', NS, 'create', ENV, '--image', '127.0.0.1:5000/runbox-test/debian:bookworm'], { env, encoding: 'utf8' });
if (created.status !== 0 && !created.stderr.includes('already exists')) throw new Error(created.stderr);
const pod = spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'get', 'pod', '-l', `runbox.dev/env=${ENV}`, '-o', 'jsonpath={.items[0].metadata.name}'], { encoding: 'utf8' }).stdout;

// Warm both: the pod is remembered, caches are hot.
run(process.execPath, [RUNBOX, '-n', NS, ENV, 'true']);
run(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'exec', pod, '-c', 'worker', '--', 'true']);
const times = { runbox: [] as number[], kubectl: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  times.runbox.push(run(process.execPath, [RUNBOX, '-n', NS, ENV, 'true']));
  times.kubectl.push(run(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'exec', pod, '-c', 'worker', '--', 'true']));
}
const r = median(times.runbox);
const k = median(times.kubectl);
const ratio = r / k;
console.log(`runbox ${r.toFixed(1)} ms, kubectl exec ${k.toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);

const section = `## Warm exec: \`runbox NAME true\` vs \`kubectl exec POD -c worker -- true\`

Measured by \`npm run bench\` (bench/exec.ts) on ${new Date().toISOString().slice(0, 10)}: dev cluster (Kubernetes v1.34.4,
one node, 2 cores), ${RUNS} interleaved runs each after one warm-up, wall time of the whole process.
runbox on Node ${process.versions.node}; kubectl v1.34.4 built with the cluster.

| | median | min | max |
|---|---|---|---|
| runbox ${ENV} true | ${r.toFixed(1)} ms | ${Math.min(...times.runbox).toFixed(1)} ms | ${Math.max(...times.runbox).toFixed(1)} ms |
| kubectl exec | ${k.toFixed(1)} ms | ${Math.min(...times.kubectl).toFixed(1)} ms | ${Math.max(...times.kubectl).toFixed(1)} ms |

**Ratio runbox / kubectl: ${ratio.toFixed(2)}** (goal: <= 1.0)
`;
const file = join(ROOT, 'bench/RESULTS.md');
let doc = '# Benchmark results\n\n';
try {
  doc = readFileSync(file, 'utf8');
} catch {
  // first run
}
const marker = /## Warm exec:[\s\S]*?(?=\n## |$)/;
doc = marker.test(doc) ? doc.replace(marker, section) : `${doc.trimEnd()}\n\n${section}`;
writeFileSync(file, doc);
