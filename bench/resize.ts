// Benchmark: in-place resize (request -> new limit visible in the worker's
// cgroup) against the restart path (pod template patched -> new pod ready and
// its cgroup at the new limit), on the dev cluster; median of RUNS each,
// alternating 2 and 3 units; writes its section of bench/RESULTS.md.
//   npm run bench
import { PassThrough } from 'node:stream';
import { silentProgress, type EnvDeps } from '../src/env/deps.ts';
import { envPods, readEnv } from '../src/env/inspect/lookup.ts';
import { isPodReady } from '../src/env/inspect/status.ts';
import { memoryBytes, resourcesFor } from '../src/env/resize/allocation.ts';
import { resizeEnv } from '../src/env/resize/resize.ts';
import { connectKube } from '../src/kube/client.ts';
import { execInPod } from '../src/kube/exec-socket.ts';
import { KUBECONFIG, NS, ensureEnv, env, median, writeSection } from './dev-env.ts';

const RUNS = Number(process.env.RUNS ?? 10);
const ENV = 'resize';
ensureEnv(ENV, '127.0.0.1:5000/runbox-test/busybox:1.35');

const kube = await connectKube({ kubeconfig: KUBECONFIG, namespace: NS }, env);
const deps: EnvDeps = {
  kube,
  clock: { now: () => new Date() },
  progress: silentProgress,
  notice: () => {},
  debug: () => {},
};

async function cgroupLimit(pod: string): Promise<number> {
  const out: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  await execInPod({ target: kube, pod, container: 'worker', command: ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'], stdin: null, stdout, stderr: new PassThrough() });
  return Number(Buffer.concat(out).toString());
}

async function once(units: number, replace: boolean): Promise<number> {
  const dep = await readEnv(kube, ENV);
  const pod = (await envPods(kube, ENV)).find(isPodReady)!;
  const to = { units, resources: resourcesFor(units) };
  const want = memoryBytes(to.resources.memory);
  const t0 = performance.now();
  const now = await resizeEnv(deps, { dep, pod, to, wakeTimeoutMs: 120_000, replace });
  // The kubelet has reported the resize applied: the cgroup must agree by now.
  const seen = await cgroupLimit(now.metadata!.name!);
  if (seen !== want) throw new Error(`cgroup shows ${seen}, expected ${want}`);
  return performance.now() - t0;
}

const times = { inPlace: [] as number[], restart: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  times.inPlace.push(await once(i % 2 ? 2 : 3, false));
  times.restart.push(await once(i % 2 ? 3 : 2, true));
}
const a = median(times.inPlace);
const b = median(times.restart);
const ratio = a / b;
console.log(`in place ${a.toFixed(0)} ms, restart ${b.toFixed(0)} ms, ratio ${ratio.toFixed(2)}`);

const section = `## Resize: in place vs replacing the pod

Measured by \`npm run bench\` (bench/resize.ts) on ${new Date().toISOString().slice(0, 10)}: dev cluster (Kubernetes v1.34.4,
containerd 1.6, cgroup v1), busybox worker, ${RUNS} runs each alternating 2 and 3 units; from the
request until the worker's \`memory.limit_in_bytes\` shows the new limit (restart: pod template
patched, Recreate rollout, new pod ready, then the same check).

| path | median | min | max |
|---|---|---|---|
| in place (pod \`resize\` subresource) | ${a.toFixed(0)} ms | ${Math.min(...times.inPlace).toFixed(0)} ms | ${Math.max(...times.inPlace).toFixed(0)} ms |
| restart (new pod) | ${b.toFixed(0)} ms | ${Math.min(...times.restart).toFixed(0)} ms | ${Math.max(...times.restart).toFixed(0)} ms |

**Ratio in place / restart: ${ratio.toFixed(2)}** (goal: <= 0.2)
`;
writeSection('## Resize:', section);
process.exit(0);
