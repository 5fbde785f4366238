import { describe, expect, it } from 'vitest';
import { ANNOTATION } from '../../contract/names.ts';
import { formatAfter, idlePolicy, idleRecord, parseAfter } from './policy.ts';

describe('idle policy', () => {
  it('reads durations and never', () => {
    expect(parseAfter('90s')).toBe(90_000);
    expect(parseAfter('5m')).toBe(300_000);
    expect(parseAfter('1h')).toBe(3_600_000);
    expect(parseAfter('2d')).toBe(172_800_000);
    expect(parseAfter('never')).toBeNull();
    for (const bad of ['', '0s', '5', 'm', '1.5h', '-1m', '5 m']) expect(parseAfter(bad)).toBeUndefined();
  });

  it('formats the shortest exact form', () => {
    expect(formatAfter(90_000)).toBe('90s');
    expect(formatAfter(300_000)).toBe('5m');
    expect(formatAfter(7_200_000)).toBe('2h');
    expect(formatAfter(null)).toBe('never');
  });

  it('takes the annotations first, the defaults for what they leave out or get wrong', () => {
    const dep = (a: Record<string, string>) => ({ metadata: { annotations: a } });
    const defaults = { dozeAfter: '10m', sleepAfter: '30m', boostFallback: 'off' };
    expect(idlePolicy(dep({}), defaults)).toEqual({ dozeAfter: 600_000, sleepAfter: 1_800_000, boostFallback: false });
    expect(idlePolicy(dep({ [ANNOTATION.sleepAfter]: '20s', [ANNOTATION.dozeAfter]: 'never' }), defaults)).toEqual({ dozeAfter: null, sleepAfter: 20_000, boostFallback: false });
    expect(idlePolicy(dep({ [ANNOTATION.boostFallback]: 'on' }), defaults).boostFallback).toBe(true);
    expect(idlePolicy(dep({ [ANNOTATION.boostFallback]: 'off' }), { ...defaults, boostFallback: 'on' }).boostFallback).toBe(false);
    expect(idlePolicy(dep({ [ANNOTATION.boostFallback]: 'maybe' }), { ...defaults, boostFallback: 'on' }).boostFallback).toBe(true);
    expect(idlePolicy(dep({ [ANNOTATION.sleepAfter]: 'soon' }), defaults)).toEqual({ dozeAfter: 600_000, sleepAfter: 1_800_000, boostFallback: false });
  });

  it('reads the idle record, ignoring a malformed one', () => {
    const rec = { state: 'sleeping', at: '2026-11-23T00:00:00.000Z', why: 'idle for 30m', by: 'controller' };
    expect(idleRecord({ metadata: { annotations: { [ANNOTATION.idle]: JSON.stringify(rec) } } })).toEqual(rec);
    expect(idleRecord({ metadata: { annotations: { [ANNOTATION.idle]: '{' } } })).toBeUndefined();
    expect(idleRecord({ metadata: { annotations: { [ANNOTATION.idle]: '{"state":"gone"}' } } })).toBeUndefined();
  });
});
