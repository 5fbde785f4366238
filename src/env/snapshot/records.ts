/*
 * The snapshot versions recorded on the Deployment (annotation
 * runbox.dev/snapshots), and which one the next start runs: the latest, or
 * the one a rollback asked for. Pure.
 */
import { ANNOTATION } from '../../contract/names.ts';
import type { SnapshotRecord } from '../../contract/snapshot.ts';
import type { Deployment } from '../../kube/types.ts';
import { workerOf } from '../resize/resources-state.ts';

/** Versions kept in the annotation (the registry keeps every tag). */
const KEPT = 100;

export function snapshotRecords(dep: Deployment): SnapshotRecord[] {
  const text = dep.metadata?.annotations?.[ANNOTATION.snapshots];
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as SnapshotRecord[]) : [];
  } catch {
    return [];
  }
}

export const latestRecord = (records: SnapshotRecord[]): SnapshotRecord | undefined => records.at(-1);

export const withRecord = (records: SnapshotRecord[], record: SnapshotRecord): SnapshotRecord[] => [...records, record].slice(-KEPT);

/** "v3" or "3" -> 3. */
export function parseVersion(text: string): number | undefined {
  const m = /^v?(\d+)$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** The version a rollback asked the next start to run, if any. */
export const rollbackVersion = (dep: Deployment): number | undefined => {
  const text = dep.metadata?.annotations?.[ANNOTATION.rollback];
  return text ? parseVersion(text) : undefined;
};

/** The image the next start runs: a rollback's version, else the latest, else none (the base, as created). */
export function imageToRun(dep: Deployment): string | undefined {
  const records = snapshotRecords(dep);
  const wanted = rollbackVersion(dep);
  const record = wanted === undefined ? latestRecord(records) : records.find((r) => r.version === wanted);
  return record?.image;
}

/**
 * What the next start applies: the image to run and, when a rollback is
 * pending, the records with that rollback as a new version (so later
 * snapshots build on what runs) and the rollback annotation cleared.
 */
export function nextStart(dep: Deployment, now: Date): { image: string; annotations?: Record<string, string | null> } | undefined {
  const records = snapshotRecords(dep);
  const wanted = rollbackVersion(dep);
  const latest = latestRecord(records);
  if (wanted === undefined || !latest) return latest ? { image: latest.image } : undefined;
  const target = records.find((r) => r.version === wanted);
  if (!target) return { image: latest.image, annotations: { [ANNOTATION.rollback]: null } };
  const record: SnapshotRecord = { ...target, version: latest.version + 1, time: now.toISOString(), commands: [`rollback to v${wanted}`] };
  return { image: target.image, annotations: { [ANNOTATION.snapshots]: JSON.stringify(withRecord(records, record)), [ANNOTATION.rollback]: null } };
}

/** The pod-template change that makes the next start run the right version (nothing if it does already). */
export function nextStartPatch(dep: Deployment, now: Date): { annotations?: Record<string, string | null>; image?: string } | undefined {
  const start = nextStart(dep, now);
  if (!start) return undefined;
  const current = workerOf(dep.spec?.template?.spec?.containers)?.image;
  if (current === start.image && !start.annotations) return undefined;
  return { ...(start.annotations ? { annotations: start.annotations } : {}), ...(current === start.image ? {} : { image: start.image }) };
}
