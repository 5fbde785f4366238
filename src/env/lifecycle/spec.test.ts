import { describe, expect, it } from 'vitest';
import { SIDECAR, WORKER } from '../../contract/names.ts';
import { REGISTRY_CREDENTIALS_MOUNT } from '../../contract/sidecar.ts';
import { deployment } from './spec.ts';
import { sidecarStamp, type SidecarSource } from './sidecar.ts';

const bundle: SidecarSource = { kind: 'bundle', hash: 'abc123', content: '', nodeImage: 'node:24-slim', registrySecret: 'regcred' };

describe('the registry credentials', () => {
  const dep = deployment(
    { name: 'e', namespace: 'ns', image: 'debian', sidecar: bundle, allocation: 1, volumeSize: '1Gi', nodeSelector: {}, gpus: 0, owner: { user: 'me', label: 'me' } },
    new Date('2026-11-23T10:00:00Z'),
  );
  const containers = dep.spec!.template.spec!.containers;
  const volumes = dep.spec!.template.spec!.volumes ?? [];

  it('are mounted into the sidecar only, never the worker', () => {
    const secretVolume = volumes.find((v) => v.secret?.secretName === 'regcred');
    expect(secretVolume?.secret).toMatchObject({ optional: true, defaultMode: 0o400 });
    const sidecar = containers.find((c) => c.name === SIDECAR)!;
    expect(sidecar.volumeMounts).toContainEqual({ name: secretVolume!.name, mountPath: REGISTRY_CREDENTIALS_MOUNT, readOnly: true });
    const worker = containers.find((c) => c.name === WORKER)!;
    expect((worker.volumeMounts ?? []).map((m) => m.name)).not.toContain(secretVolume!.name);
  });

  it('are part of the sidecar stamp, so a wake brings a changed Secret name', () => {
    expect(sidecarStamp(bundle)).toBe('abc123@node:24-slim+regcred');
    expect(sidecarStamp({ ...bundle, registrySecret: undefined })).toBe('abc123@node:24-slim');
  });
});
