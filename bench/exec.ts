// Benchmark: warm `runbox NAME true` against `kubectl exec POD -c worker -- true`
// on the dev cluster, interleaved, median of RUNS each; writes bench/RESULTS.md.
//   npm run bench            (brings the dev cluster up first)
import { spawnSync } from 'node:child_process';
import { KUBECONFIG, KUBECTL, NS, RUNBOX, ensureEnv, env, median, writeSection } from './dev-env.ts';

const RUNS = Number(process.env.RUNS ?? 21);
const ENV = 'bench';

function run(file: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

ensureEnv(ENV, '127.0.0.1:5000/runbox-test/debian:bookworm');
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
writeSection('## Warm exec:', section);
