import type { IdleRecord } from '../../contract/idle.ts';
import { ANNOTATION } from '../../contract/names.ts';
import type { Deployment } from '../../kube/types.ts';

/*
 * An environment's idle policy: how long idle before it dozes and before it
 * sleeps, from its own annotations, else the cluster config's defaults.
 */

/** Milliseconds, or null for never. */
export type After = number | null;

export interface IdlePolicy {
  dozeAfter: After;
  sleepAfter: After;
  /** A boost falls back to the baseline when the environment dozes or sleeps. */
  boostFallback: boolean;
}

/** The cluster's defaults, as the config says them. */
export interface PolicyDefaults {
  dozeAfter: string;
  sleepAfter: string;
  boostFallback: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `5m`, `1h`, `2d`, or `never` (null); undefined when it is none of these. */
export function parseAfter(text: string): After | undefined {
  if (text === 'never') return null;
  const m = /^([0-9]+)(s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

/** The shortest of `90s`, `5m`, `1h`, `2d` that says it exactly, or `never`. */
export function formatAfter(after: After): string {
  if (after === null) return 'never';
  for (const unit of ['d', 'h', 'm'] as const) if (after % UNIT_MS[unit]! === 0) return `${after / UNIT_MS[unit]!}${unit}`;
  return `${Math.round(after / 1000)}s`;
}

/** The policy the annotations set, each falling back to the default (itself a duration text). */
export function idlePolicy(dep: Deployment, defaults: PolicyDefaults): IdlePolicy {
  const ann = dep.metadata?.annotations ?? {};
  const pick = (own: string | undefined, fallback: string): After => {
    const mine = own === undefined ? undefined : parseAfter(own);
    return mine !== undefined ? mine : (parseAfter(fallback) ?? null);
  };
  const fallback = ann[ANNOTATION.boostFallback] === 'on' || ann[ANNOTATION.boostFallback] === 'off' ? ann[ANNOTATION.boostFallback] : defaults.boostFallback;
  return { dozeAfter: pick(ann[ANNOTATION.dozeAfter], defaults.dozeAfter), sleepAfter: pick(ann[ANNOTATION.sleepAfter], defaults.sleepAfter), boostFallback: fallback === 'on' };
}

/** The runbox.dev/idle record, if there is a well-formed one. */
export function idleRecord(dep: Deployment): IdleRecord | undefined {
  const text = dep.metadata?.annotations?.[ANNOTATION.idle];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as Partial<IdleRecord>;
    if ((r.state === 'dozing' || r.state === 'sleeping') && typeof r.at === 'string' && typeof r.why === 'string') return { state: r.state, at: r.at, why: r.why, by: String(r.by ?? '') };
  } catch {
    // A hand-edited annotation: as if there were none.
  }
  return undefined;
}
