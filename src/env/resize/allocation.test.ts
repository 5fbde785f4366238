import { describe, expect, it } from 'vitest';
import { capacityUnits, cpuMillis, memoryBytes, resourcesFor, sameResources, unitsOf } from './allocation.ts';

describe('allocation', () => {
  it.each([
    [1, '125m', '128Mi'],
    [2, '250m', '256Mi'],
    [0.5, '63m', '64Mi'],
    [4, '500m', '512Mi'],
  ])('%f units are %s and %s', (units, cpu, memory) => {
    expect(resourcesFor(units)).toEqual({ cpu, memory });
  });

  it('parses quantities', () => {
    expect(cpuMillis('500m')).toBe(500);
    expect(cpuMillis('2')).toBe(2000);
    expect(cpuMillis('0.25')).toBe(250);
    expect(memoryBytes('128Mi')).toBe(134217728);
    expect(memoryBytes('1Gi')).toBe(1073741824);
    expect(memoryBytes('1G')).toBe(1e9);
    expect(memoryBytes('268435456')).toBe(268435456);
    // Node allocatable memory comes in Ki; the decimal kilo is lower-case.
    expect(memoryBytes('24581256Ki')).toBe(24581256 * 1024);
    expect(memoryBytes('2k')).toBe(2000);
    expect(memoryBytes('2ki')).toBeNaN();
    expect(cpuMillis('lots')).toBeNaN();
    expect(memoryBytes('12Xi')).toBeNaN();
  });

  it('compares resources however they are spelled', () => {
    expect(sameResources({ cpu: '0.25', memory: '268435456' }, { cpu: '250m', memory: '256Mi' })).toBe(true);
    expect(sameResources({ cpu: '250m', memory: '128Mi' }, { cpu: '250m', memory: '256Mi' })).toBe(false);
    expect(sameResources(undefined, { cpu: '250m', memory: '256Mi' })).toBe(false);
  });

  it('counts explicit resources in units', () => {
    expect(unitsOf({ cpu: '1', memory: '128Mi' })).toBe(8);
    expect(unitsOf({ cpu: '125m', memory: '1Gi' })).toBe(8);
  });

  it('meters capacity as 100 ms at one unit', () => {
    expect(capacityUnits(1, 1000)).toBe(10);
    expect(capacityUnits(2, 1500)).toBe(30);
    expect(capacityUnits(0.5, 200)).toBe(1);
  });
});
