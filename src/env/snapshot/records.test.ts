import { describe, expect, it } from 'vitest';
import { ANNOTATION, WORKER } from '../../contract/names.ts';
import type { SnapshotRecord } from '../../contract/snapshot.ts';
import type { Deployment } from '../../kube/types.ts';
import { imageToRun, nextStart, nextStartPatch, parseVersion, snapshotRecords, withRecord } from './records.ts';

const rec = (version: number): SnapshotRecord => ({
  version,
  digest: `sha256:${String(version).repeat(64).slice(0, 64)}`,
  image: `reg:5000/runbox/ns/e@sha256:${String(version).repeat(64).slice(0, 64)}`,
  time: '2026-11-23T10:00:00Z',
  size: 100,
  layers: 2,
  commands: [],
});

const dep = (records: SnapshotRecord[], opts: { rollback?: string; image?: string } = {}): Deployment => ({
  metadata: {
    name: 'e',
    annotations: { [ANNOTATION.snapshots]: JSON.stringify(records), ...(opts.rollback ? { [ANNOTATION.rollback]: opts.rollback } : {}) },
  },
  spec: { selector: {}, template: { spec: { containers: [{ name: WORKER, image: opts.image ?? 'base:1' }] } } },
});

describe('snapshot records', () => {
  it('reads the annotation, and nothing from a missing or broken one', () => {
    expect(snapshotRecords(dep([rec(1), rec(2)])).map((r) => r.version)).toEqual([1, 2]);
    expect(snapshotRecords({ metadata: {} })).toEqual([]);
    expect(snapshotRecords({ metadata: { annotations: { [ANNOTATION.snapshots]: '{not json' } } })).toEqual([]);
  });

  it('keeps the last hundred versions', () => {
    let records: SnapshotRecord[] = [];
    for (let v = 1; v <= 105; v++) records = withRecord(records, rec(v));
    expect(records).toHaveLength(100);
    expect(records[0]!.version).toBe(6);
  });

  it('parses versions', () => {
    expect(parseVersion('v3')).toBe(3);
    expect(parseVersion('12')).toBe(12);
    expect(parseVersion('version3')).toBeUndefined();
  });

  it('the next start runs the latest version, or nothing new without snapshots', () => {
    expect(imageToRun(dep([rec(1), rec(2)]))).toBe(rec(2).image);
    expect(nextStart(dep([]), new Date())).toBeUndefined();
    expect(nextStartPatch(dep([rec(1)], { image: rec(1).image }), new Date())).toBeUndefined();
    expect(nextStartPatch(dep([rec(1)]), new Date())).toEqual({ image: rec(1).image });
  });

  it('a rollback becomes a new version running the old image, and is then cleared', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const start = nextStart(dep([rec(1), rec(2), rec(3)], { rollback: 'v1', image: rec(3).image }), now)!;
    expect(start.image).toBe(rec(1).image);
    expect(start.annotations![ANNOTATION.rollback]).toBeNull();
    const records = JSON.parse(start.annotations![ANNOTATION.snapshots]!) as SnapshotRecord[];
    expect(records.at(-1)).toMatchObject({ version: 4, digest: rec(1).digest, image: rec(1).image, commands: ['rollback to v1'], time: now.toISOString() });
    // A rollback to a version no longer recorded is dropped.
    expect(nextStart(dep([rec(2)], { rollback: 'v1' }), now)).toEqual({ image: rec(2).image, annotations: { [ANNOTATION.rollback]: null } });
  });
});
