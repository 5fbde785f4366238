import { describe, expect, it } from 'vitest';
import { pickPlatform } from './platform.ts';
import type { Descriptor, ImageIndex, Platform } from './types.ts';

const entry = (name: string, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${name.padEnd(64, '0')}`,
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});
const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, manifests });

const amd64 = entry('a', { os: 'linux', architecture: 'amd64' });
const arm64 = entry('b', { os: 'linux', architecture: 'arm64', variant: 'v8' });
const armv7 = entry('c', { os: 'linux', architecture: 'arm', variant: 'v7' });
const armv6 = entry('d', { os: 'linux', architecture: 'arm', variant: 'v6' });
const attest = entry('e', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' });
const windows = entry('f', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763' });
const full = index(attest, windows, amd64, arm64, armv6, armv7);

describe('pickPlatform', () => {
  it.each<[string, Platform, Descriptor]>([
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }, amd64],
    ['x86_64 is amd64', { os: 'linux', architecture: 'x86_64' }, amd64],
    ['arm64 without a variant is v8', { os: 'linux', architecture: 'arm64' }, arm64],
    ['aarch64 is arm64', { os: 'linux', architecture: 'aarch64' }, arm64],
    ['arm without a variant is v7', { os: 'linux', architecture: 'arm' }, armv7],
    ['arm/v6 exactly', { os: 'linux', architecture: 'arm', variant: 'v6' }, armv6],
    ['windows', { os: 'windows', architecture: 'amd64' }, windows],
  ])('%s', (_name, want, expected) => {
    expect(pickPlatform(full, want)).toEqual({ ok: true, descriptor: expected });
  });

  it('takes any variant when none is asked and the default is absent', () => {
    expect(pickPlatform(index(armv6), { os: 'linux', architecture: 'arm' })).toEqual({ ok: true, descriptor: armv6 });
  });

  it('says what there is when nothing matches, never an attestation', () => {
    expect(pickPlatform(full, { os: 'linux', architecture: 's390x' })).toEqual({
      ok: false,
      available: ['windows/amd64', 'linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'linux/arm/v7'],
    });
    expect(pickPlatform(index(attest), { os: 'linux', architecture: 'amd64' })).toEqual({ ok: false, available: [] });
    expect(pickPlatform(index(armv6), { os: 'linux', architecture: 'arm', variant: 'v7' }).ok).toBe(false);
  });

  it('takes the one entry of an index that names no platform', () => {
    const bare = entry('g');
    expect(pickPlatform(index(bare), { os: 'linux', architecture: 'amd64' })).toEqual({ ok: true, descriptor: bare });
  });
});
