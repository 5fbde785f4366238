import { describe, expect, it } from 'vitest';
import { configProblems, effectiveConfig } from './settings.ts';

describe('cluster config', () => {
  it('takes each setting from the first layer that has it', () => {
    const c = effectiveConfig({
      overrides: { image: { value: 'ubuntu:24.04', source: 'flag' } },
      namespace: { 'node-image': 'registry.local/node:24', 'sleep-after': '5m' },
      cluster: { 'node-image': 'node:24-alpine', 'sleep-after': '1h', 'storage-class': 'fast' },
    });
    expect(c.image).toEqual({ value: 'ubuntu:24.04', source: 'flag' });
    expect(c.nodeImage).toEqual({ value: 'registry.local/node:24', source: 'namespace' });
    expect(c.storageClass).toEqual({ value: 'fast', source: 'cluster' });
    expect(c.dozeAfter).toEqual({ value: '10m', source: 'default' });
    expect(c.registryPush).toEqual({ value: undefined, source: 'default' });
  });

  it('names every malformed key and value', () => {
    expect(configProblems({ 'sleep-after': 'soon', 'node-image': 'Not An Image', colour: 'blue', 'doze-after': 'never', 'boost-fallback': 'yes' }, 'here')).toEqual([
      'here: sleep-after must be a duration such as 90s, 5m, 1h, or never, not "soon"',
      'here: node-image must be an image reference such as node:24-slim, not "Not An Image"',
      'here: unknown key "colour" (known: node-image, image, storage-class, registry-push, registry-pull, registry-secret, doze-after, sleep-after, boost-fallback)',
      'here: boost-fallback must be on or off, not "yes"',
    ]);
    expect(configProblems({ 'node-image': '127.0.0.1:5000/runbox-test/node:24', 'registry-push': '127.0.0.1:5000' }, 'x')).toEqual([]);
  });
});
