import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { RunboxError, httpStatusOf } from '../errors.ts';
import { connectKube, type Kube } from '../kube/client.ts';
import { apiError, statusMessage } from '../kube/api-error.ts';
import { waitFor } from '../kube/watch.ts';
import { sameResources } from './allocation.ts';
import type { EnvDeps } from './deps.ts';
import { assertOwner, whoAmI } from './identity.ts';
import { envPods, readEnv } from './lookup.ts';
import { cacheKey, writeEntry } from './pod-cache.ts';
import { isPodReady } from './status.ts';
import {
  allocationAnnotations,
  podLimits,
  resizeProgress,
  workerResources,
  type Allocation,
} from './resources-state.ts';
import { waitReady } from './wait-ready.ts';

const RESIZE_TIMEOUT_MS = 60_000;

/**
 * Gives the environment's running pod a new allocation: in place through the
 * pod `resize` subresource when the cluster can (the same pod, no restart), by
 * replacing the pod otherwise. The allocation is recorded on the Deployment so
 * later commands and wakes keep it. Returns the pod that now runs.
 */
export async function resizeEnv(
  kube: Kube,
  deps: EnvDeps,
  req: { dep: V1Deployment; pod: V1Pod; to: Allocation; wakeTimeoutMs: number; replace?: boolean },
): Promise<V1Pod> {
  const name = req.dep.metadata?.name ?? '';
  const podName = req.pod.metadata?.name ?? '';
  const from = podLimits(req.pod);
  if (sameResources(from, req.to.resources)) {
    await recordAllocation(kube, name, req.to);
    return req.pod;
  }
  deps.progress.step(`resizing ${name} to ${describe(req.to)}`);
  if (req.replace) {
    deps.notice(`replacing the pod of ${name} with one of ${describe(req.to)}`);
    return replacePod(kube, deps, { name, oldPod: podName, to: req.to, timeoutMs: req.wakeTimeoutMs });
  }
  const inPlace = await patchPodResize(kube, podName, req.to);
  if (inPlace.ok) {
    const applied = await waitForResize(kube, podName, req.to);
    if (applied.kind === 'refused') {
      // Put the pod spec back to what the kubelet still runs, so nothing stays pending.
      if (from?.cpu && from.memory) await patchPodResize(kube, podName, { units: 0, resources: { cpu: from.cpu, memory: from.memory } });
      throw new RunboxError(
        `cannot resize ${name} to ${describe(req.to)}: the node ${applied.reason === 'Infeasible' ? 'cannot fit it' : 'has no room now'} (${await nodeFigures(kube, req.pod)})`,
        { hint: `${name} keeps its size ${from?.cpu ?? '?'} CPU, ${from?.memory ?? '?'} memory; ask for less` },
      );
    }
    await recordAllocation(kube, name, req.to);
    return applied.pod;
  }
  deps.notice(`resizing ${name} in place is not possible here (${inPlace.reason}); replacing its pod with one of ${describe(req.to)}`);
  return replacePod(kube, deps, { name, oldPod: podName, to: req.to, timeoutMs: req.wakeTimeoutMs });
}

export function describe(a: Allocation): string {
  return `${a.units} unit${a.units === 1 ? '' : 's'} (${a.resources.cpu} CPU, ${a.resources.memory})`;
}

async function patchPodResize(kube: Kube, pod: string, to: Allocation): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await kube.core.patchNamespacedPodResize(
      { name: pod, namespace: kube.target.namespace, body: { spec: { containers: [workerResources(to.resources)] } } },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.StrategicMergePatch),
    );
    return { ok: true };
  } catch (err) {
    const reason = inPlaceImpossible(httpStatusOf(err), statusMessage(err));
    if (reason) return { ok: false, reason };
    throw apiError(err, `resizing pod ${pod}`, kube.target.server);
  }
}

/**
 * Why the API refused an in-place resize in a way that replacing the pod gets
 * around, or undefined for any other failure (RBAC, a deleted pod...).
 */
export function inPlaceImpossible(status: number | undefined, message: string | undefined): string | undefined {
  // 404 with the pod there: no resize subresource (Kubernetes < 1.33).
  if (status === 404 && !/pods? "[^"]*" not found/.test(message ?? '')) {
    return 'the cluster has no pod resize subresource (Kubernetes < 1.33)';
  }
  // 422: a change the API refuses in place, e.g. lowering memory where the cluster forbids it.
  if (status === 422) return message?.replace(/^Pod "[^"]*" is invalid: /, '') ?? 'refused';
  return undefined;
}

async function waitForResize(kube: Kube, pod: string, to: Allocation) {
  return waitFor<V1Pod, { kind: 'applied'; pod: V1Pod } | { kind: 'refused'; reason: string; message: string }>(kube, {
    path: `/api/v1/namespaces/${kube.target.namespace}/pods`,
    query: { fieldSelector: `metadata.name=${pod}` },
    timeoutMs: RESIZE_TIMEOUT_MS,
    onTimeout: () => new RunboxError(`the kubelet did not apply the resize of ${pod} within ${RESIZE_TIMEOUT_MS / 1000} s`),
    decide: (phase, p) => {
      if (phase === 'DELETED') return { fail: new RunboxError(`pod ${pod} went away while being resized`) };
      const progress = resizeProgress(p, to.resources);
      if (progress.kind === 'applied') return { done: { kind: 'applied', pod: p } };
      if (progress.kind === 'refused') return { done: progress };
      return undefined;
    },
  });
}

async function nodeFigures(kube: Kube, pod: V1Pod): Promise<string> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) return 'node unknown';
  try {
    const node = await kube.core.readNode({ name: nodeName });
    const a = node.status?.allocatable ?? {};
    return `node ${nodeName} allocatable: ${a.cpu ?? '?'} CPU, ${a.memory ?? '?'} memory`;
  } catch {
    return `node ${nodeName}; its allocatable figures are not readable with your permissions`;
  }
}

async function recordAllocation(kube: Kube, name: string, to: Allocation): Promise<void> {
  try {
    await kube.apps.patchNamespacedDeployment(
      { name, namespace: kube.target.namespace, body: { metadata: { annotations: allocationAnnotations(to) } } },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.MergePatch),
    );
  } catch (err) {
    throw apiError(err, `recording the allocation of ${name}`, kube.target.server);
  }
}

/** The restart path: a new pod template (Recreate), then wait for the new pod. */
export async function replacePod(
  kube: Kube,
  deps: EnvDeps,
  req: { name: string; oldPod: string; to: Allocation; timeoutMs: number },
): Promise<V1Pod> {
  try {
    await kube.apps.patchNamespacedDeployment(
      {
        name: req.name,
        namespace: kube.target.namespace,
        body: {
          metadata: { annotations: allocationAnnotations(req.to) },
          spec: {
            template: {
              // As kubectl rollout restart: a new pod even when the template's resources
              // already match (the running pod may have been resized in place).
              metadata: { annotations: { 'runbox.dev/replaced-at': deps.now().toISOString() } },
              spec: { containers: [workerResources(req.to.resources)] },
            },
          },
        },
      },
      kube.lib.setHeaderOptions('Content-Type', kube.lib.PatchStrategy.StrategicMergePatch),
    );
  } catch (err) {
    throw apiError(err, `resizing ${req.name}`, kube.target.server);
  }
  return waitReady(kube, req.name, {
    timeoutMs: req.timeoutMs,
    progress: deps.progress,
    signal: deps.signal,
    exclude: req.oldPod,
  });
}

/** `runbox resize NAME N`: resizes a running environment, or records the size for its next wake. */
export async function resizeNamed(
  deps: EnvDeps,
  req: { name: string; to: Allocation; anyOwner: boolean; timeoutMs: number; replace: boolean },
): Promise<'resized' | 'recorded'> {
  const kube = await connectKube(deps.sel, deps.env);
  const [dep, me] = await Promise.all([readEnv(kube.target, req.name), whoAmI(kube.target)]);
  assertOwner(dep, me, req.anyOwner);
  const pod = (dep.spec?.replicas ?? 1) === 0 ? undefined : (await envPods(kube.target, req.name)).find(isPodReady);
  const key = cacheKey(kube.target.server, kube.target.namespace, req.name);
  if (!pod) {
    await recordAllocation(kube, req.name, req.to);
    writeEntry(deps.cacheDir, key, { units: req.to.units });
    deps.progress.done(`${req.name} will wake with ${describe(req.to)}`);
    return 'recorded';
  }
  const now = await resizeEnv(kube, deps, { dep, pod, to: req.to, wakeTimeoutMs: req.timeoutMs, replace: req.replace });
  writeEntry(deps.cacheDir, key, { pod: now.metadata?.name, units: req.to.units });
  deps.progress.done(`${req.name} now has ${describe(req.to)}`);
  return 'resized';
}
