import { describe, expect, it } from 'vitest';
import { encodeManifest, manifestMediaType, nextLink } from './manifests.ts';
import { MEDIA_TYPES } from './types.ts';

describe('manifestMediaType', () => {
  it.each<[string | null, unknown, string]>([
    ['application/vnd.oci.image.manifest.v1+json', {}, MEDIA_TYPES.ociManifest],
    ['application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8', {}, MEDIA_TYPES.dockerManifestList],
    ['application/json', { mediaType: MEDIA_TYPES.dockerManifest }, MEDIA_TYPES.dockerManifest],
    [null, { schemaVersion: 2, manifests: [] }, MEDIA_TYPES.ociIndex],
    ['application/octet-stream', { schemaVersion: 2, config: {}, layers: [] }, MEDIA_TYPES.ociManifest],
    ['application/vnd.docker.distribution.manifest.v1+prettyjws', { schemaVersion: 1 }, 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
  ])('%s', (header, body, type) => {
    expect(manifestMediaType(header, body)).toBe(type);
  });
});

describe('nextLink', () => {
  it.each<[string | null, string | undefined]>([
    ['</v2/a/tags/list?last=b&n=2>; rel="next"', '/v2/a/tags/list?last=b&n=2'],
    ['<https://r/v2/a/tags/list?n=2&last=x>; rel=next', 'https://r/v2/a/tags/list?n=2&last=x'],
    ['<https://r/prev>; rel="prev", </v2/next>; type="x"; rel="next"', '/v2/next'],
    ['</v2/a>; rel="nextish"', undefined],
    [null, undefined],
  ])('%s', (header, next) => {
    expect(nextLink(header)).toBe(next);
  });
});

describe('encodeManifest', () => {
  it('keeps exact bytes and infers a missing media type from the shape', () => {
    const bytes = Buffer.from('{ "odd":  "spacing" }');
    expect(encodeManifest({ mediaType: 'x', bytes })).toEqual({ mediaType: 'x', bytes });
    expect(encodeManifest({ schemaVersion: 2, manifests: [] }).mediaType).toBe(MEDIA_TYPES.ociIndex);
    const m = { schemaVersion: 2 as const, config: { mediaType: MEDIA_TYPES.ociConfig, digest: 'sha256:x', size: 1 }, layers: [] };
    expect(encodeManifest(m)).toEqual({ mediaType: MEDIA_TYPES.ociManifest, bytes: Buffer.from(JSON.stringify(m)) });
  });
});
