import { cpuMillis, memoryBytes, resourcesFor, unitsOf } from '../../env/resize/allocation.ts';
import type { Allocation } from '../../env/resize/resources-state.ts';

export interface AllocationOptions {
  allocate?: string;
  cpu?: string;
  memory?: string;
}

/**
 * `-a N` in units, `--cpu`/`--memory` as explicit quantities (the one not given
 * comes from -a), or nothing. Returns every problem, or the allocation.
 */
export function parseAllocation(o: AllocationOptions): { problems: string[]; allocation?: Allocation } {
  const problems: string[] = [];
  if (o.allocate === undefined && o.cpu === undefined && o.memory === undefined) return { problems };
  const units = o.allocate === undefined ? undefined : Number(o.allocate);
  if (units !== undefined && !(units > 0)) problems.push(`--allocate must be a number above 0, not "${o.allocate}"`);
  if (o.cpu !== undefined && !(cpuMillis(o.cpu) > 0)) problems.push(`--cpu must be a CPU quantity such as 500m or 2, not "${o.cpu}"`);
  if (o.memory !== undefined && !(memoryBytes(o.memory) > 0)) problems.push(`--memory must be a quantity such as 512Mi or 2Gi, not "${o.memory}"`);
  if (units === undefined && (o.cpu === undefined) !== (o.memory === undefined)) {
    problems.push('give both --cpu and --memory, or -a N for the one left out');
  }
  if (problems.length > 0) return { problems };
  const base = resourcesFor(units ?? 1);
  if (o.cpu === undefined && o.memory === undefined) return { problems, allocation: { units: units!, resources: base } };
  const resources = { cpu: o.cpu ?? base.cpu, memory: o.memory ?? base.memory };
  return { problems, allocation: { units: unitsOf(resources), resources } };
}
