import { ANNOTATION, WORKER } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { Deployment, Pod } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { sameResources, type Resources } from '../resize/allocation.ts';
import {
  allocationAnnotations,
  recordedAllocation,
  workerOf,
  workerResources,
  type Allocation,
} from '../resize/resources-state.ts';
import { ensureSidecarBundle, sidecarPatch, sidecarStamp, templateSidecarStamp, type SidecarSource } from './sidecar.ts';
import { nextStartPatch } from '../snapshot/records.ts';
import { sleepEnv } from './stop.ts';
import { NoCapacityError, waitReady } from './wait-ready.ts';

/** What a wake changes in the pod template: the worker's size, the sidecar's version; nothing if both are current. */
function wakeTemplate(resources: Resources | undefined, sidecar: SidecarSource | undefined, image: string | undefined): object | undefined {
  if (!resources && !sidecar && !image) return undefined;
  const side = sidecar ? (sidecarPatch(sidecar) as { metadata: object; spec: { containers: object[]; volumes?: object[] } }) : undefined;
  const worker = resources || image ? [{ ...(resources ? workerResources(resources) : { name: WORKER }), ...(image ? { image } : {}) }] : [];
  return {
    ...(side ? { metadata: side.metadata } : {}),
    spec: {
      containers: [...worker, ...(side?.spec.containers ?? [])],
      ...(side?.spec.volumes ? { volumes: side.spec.volumes } : {}),
    },
  };
}

/**
 * Scales a sleeping environment to one pod at its recorded allocation, or at
 * `to` (then recorded too), in one patch. No pod runs, so this is the moment to
 * bring the pod template up to date. Resolves once `container` can serve.
 */
export async function wakeEnv(
  deps: EnvDeps,
  req: {
    dep: Deployment;
    to?: Allocation | undefined;
    timeoutMs: number;
    container?: string;
    /** The sidecar this runbox ships: a template that runs another gets it now. */
    sidecar?: (() => Promise<SidecarSource>) | undefined;
  },
): Promise<Pod> {
  const { kube } = deps;
  const name = req.dep.metadata?.name ?? '';
  const { resources } = req.to ?? recordedAllocation(req.dep);
  const template = workerOf(req.dep.spec?.template?.spec?.containers)?.resources?.limits as
    | { cpu?: string; memory?: string }
    | undefined;
  const sidecar = req.sidecar ? await req.sidecar() : undefined;
  const newSidecar = sidecar && templateSidecarStamp(req.dep) !== sidecarStamp(sidecar) ? sidecar : undefined;
  if (newSidecar) await ensureSidecarBundle(kube, newSidecar);
  // The version the next start runs (the latest snapshot, or a rollback's), in the same patch.
  const start = nextStartPatch(req.dep, deps.clock.now());
  // A wake ends a sleep: the idle record goes (null deletes it in a patch). A wake is activity: the idle controller's clock starts again.
  const annotations = {
    ...(req.to ? allocationAnnotations(req.to) : {}),
    ...start?.annotations,
    [ANNOTATION.lastActivity]: deps.clock.now().toISOString(),
    ...(req.dep.metadata?.annotations?.[ANNOTATION.idle] ? { [ANNOTATION.idle]: null } : {}),
  };
  const body = {
    ...(Object.keys(annotations).length > 0 ? { metadata: { annotations } } : {}),
    spec: { replicas: 1, template: wakeTemplate(sameResources(template, resources) ? undefined : resources, newSidecar, start?.image) },
  };
  deps.progress.step(`waking ${name}`);
  try {
    await callJson(kube, { method: 'PATCH', path: objectPath('deployments', kube.namespace, name), body, contentType: PATCH.strategic });
  } catch (err) {
    throw apiError(err, `waking ${name}`, kube.server);
  }
  try {
    return await waitReady(kube, name, {
      timeoutMs: req.timeoutMs,
      progress: deps.progress,
      signal: deps.signal,
      until: { container: req.container ?? WORKER },
    });
  } catch (err) {
    // A pod that will never start, or a wake the user cancelled, goes back to
    // sleep: nothing is left Pending to wedge the next command.
    if (err instanceof NoCapacityError || deps.signal?.aborted) {
      await sleepEnv({ ...deps, signal: undefined }, name).catch((e: unknown) => deps.debug(`putting ${name} back to sleep failed: ${String(e)}`));
      if (err instanceof NoCapacityError) {
        throw new RunboxError(`cannot wake ${name}: ${err.message.replace(/^no node can run \S+ at its size: /, 'no node can fit it: ')}; it stays asleep`, {
          hint: err.hint,
          cause: err,
        });
      }
    }
    throw err;
  }
}
