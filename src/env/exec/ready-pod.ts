import { ExecFailedError, ExecUpgradeError } from '../../kube/exec-socket.ts';
import { objectPath } from '../../kube/paths.ts';
import { requestJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Pod } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { envPods } from '../inspect/lookup.ts';
import { containerServes } from '../inspect/status.ts';
import type { SidecarSource } from '../lifecycle/sidecar.ts';
import { wakeEnv } from '../lifecycle/wake.ts';
import { waitReady } from '../lifecycle/wait-ready.ts';
import { resizeEnv } from '../resize/resize.ts';
import { recordedAllocation, type Allocation } from '../resize/resources-state.ts';

export interface PodRequest {
  name: string;
  /** The container the work runs in: the worker (commands) or the sidecar (sync, snapshots). */
  container: string;
  /** The pod the caller remembers from last time: tried first, with no lookup. */
  remembered?: string | undefined;
  /** Resize the worker to this first (it stays so). */
  allocation?: Allocation | undefined;
  /** Give the worker its recorded allocation again first (it dozed). */
  restore?: boolean | undefined;
  anyOwner: boolean;
  wakeTimeoutMs: number;
  /** The sidecar a wake brings the template up to (asked for only when it wakes). */
  sidecar?: (() => Promise<SidecarSource>) | undefined;
}

export interface PodUse<T> {
  result: T;
  pod: string;
  /** The allocation units the environment has, when they were looked up. */
  units?: number | undefined;
}

/**
 * Runs `use` in the environment's pod. The warm path tries the remembered pod
 * at once, with no API call; only when that pod turns out gone (or a resize is
 * asked for) does it look the environment up, wake or resize it, and run
 * there. `use` must throw the exec client's errors unchanged, so that a stale
 * pod can be told from a failed command.
 */
export async function inReadyPod<T>(deps: EnvDeps, req: PodRequest, use: (pod: string) => Promise<T>): Promise<PodUse<T>> {
  if (req.remembered && !req.allocation && !req.restore) {
    try {
      return { result: await use(req.remembered), pod: req.remembered };
    } catch (err) {
      if (!(await stalePod(deps.kube, req.remembered, err))) throw err;
      deps.debug(`remembered pod ${req.remembered} is gone (${(err as Error).message}); looking it up`);
    }
  }
  const { pod, units } = await readyPod(deps, req);
  const name = pod.metadata?.name ?? '';
  return { result: await use(name), pod: name, units };
}

/** The pod whose container serves, at the asked allocation, waking the environment first if it sleeps. */
export async function readyPod(deps: EnvDeps, req: PodRequest): Promise<{ pod: Pod; units: number }> {
  const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
  const to = req.allocation ?? (req.restore ? recordedAllocation(dep) : undefined);
  const units = to?.units ?? recordedAllocation(dep).units;
  if ((dep.spec?.replicas ?? 1) === 0) {
    // Nothing runs: the wake itself brings a new size.
    const pod = await wakeEnv(deps, { dep, to: req.allocation, timeoutMs: req.wakeTimeoutMs, container: req.container, sidecar: req.sidecar });
    deps.progress.done();
    return { pod, units };
  }
  let pod = (await envPods(deps.kube, req.name)).find((p) => containerServes(p, req.container));
  if (!pod) {
    deps.progress.step(`waiting for ${req.name} to start`);
    pod = await waitReady(deps.kube, req.name, {
      timeoutMs: req.wakeTimeoutMs,
      progress: deps.progress,
      signal: deps.signal,
      until: { container: req.container },
    });
  }
  if (to) {
    pod = await resizeEnv(deps, { dep, pod, to, wakeTimeoutMs: req.wakeTimeoutMs });
  }
  deps.progress.done();
  return { pod, units };
}

/** Whether the pod is deleted or being deleted (one GET, only asked after a failure). */
export async function podGoingAway(kube: KubeTarget, pod: string): Promise<boolean> {
  const res = await requestJson(kube, { method: 'GET', path: objectPath('pods', kube.namespace, pod) }).catch(() => undefined);
  return res?.status === 404 || Boolean((res?.body as Pod | undefined)?.metadata?.deletionTimestamp);
}

/**
 * Whether a failed exec on the remembered pod means only that the pod is gone,
 * so that the work may run on the environment's current pod instead: the
 * upgrade was refused (not for credentials), or the command never started and
 * the pod is going away (whatever words the runtime used to say so).
 */
async function stalePod(kube: KubeTarget, pod: string, err: unknown): Promise<boolean> {
  if (err instanceof ExecUpgradeError) return err.status !== 401 && err.status !== 403;
  return err instanceof ExecFailedError && err.untouched && (await podGoingAway(kube, pod));
}
