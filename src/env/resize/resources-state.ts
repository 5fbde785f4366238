import { ANNOTATION, WORKER } from '../../contract/names.ts';
import type { Container, Deployment, Pod } from '../../kube/types.ts';
import { resourcesFor, sameResources, type Resources } from './allocation.ts';

/*
 * Where an environment's size is recorded and observed: the Deployment's
 * annotations (what the user asked for, applied on every wake), the pod spec
 * (what was asked of the kubelet) and the container status (what the kubelet
 * applied to the cgroups).
 */

export interface Allocation {
  units: number;
  resources: Resources;
}

export function recordedAllocation(dep: Deployment): Allocation {
  const ann = dep.metadata?.annotations ?? {};
  const units = Number(ann[ANNOTATION.allocation] ?? 1);
  try {
    const r = JSON.parse(ann[ANNOTATION.resources] ?? '') as Partial<Resources>;
    if (r.cpu && r.memory) return { units, resources: { cpu: r.cpu, memory: r.memory } };
  } catch {
    // recorded by an older runbox: derive from the units
  }
  return { units, resources: resourcesFor(units) };
}

/** The allocation it was created with (what a boost falls back to); undefined where none was recorded (an older runbox). */
export function baselineAllocation(dep: Deployment): Allocation | undefined {
  try {
    const b = JSON.parse(dep.metadata?.annotations?.[ANNOTATION.baseline] ?? '') as Partial<Allocation>;
    if (typeof b.units === 'number' && b.units > 0 && b.resources?.cpu && b.resources.memory) return { units: b.units, resources: { cpu: b.resources.cpu, memory: b.resources.memory } };
  } catch {
    // none recorded
  }
  return undefined;
}

export function allocationAnnotations(a: Allocation): Record<string, string> {
  return { [ANNOTATION.allocation]: String(a.units), [ANNOTATION.resources]: JSON.stringify(a.resources) };
}

export const workerOf = (containers: Container[] | undefined): Container | undefined =>
  containers?.find((c) => c.name === WORKER);

/** Requests equal to limits for the worker, as a patch fragment. */
export function workerResources(r: Resources) {
  return { name: WORKER, resources: { requests: { ...r }, limits: { ...r } } };
}

export function podLimits(pod: Pod): Partial<Resources> | undefined {
  return workerOf(pod.spec?.containers)?.resources?.limits as Partial<Resources> | undefined;
}

export function appliedLimits(pod: Pod): Partial<Resources> | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === WORKER)?.resources?.limits as Partial<Resources> | undefined;
}

export type ResizeProgress =
  | { kind: 'applied' }
  | { kind: 'waiting' }
  | { kind: 'refused'; reason: string; message: string };

/** How far the kubelet got with an in-place resize to `target`. */
export function resizeProgress(pod: Pod, target: Resources): ResizeProgress {
  const conditions = pod.status?.conditions ?? [];
  const pending = conditions.find((c) => c.type === 'PodResizePending' && c.status === 'True');
  if (pending && (pending.reason === 'Infeasible' || pending.reason === 'Deferred')) {
    return { kind: 'refused', reason: pending.reason, message: pending.message ?? pending.reason };
  }
  const inProgress = conditions.some((c) => c.type === 'PodResizeInProgress' && c.status === 'True');
  if (!pending && !inProgress && sameResources(appliedLimits(pod), target)) return { kind: 'applied' };
  return { kind: 'waiting' };
}
