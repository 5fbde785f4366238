// Benchmark: `runbox resize NAME N` against resizing by replacing the pod the
// way a kubectl user would (new resources and a restart in one patch, then
// rollout status), with the floor:
// the resize PATCH until the cgroup, read inside the pod, shows the new limit.
// Every sample changes the worker's memory limit (the sizes alternate, and
// the limit before and after each sample is read inside the pod and checked).
//   npm run bench            (RUNS=N, at least 15)
import { PassThrough } from 'node:stream';
import { WORKER } from '../src/contract/names.ts';
import { resourcesFor, memoryBytes } from '../src/env/resize/allocation.ts';
import { workerResources } from '../src/env/resize/resources-state.ts';
import { connectKube } from '../src/kube/client.ts';
import { execInPod } from '../src/kube/exec-socket.ts';
import { objectPath } from '../src/kube/paths.ts';
import { PATCH, callJson } from '../src/kube/rest.ts';
import { KUBECONFIG, NS, TABLE_HEAD, ensureEnv, env, kubectl, machine, podOf, row, runbox, stats, writeSection } from './dev-env.ts';

const RUNS = Math.max(15, Number(process.env.RUNS ?? 15));
const ENV = 'rsz';
const LIMIT = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
ensureEnv(ENV, '127.0.0.1:5000/runbox-test/busybox:1.35');
const target = await connectKube({ kubeconfig: KUBECONFIG, namespace: NS }, env);

const limitNow = () => Number(kubectl('exec', podOf(ENV), '-c', WORKER, '--', 'cat', LIMIT).stdout);
const bytes = (units: number) => memoryBytes(resourcesFor(units).memory);

/** Runs one timed resize to `units` and checks that it changed the cgroup limit. */
function sample(units: number, resize: () => number): number {
  const before = limitNow();
  if (before === bytes(units)) throw new Error(`the worker already has ${units} units: this sample would time nothing`);
  const ms = resize();
  const after = limitNow();
  if (after !== bytes(units)) throw new Error(`after the resize the cgroup shows ${after}, not ${bytes(units)}`);
  return ms;
}

/** The floor: one PATCH of the resize subresource, then one exec that waits in the pod until the cgroup shows the limit. */
async function floor(units: number): Promise<number> {
  const pod = podOf(ENV);
  const want = bytes(units);
  const t0 = performance.now();
  await callJson(target, {
    method: 'PATCH',
    path: objectPath('pods', NS, pod, 'resize'),
    body: { spec: { containers: [workerResources(resourcesFor(units))] } },
    contentType: PATCH.strategic,
  });
  const wait = `while [ "$(cat ${LIMIT})" != ${want} ]; do sleep 0.01; done`;
  await execInPod({ target, pod, container: WORKER, command: ['sh', '-c', wait], stdin: null, stdout: new PassThrough(), stderr: new PassThrough() });
  return performance.now() - t0;
}

const t = { runbox: [] as number[], kubectl: [] as number[], floor: [] as number[] };
let units = limitNow() === bytes(1) ? 2 : 1;
const flip = () => (units = units === 1 ? 2 : 1);
for (let i = 0; i < RUNS; i++) {
  const legs: (() => Promise<void>)[] = [
    async () => {
      t.runbox.push(sample(units, () => runbox('resize', ENV, String(units)).ms));
      flip();
    },
    async () => {
      // New resources and a restart stamp in one patch (set resources + rollout restart
      // in one rollout): the template may already hold these resources, since runbox
      // resizes pods in place, and a no-op patch would replace nothing.
      const patch = JSON.stringify({
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
            spec: { containers: [workerResources(resourcesFor(units))] },
          },
        },
      });
      t.kubectl.push(
        sample(units, () =>
          kubectl('patch', 'deployment', ENV, '--type', 'strategic', '-p', patch).ms +
          kubectl('rollout', 'status', `deployment/${ENV}`, '--timeout', '120s').ms,
        ),
      );
      flip();
    },
    async () => {
      const before = limitNow();
      if (before === bytes(units)) throw new Error('the floor sample would time nothing');
      t.floor.push(await floor(units));
      if (limitNow() !== bytes(units)) throw new Error('the floor sample did not change the limit');
      flip();
    },
  ];
  for (const leg of i % 2 === 0 ? legs : legs.reverse()) await leg();
}
const s = { runbox: stats(t.runbox), kubectl: stats(t.kubectl), floor: stats(t.floor) };
const ratio = s.runbox.median / s.kubectl.median;
console.log(`resize: runbox ${s.runbox.median.toFixed(0)} ms, replacing the pod ${s.kubectl.median.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);

writeSection(
  '## Resize',
  `## Resize: \`runbox resize NAME N\` vs replacing the pod (\`kubectl patch\` of resources and a restart stamp + \`rollout status\`)

\`npm run bench\` (bench/resize.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine()}.
busybox worker, cgroup v1, sizes alternating between 1 and 2 units (128 and 256 MiB). Every
sample changed the worker's \`memory.limit_in_bytes\`: it was read inside the pod before
(must differ) and after (must be the new limit) each sample; the order of the sides alternates.

${TABLE_HEAD}
${row('runbox resize NAME N (in place)', s.runbox)}
${row('kubectl patch (resources + restartedAt) + rollout status (new pod)', s.kubectl)}
${row('floor: resize PATCH until the cgroup shows the limit, read in the pod', s.floor)}

**Ratio runbox / replacing the pod: ${ratio.toFixed(2)}** (goal: <= 0.1)
`,
);
process.exit(0);
