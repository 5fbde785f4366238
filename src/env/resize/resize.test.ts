import { describe, expect, it } from 'vitest';
import { inPlaceImpossible } from './resize.ts';

describe('inPlaceImpossible', () => {
  it('falls back when the cluster has no resize subresource', () => {
    expect(inPlaceImpossible(404, 'the server could not find the requested resource')).toMatch(/Kubernetes < 1.33/);
  });

  it('does not fall back when the pod itself is gone', () => {
    expect(inPlaceImpossible(404, 'pods "myrb-1" not found')).toBeUndefined();
  });

  it('falls back on a change the API refuses in place, saying why', () => {
    const message =
      'Pod "myrb-1" is invalid: spec.containers[0].resources.limits[memory]: Forbidden: memory limits cannot be decreased unless resizePolicy is RestartContainer';
    expect(inPlaceImpossible(422, message)).toBe(
      'spec.containers[0].resources.limits[memory]: Forbidden: memory limits cannot be decreased unless resizePolicy is RestartContainer',
    );
  });

  it('leaves other failures to the caller', () => {
    expect(inPlaceImpossible(403, 'forbidden')).toBeUndefined();
    expect(inPlaceImpossible(500, 'etcd')).toBeUndefined();
  });
});
