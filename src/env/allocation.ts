/** One allocation unit: 1/8 CPU core and 128 MiB, as in the original Runbox. */
export const UNIT_MILLICPU = 125;
export const UNIT_MEBIBYTES = 128;

export interface Resources {
  cpu: string;
  memory: string;
}

/** Requests equal limits, so the QoS class never changes on a resize. */
export function resourcesFor(units: number): Resources {
  return {
    cpu: `${Math.round(units * UNIT_MILLICPU)}m`,
    memory: `${Math.round(units * UNIT_MEBIBYTES)}Mi`,
  };
}
