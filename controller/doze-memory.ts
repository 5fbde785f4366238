import { memoryBytes } from '../src/env/resize/allocation.ts';

/*
 * How far a dozing worker's memory may come down. The kubelet lowers a
 * memory limit only above what is in use (page cache included), for the
 * container and for the pod, and otherwise refuses the whole resize, its CPU
 * shrink too; usage also moves a little between the look and the resize.
 * So: what the worker uses plus a quarter plus 8 MiB, rounded up to 16 MiB,
 * never under DOZE_MEMORY_MIN, and only when that saves at least 16 MiB.
 */

const MiB = 1024 * 1024;
const STEP = 16 * MiB;
/** The pod's sandbox (pause) is in the pod's usage but has no limit of its own. */
const SANDBOX_ALLOWANCE = 4 * MiB;

export interface MemoryFacts {
  /** The worker's memory limit now, e.g. "128Mi". */
  limit: string;
  /** The sidecar's memory limit. */
  sidecarLimit: string;
  /** Bytes in use, as the sidecar read them. */
  usage: { worker: number; sidecar: number };
  /** DOZE_MEMORY_MIN. */
  floor: string;
}

/** The worker's memory while dozing, as a quantity ("48Mi"), or undefined to leave it as it is. */
export function dozeMemory(f: MemoryFacts): string | undefined {
  const limit = memoryBytes(f.limit);
  const wanted = Math.max(memoryBytes(f.floor), Math.ceil((f.usage.worker * 1.25 + 8 * MiB) / STEP) * STEP);
  if (!(limit - wanted >= STEP)) return undefined;
  // The pod's limit comes down by as much: all that is in use in the pod must still fit below it.
  const podLimit = wanted + memoryBytes(f.sidecarLimit);
  if (f.usage.worker + f.usage.sidecar + SANDBOX_ALLOWANCE >= podLimit) return undefined;
  return `${wanted / MiB}Mi`;
}
