import { describe, expect, it } from 'vitest';
import { formatReference, manifestReference, parseReference, type ImageReference } from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each<[string, ImageReference]>([
    ['debian', { registry: 'docker.io', repository: 'library/debian' }],
    ['debian:bookworm', { registry: 'docker.io', repository: 'library/debian', tag: 'bookworm' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['docker.io/debian', { registry: 'docker.io', repository: 'library/debian' }],
    ['index.docker.io/library/debian:12', { registry: 'docker.io', repository: 'library/debian', tag: '12' }],
    ['registry-1.docker.io/bitnami/redis', { registry: 'docker.io', repository: 'bitnami/redis' }],
    ['127.0.0.1:5000/runbox-test/debian:bookworm', { registry: '127.0.0.1:5000', repository: 'runbox-test/debian', tag: 'bookworm' }],
    ['localhost/x', { registry: 'localhost', repository: 'x' }],
    ['localhost:5000/a/b/c:v1.2-rc_3', { registry: 'localhost:5000', repository: 'a/b/c', tag: 'v1.2-rc_3' }],
    ['registry.example.com/team/app', { registry: 'registry.example.com', repository: 'team/app' }],
    ['[::1]:5000/app:1', { registry: '[::1]:5000', repository: 'app', tag: '1' }],
    [`ghcr.io/o/app@${D}`, { registry: 'ghcr.io', repository: 'o/app', digest: D }],
    [`debian:12@${D}`, { registry: 'docker.io', repository: 'library/debian', tag: '12', digest: D }],
    ['a__b/c--d/e.f_g', { registry: 'docker.io', repository: 'a__b/c--d/e.f_g' }],
    // A first component with capitals is a host (docker's rule); a one-word name with a port-like tag is a tag.
    ['Host/app', { registry: 'Host', repository: 'app' }],
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }],
  ])('%s', (text, ref) => {
    expect(parseReference(text)).toEqual({ ok: true, ref });
  });

  it.each([
    ['', 'empty'],
    ['Debian', 'lowercase'],
    ['debian:', 'not a tag'],
    ['debian:-x', 'not a tag'],
    [`debian:${'t'.repeat(129)}`, 'not a tag'],
    ['debian@sha256:abc', 'not a digest'],
    [`debian@sha256:${'A'.repeat(64)}`, '64 lowercase'],
    ['a//b', 'not a repository path'],
    ['a/b/', 'not a repository path'],
    ['a/-b', 'not a repository path'],
    ['exa_mple.com:5000/app', 'not a registry'],
    [`example.com/${'a'.repeat(250)}`, 'longer than 255'],
  ])('rejects %j (%s)', (text, why) => {
    const r = parseReference(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(why);
  });
});

describe('formatReference', () => {
  it.each([
    ['debian:bookworm', 'docker.io/library/debian:bookworm', 'debian:bookworm'],
    ['bitnami/redis', 'docker.io/bitnami/redis', 'bitnami/redis'],
    ['docker.io/library/a/b:1', 'docker.io/library/a/b:1', 'library/a/b:1'],
    [`127.0.0.1:5000/x/y:t@${D}`, `127.0.0.1:5000/x/y:t@${D}`, `127.0.0.1:5000/x/y:t@${D}`],
  ])('%s', (text, full, familiar) => {
    const r = parseReference(text);
    if (!r.ok) throw new Error(r.problem);
    expect(formatReference(r.ref)).toBe(full);
    expect(formatReference(r.ref, { familiar: true })).toBe(familiar);
    expect(parseReference(formatReference(r.ref))).toEqual(r);
  });
});

describe('manifestReference', () => {
  it('prefers the digest, then the tag, then latest', () => {
    expect(manifestReference({ registry: 'r', repository: 'a', tag: 't', digest: D })).toBe(D);
    expect(manifestReference({ registry: 'r', repository: 'a', tag: 't' })).toBe('t');
    expect(manifestReference({ registry: 'r', repository: 'a' })).toBe('latest');
  });
});
