import { ANNOTATION, WORKER } from '../../contract/names.ts';
import { RunboxError, httpStatusOf } from '../../errors.ts';
import { apiError, statusMessage } from '../../kube/api-error.ts';
import { NODES_PATH, collectionPath, nodePath, objectPath } from '../../kube/paths.ts';
import { PATCH, callJson, requestJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Deployment, List, Node, Pod } from '../../kube/types.ts';
import { waitFor } from '../../kube/watch.ts';
import { execOutput } from '../../kube/exec-output.ts';
import type { EnvDeps } from '../deps.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { envPods } from '../inspect/lookup.ts';
import { containerServes } from '../inspect/status.ts';
import { waitReady } from '../lifecycle/wait-ready.ts';
import { cpuMillis, memoryBytes, sameResources } from './allocation.ts';
import { waitForCgroup } from './cgroup-wait.ts';
import { allocationAnnotations, podLimits, resizeProgress, workerResources, type Allocation } from './resources-state.ts';

const RESIZE_TIMEOUT_MS = 60_000;

/**
 * Gives the environment's running pod a new allocation: in place through the
 * pod `resize` subresource when the cluster can (the same pod, no restart), by
 * replacing the pod otherwise. The allocation is recorded on the Deployment so
 * later commands and wakes keep it. Returns the pod that now runs.
 */
export async function resizeEnv(
  deps: EnvDeps,
  req: { dep: Deployment; pod: Pod; to: Allocation; wakeTimeoutMs: number; replace?: boolean },
): Promise<Pod> {
  const { kube } = deps;
  const name = req.dep.metadata?.name ?? '';
  const podName = req.pod.metadata?.name ?? '';
  const from = podLimits(req.pod);
  if (sameResources(from, req.to.resources)) {
    await recordAllocation(kube, name, req.to, deps.clock.now());
    return req.pod;
  }
  deps.progress.step(`resizing ${name} to ${describe(req.to)}`);
  if (req.replace) {
    deps.notice(`replacing the pod of ${name} with one of ${describe(req.to)}`);
    return replacePod(deps, { name, oldPod: podName, to: req.to, timeoutMs: req.wakeTimeoutMs });
  }
  // The witnesses start with the PATCH, not after it: opening the exec that
  // watches the cgroup overlaps the kubelet's own latency.
  const waiting = waitForResize(deps, req.pod, req.to);
  const inPlace = await patchPodResize(kube, podName, req.to).catch((err: unknown) => {
    waiting.cancel();
    throw err;
  });
  if (!inPlace.ok) waiting.cancel();
  if (inPlace.ok) {
    const applied = await waiting.result;
    if (applied.kind === 'refused') {
      // Put the pod spec back to what the kubelet still runs, so nothing stays pending.
      if (from?.cpu && from.memory) await patchPodResize(kube, podName, { units: 0, resources: { cpu: from.cpu, memory: from.memory } });
      throw new RunboxError(
        `cannot resize ${name} to ${describe(req.to)}: the node ${applied.reason === 'Infeasible' ? 'cannot fit it' : 'has no room now'} (${await nodeFigures(kube, req.pod)})`,
        { hint: `${name} keeps its size ${from?.cpu ?? '?'} CPU, ${from?.memory ?? '?'} memory; ask for less` },
      );
    }
    await recordAllocation(kube, name, req.to, deps.clock.now());
    return applied.pod;
  }
  deps.notice(`resizing ${name} in place is not possible here (${inPlace.reason}); replacing its pod with one of ${describe(req.to)}`);
  return replacePod(deps, { name, oldPod: podName, to: req.to, timeoutMs: req.wakeTimeoutMs });
}

export function describe(a: Allocation): string {
  return `${a.units} unit${a.units === 1 ? '' : 's'} (${a.resources.cpu} CPU, ${a.resources.memory})`;
}

async function patchPodResize(kube: KubeTarget, pod: string, to: Allocation): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await callJson(kube, {
      method: 'PATCH',
      path: objectPath('pods', kube.namespace, pod, 'resize'),
      body: { spec: { containers: [workerResources(to.resources)] } },
      contentType: PATCH.strategic,
    });
    return { ok: true };
  } catch (err) {
    const reason = inPlaceImpossible(httpStatusOf(err), statusMessage(err));
    if (reason) return { ok: false, reason };
    throw apiError(err, `resizing pod ${pod}`, kube.server);
  }
}

/**
 * Why the API refused an in-place resize in a way that replacing the pod gets
 * around, or undefined for any other failure (RBAC, a deleted pod...).
 */
export function inPlaceImpossible(status: number | undefined, message: string | undefined): string | undefined {
  // 404 with the pod there: no resize subresource (Kubernetes < 1.33).
  if (status === 404 && !/pods? "[^"]*" not found/.test(message ?? '')) {
    return 'the cluster has no pod resize subresource: Kubernetes < 1.33, or the InPlacePodVerticalScaling feature gate is off';
  }
  // 422: a change the API refuses in place, e.g. lowering memory where the cluster forbids it.
  if (status === 422) return message?.replace(/^Pod "[^"]*" is invalid: /, '') ?? 'refused';
  return undefined;
}

type ResizeOutcome = { kind: 'applied'; pod: Pod } | { kind: 'refused'; reason: string; message: string };

/**
 * Waits for an in-place resize: done as soon as the worker's cgroup shows the
 * new limits (read inside the pod, the quickest witness), or when the kubelet
 * reports it applied; refused when the kubelet says Infeasible or Deferred.
 */
function waitForResize(deps: EnvDeps, pod: Pod, to: Allocation): { result: Promise<ResizeOutcome>; cancel: () => void } {
  const name = pod.metadata?.name ?? '';
  const done = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, done.signal]) : done.signal;
  const watched = waitFor<Pod, ResizeOutcome>(deps.kube, {
    path: collectionPath('pods', deps.kube.namespace),
    query: { fieldSelector: `metadata.name=${name}` },
    timeoutMs: RESIZE_TIMEOUT_MS,
    signal,
    onTimeout: () => new RunboxError(`the kubelet did not apply the resize of ${name} within ${RESIZE_TIMEOUT_MS / 1000} s`),
    decide: (phase, p) => {
      if (phase === 'DELETED') return { fail: new RunboxError(`pod ${name} went away while being resized`) };
      const progress = resizeProgress(p, to.resources);
      if (progress.kind === 'applied') return { done: { kind: 'applied', pod: p } };
      if (progress.kind === 'refused') return { done: progress };
      return undefined;
    },
    decideList: (items) => (items.length === 0 ? { fail: new RunboxError(`pod ${name} went away while being resized`) } : undefined),
  });
  const inCgroup = execOutput(deps.kube, { pod: name, container: WORKER }, waitForCgroup(to.resources), signal).then(
    (r): ResizeOutcome | Promise<never> => (r.code === 0 ? { kind: 'applied', pod } : new Promise<never>(() => {})),
    () => new Promise<never>(() => {}), // cannot tell from inside: the watch decides
  );
  watched.catch(() => {});
  const result = Promise.race([watched, inCgroup]).finally(() => done.abort());
  return {
    result,
    cancel: () => {
      result.catch(() => {}); // nobody waits for it any more
      done.abort();
    },
  };
}

/**
 * Refuses a size no node of the cluster could ever hold, before it is
 * recorded for a wake. Needs to list nodes; where the user may not, the wake
 * itself says so at once (see NoCapacityError).
 */
async function assertSomeNodeFits(deps: EnvDeps, name: string, to: Allocation): Promise<void> {
  const res = await requestJson(deps.kube, { method: 'GET', path: NODES_PATH }).catch(() => undefined);
  if (!res || res.status !== 200) {
    deps.debug(`cannot list nodes to check capacity (HTTP ${res?.status ?? 'error'})`);
    return;
  }
  const nodes = ((res.body as List<Node>).items ?? []).filter((n) => !n.spec?.unschedulable);
  const fits = (n: Node) =>
    cpuMillis(n.status?.allocatable?.cpu ?? '0') >= cpuMillis(to.resources.cpu) &&
    memoryBytes(n.status?.allocatable?.memory ?? '0') >= memoryBytes(to.resources.memory);
  if (nodes.length === 0 || nodes.some(fits)) return;
  const largest = nodes
    .map((n) => `${n.metadata?.name}: ${n.status?.allocatable?.cpu ?? '?'} CPU, ${n.status?.allocatable?.memory ?? '?'} memory`)
    .join('; ');
  throw new RunboxError(`cannot give ${name} ${describe(to)}: no node of the cluster has that much (allocatable ${largest})`, {
    hint: `${name} keeps its size; ask for less`,
  });
}

async function nodeFigures(kube: KubeTarget, pod: Pod): Promise<string> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) return 'node unknown';
  try {
    const node = await callJson<Node>(kube, { method: 'GET', path: nodePath(nodeName) });
    const a = node.status?.allocatable ?? {};
    return `node ${nodeName} allocatable: ${a.cpu ?? '?'} CPU, ${a.memory ?? '?'} memory`;
  } catch {
    return `node ${nodeName}; its allocatable figures are not readable with your permissions`;
  }
}

async function recordAllocation(kube: KubeTarget, name: string, to: Allocation, now: Date): Promise<void> {
  try {
    await callJson(kube, {
      method: 'PATCH',
      path: objectPath('deployments', kube.namespace, name),
      // A resize ends a doze: the worker has its allocation again. It is activity too: the
      // command it was made for starts only after this, and a controller that saw the doze
      // ended with an old last activity would doze it again before that command began.
      body: { metadata: { annotations: { ...allocationAnnotations(to), [ANNOTATION.idle]: null, [ANNOTATION.lastActivity]: now.toISOString() } } },
      contentType: PATCH.merge,
    });
  } catch (err) {
    throw apiError(err, `recording the allocation of ${name}`, kube.server);
  }
}

/** The restart path: a new pod template (Recreate), then wait for the new pod. */
export async function replacePod(
  deps: EnvDeps,
  req: { name: string; oldPod: string; to: Allocation; timeoutMs: number },
): Promise<Pod> {
  const { kube } = deps;
  try {
    await callJson(kube, {
      method: 'PATCH',
      path: objectPath('deployments', kube.namespace, req.name),
      contentType: PATCH.strategic,
      body: {
        metadata: { annotations: allocationAnnotations(req.to) },
        spec: {
          template: {
            // As kubectl rollout restart: a new pod even when the template's resources
            // already match (the running pod may have been resized in place).
            metadata: { annotations: { [ANNOTATION.replacedAt]: deps.clock.now().toISOString() } },
            spec: { containers: [workerResources(req.to.resources)] },
          },
        },
      },
    });
  } catch (err) {
    throw apiError(err, `resizing ${req.name}`, kube.server);
  }
  return waitReady(kube, req.name, {
    timeoutMs: req.timeoutMs,
    progress: deps.progress,
    signal: deps.signal,
    exclude: req.oldPod,
    until: { container: WORKER },
  });
}

/**
 * `runbox resize NAME N`: resizes a running environment, records the size for
 * the next wake of a sleeping one, and replaces a pod that does not run yet
 * (Pending: perhaps too big to schedule) with one of the new size.
 */
export async function resizeNamed(
  deps: EnvDeps,
  req: { name: string; to: Allocation; anyOwner: boolean; timeoutMs: number; replace: boolean },
): Promise<{ outcome: 'resized'; pod: Pod } | { outcome: 'recorded' }> {
  const [dep, listed] = await Promise.all([readOwnEnv(deps.kube, req.name, req.anyOwner), envPods(deps.kube, req.name)]);
  const pods = (dep.spec?.replicas ?? 1) === 0 ? [] : listed;
  const running = pods.find((p) => containerServes(p, WORKER));
  if (!running) {
    await assertSomeNodeFits(deps, req.name, req.to);
    const waiting = pods.find((p) => !p.metadata?.deletionTimestamp);
    if (waiting) {
      deps.notice(`${req.name} has no running pod (${waiting.metadata?.name} is ${waiting.status?.phase ?? 'starting'}); replacing it with one of ${describe(req.to)}`);
      const pod = await replacePod(deps, { name: req.name, oldPod: waiting.metadata?.name ?? '', to: req.to, timeoutMs: req.timeoutMs });
      deps.progress.done(`${req.name} now has ${describe(req.to)}`);
      return { outcome: 'resized', pod };
    }
    await recordAllocation(deps.kube, req.name, req.to, deps.clock.now());
    deps.progress.done(`${req.name} will wake with ${describe(req.to)}`);
    return { outcome: 'recorded' };
  }
  const pod = await resizeEnv(deps, { dep, pod: running, to: req.to, wakeTimeoutMs: req.timeoutMs, replace: req.replace });
  deps.progress.done(`${req.name} now has ${describe(req.to)}`);
  return { outcome: 'resized', pod };
}
