/** One allocation unit: 1/8 CPU core and 128 MiB, as in the original Runbox. */
export const UNIT_MILLICPU = 125;
export const UNIT_MEBIBYTES = 128;
const MiB = 1024 * 1024;

/** Worker resources; requests equal limits, so the QoS class never changes on a resize. */
export interface Resources {
  cpu: string;
  memory: string;
}

export function resourcesFor(units: number): Resources {
  return {
    cpu: `${Math.round(units * UNIT_MILLICPU)}m`,
    memory: `${Math.round(units * UNIT_MEBIBYTES)}Mi`,
  };
}

/** Kubernetes CPU quantity ("500m", "0.5", "2") in millicores; NaN if malformed. */
export function cpuMillis(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(q.trim());
  if (!m) return Number.NaN;
  return m[2] === 'm' ? Number(m[1]) : Number(m[1]) * 1000;
}

const MEMORY_SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: MiB, Gi: 1024 * MiB, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** Kubernetes memory quantity ("128Mi", "1G", "134217728") in bytes; NaN if malformed. */
export function memoryBytes(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|[MGTPE]i?|k|)$/.exec(q.trim());
  if (!m) return Number.NaN;
  const factor = MEMORY_SUFFIX[m[2] ?? ''];
  return factor === undefined ? Number.NaN : Math.round(Number(m[1]) * factor);
}

/** The same resources, however they are spelled. */
export function sameResources(a: Partial<Resources> | undefined, b: Resources): boolean {
  if (!a?.cpu || !a.memory) return false;
  return cpuMillis(a.cpu) === cpuMillis(b.cpu) && memoryBytes(a.memory) === memoryBytes(b.memory);
}

/** Allocation units of explicit resources: the larger of the CPU and memory shares. */
export function unitsOf(r: Resources): number {
  const units = Math.max(cpuMillis(r.cpu) / UNIT_MILLICPU, memoryBytes(r.memory) / (UNIT_MEBIBYTES * MiB));
  return Math.round(units * 1000) / 1000;
}

/** Capacity used by one command: one unit is 100 ms at one allocation unit. */
export function capacityUnits(allocation: number, durationMs: number): number {
  return Math.round(((allocation * durationMs) / 100) * 10) / 10;
}
