// Benchmark: waking an environment from zero to `true` done. runbox NAME true
// on a sleeping environment against what a kubectl user types: scale to one,
// rollout status, exec. Before every sample the environment is asleep (replicas
// 0, no pod left); after it, one pod runs.
//   npm run bench            (WAKE_RUNS=N, at least 5)
import { TABLE_HEAD, ensureEnv, kubectl, machine, podOf, row, runbox, stats, writeSection } from './dev-env.ts';

const RUNS = Math.max(5, Number(process.env.WAKE_RUNS ?? 5));
const ENV = 'wake';
ensureEnv(ENV, '127.0.0.1:5000/runbox-test/debian:bookworm');

function asleep(): void {
  runbox('stop', ENV);
  const replicas = kubectl('get', 'deployment', ENV, '-o', 'jsonpath={.spec.replicas}').stdout;
  const pods = kubectl('get', 'pod', '-l', `runbox.dev/env=${ENV}`, '-o', 'name').stdout.trim();
  if (replicas !== '0' || pods !== '') throw new Error(`${ENV} is not asleep: replicas ${replicas}, pods ${pods}`);
}

const t = { runbox: [] as number[], kubectl: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const legs = [
    () => {
      asleep();
      t.runbox.push(runbox(ENV, 'true').ms);
      podOf(ENV);
    },
    () => {
      asleep();
      t.kubectl.push(
        kubectl('scale', 'deployment', ENV, '--replicas', '1').ms +
          kubectl('rollout', 'status', `deployment/${ENV}`, '--timeout', '120s').ms +
          kubectl('exec', `deployment/${ENV}`, '-c', 'worker', '--', 'true').ms,
      );
      podOf(ENV);
    },
  ];
  for (const leg of i % 2 === 0 ? legs : legs.reverse()) leg();
}
const s = { runbox: stats(t.runbox), kubectl: stats(t.kubectl) };
const ratio = s.runbox.median / s.kubectl.median;
console.log(`wake: runbox ${s.runbox.median.toFixed(0)} ms, kubectl ${s.kubectl.median.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);

writeSection(
  '## Wake',
  `## Wake from zero: \`runbox NAME true\` on a sleeping environment vs \`kubectl scale\` + \`rollout status\` + \`exec\`

\`npm run bench\` (bench/wake.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine()}.
Debian worker; before every sample the environment was asleep (replicas 0, no pod left,
checked), after it one pod ran; the side that goes first alternates. kubectl's time is
the sum of its three commands' wall times.

${TABLE_HEAD}
${row('runbox NAME true (wake, run, exit)', s.runbox)}
${row('kubectl scale --replicas 1 + rollout status + exec deployment/NAME -- true', s.kubectl)}

**Ratio runbox / kubectl: ${ratio.toFixed(2)}** (goal: <= 0.5)
`,
);
