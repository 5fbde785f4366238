// Benchmark: warm `runbox NAME true` against the standalone kubectl's
// `kubectl exec POD -c worker -- true`, interleaved (the side that goes first
// alternates), with the floors beside them: Node's own start-up and one bare
// exec over one websocket from a script that does nothing else.
//   npm run bench            (RUNS=N to change the run count; at least 15)
import { join } from 'node:path';
import { KUBECONFIG, NS, ROOT, TABLE_HEAD, interleave, kubectl, machine, podOf, row, runbox, stats, timed, writeSection, ensureEnv } from './dev-env.ts';

const RUNS = Math.max(15, Number(process.env.RUNS ?? 21));
const ENV = 'bench';
ensureEnv(ENV, '127.0.0.1:5000/runbox-test/debian:bookworm');
const pod = podOf(ENV);
const floorScript = join(ROOT, 'bench/floor-exec.mjs');

const t = { runbox: [] as number[], kubectl: [] as number[], node: [] as number[], bare: [] as number[] };
const sides = [
  () => t.runbox.push(runbox(ENV, 'true').ms),
  () => t.kubectl.push(kubectl('exec', pod, '-c', 'worker', '--', 'true').ms),
  () => t.node.push(timed(process.execPath, ['-e', '0']).ms),
  () => t.bare.push(timed(process.execPath, [floorScript, KUBECONFIG, NS, pod]).ms),
];
interleave(1, sides); // warm-up, not counted
for (const xs of Object.values(t)) xs.length = 0;
interleave(RUNS, sides);
// Every sample ran to exit 0 (timed() throws otherwise), on the one pod: check it is still the same pod.
if (podOf(ENV) !== pod) throw new Error('the pod changed during the benchmark; the samples are not comparable');

const s = { runbox: stats(t.runbox), kubectl: stats(t.kubectl), node: stats(t.node), bare: stats(t.bare) };
const ratio = s.runbox.median / s.kubectl.median;
console.log(`warm exec: runbox ${s.runbox.median.toFixed(0)} ms, kubectl ${s.kubectl.median.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);

writeSection(
  '## Warm exec',
  `## Warm exec: \`runbox NAME true\` vs \`kubectl exec POD -c worker -- true\`

\`npm run bench\` (bench/exec.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine()}.
Wall time of the whole process, ${RUNS} interleaved runs of each after one warm-up (the side
that goes first alternates); every sample exited 0 on the same pod.

${TABLE_HEAD}
${row(`runbox ${ENV} true (remembered pod)`, s.runbox)}
${row(`kubectl exec POD -c worker -- true`, s.kubectl)}
${row('floor: node -e 0 (Node start-up)', s.node)}
${row('floor: one bare exec over one websocket from Node (bench/floor-exec.mjs)', s.bare)}

**Ratio runbox / kubectl: ${ratio.toFixed(2)}** (goal: <= 0.9). The bare floor alone is
${(s.bare.median / s.kubectl.median).toFixed(2)}x kubectl: a Node process that starts, loads \`ws\` and does one exec
costs more than kubectl's whole run (Node's start-up is ${s.node.median.toFixed(0)} ms of it), so a process per
command cannot reach 0.9 here; runbox's own cost above that floor is ${(s.runbox.median - s.bare.median).toFixed(0)} ms.
`,
);
