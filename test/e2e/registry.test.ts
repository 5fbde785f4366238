import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.ts';
import { RegistryError } from '../../src/registry/registry-error.ts';
import { REGISTRY } from './support/cluster.ts';
import type { FileMeta } from '../../sidecar/snapshot/entries.ts';
import { fetchSharedIndex, pushSharedIndex, sharedIndexRepo } from '../../sidecar/snapshot/shared-index.ts';

// The distribution client against the dev cluster's real registry
// (docker-registry, delete enabled, no auth): blobs by buffer and by stream,
// mounts, the base image copied into an environment-style repository, tags
// listed and deleted. Also that the registry answers on the node address,
// where sidecars in pods push.

const NODE_REGISTRY = '10.77.0.1:5000';
const BASE = 'runbox-test/debian';
const suffix = randomBytes(4).toString('hex');
const REPO = `runbox-e2e/regtest-${suffix}`;
const OTHER = `runbox-e2e/regtest-${suffix}-b`;
const registry = new RegistryClient({ host: REGISTRY });

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const uploaded: { repo: string; digest: string }[] = [];

async function read(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function expectBlob(repo: string, data: Buffer): Promise<void> {
  expect(await registry.headBlob(repo, sha256(data))).toEqual({ digest: sha256(data), size: data.length });
  const blob = await registry.getBlob(repo, sha256(data));
  expect(blob.size).toBe(data.length);
  expect((await read(blob.stream)).equals(data)).toBe(true);
}

afterAll(async () => {
  // Unlink the random blobs; the registry's garbage collection frees them. (The distribution API cannot remove a repository.)
  for (const { repo, digest } of uploaded) {
    const res = await fetch(`http://${REGISTRY}/v2/${repo}/blobs/${digest}`, { method: 'DELETE' });
    await res.body?.cancel();
  }
});

describe('registry client on the dev registry', () => {
  it('reaches the registry on the node address pods use, over plain HTTP by default', async () => {
    const fromPods = new RegistryClient({ host: NODE_REGISTRY });
    expect(fromPods.plainHttp).toBe(true);
    await fromPods.ping();
  });

  it('pushes a blob from a buffer', async () => {
    const data = randomBytes(1000);
    expect(await registry.uploadBlob(REPO, data)).toEqual({ digest: sha256(data), size: 1000 });
    uploaded.push({ repo: REPO, digest: sha256(data) });
    await expectBlob(REPO, data);
  });

  it('pushes a stream in several chunks, its digest computed on the way', async () => {
    const data = randomBytes(300 * 1024 + 17);
    const pieces = [data.subarray(0, 5), data.subarray(5, 100_000), data.subarray(100_000)];
    const pushed = await registry.uploadBlobStream(REPO, Readable.from(pieces), { chunkSize: 64 * 1024 });
    expect(pushed).toEqual({ digest: sha256(data), size: data.length });
    uploaded.push({ repo: REPO, digest: pushed.digest });
    await expectBlob(REPO, data);
  });

  it('pushes a short stream in one request', async () => {
    const data = randomBytes(4096);
    const pushed = await registry.uploadBlobStream(REPO, Readable.from([data]));
    expect(pushed).toEqual({ digest: sha256(data), size: 4096 });
    uploaded.push({ repo: REPO, digest: pushed.digest });
    await expectBlob(REPO, data);
  });

  it('mounts a blob across repositories, and says so when the source does not have it', async () => {
    const data = randomBytes(2048);
    await registry.uploadBlob(REPO, data);
    uploaded.push({ repo: REPO, digest: sha256(data) });
    expect(await registry.headBlob(OTHER, sha256(data))).toBeUndefined();
    expect(await registry.mountBlob(OTHER, sha256(data), REPO)).toBe('mounted');
    uploaded.push({ repo: OTHER, digest: sha256(data) });
    await expectBlob(OTHER, data);

    // busybox does not link this blob: the registry opens an upload instead (202), and the copy finds nothing to read.
    const err = await registry.mountBlob(OTHER, sha256(data), 'runbox-test/busybox').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).codes).toContain('BLOB_UNKNOWN');
    expect((err as Error).message).toMatch(/^registry 127\.0\.0\.1:5000: downloading blob sha256:[0-9a-f]{12} in runbox-test\/busybox failed: .*BLOB_UNKNOWN.*HTTP 404$/);
  });

  it('resolves the base image, copies it into a new repository with mounted blobs, tags, lists and deletes', async () => {
    const base = await registry.resolveImage(BASE, 'bookworm', { os: 'linux', architecture: 'amd64' });
    const { manifest } = base;
    expect(manifest.kind).toBe('manifest');
    expect(manifest.manifest.layers.length).toBeGreaterThan(0);
    expect(sha256(manifest.bytes)).toBe(manifest.digest);
    const { config, bytes: configBytes } = await registry.getConfig(BASE, manifest.manifest.config);
    expect(sha256(configBytes)).toBe(manifest.manifest.config.digest);
    expect(config.os).toBe('linux');
    expect(config.rootfs.diff_ids).toHaveLength(manifest.manifest.layers.length);

    for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) {
      expect(await registry.mountBlob(REPO, blob.digest, BASE)).toBe('mounted');
    }
    const pushed = await registry.putManifest(REPO, 'v1', { mediaType: manifest.mediaType, bytes: manifest.bytes });
    expect(pushed).toBe(manifest.digest);

    const copy = await registry.getManifest(REPO, 'v1');
    expect(copy.digest).toBe(manifest.digest);
    expect(copy.mediaType).toBe(manifest.mediaType);
    expect((await registry.getManifest(REPO, manifest.digest)).bytes.equals(manifest.bytes)).toBe(true);
    expect(await registry.listTags(REPO)).toEqual(['v1']);

    expect(await registry.deleteTag(REPO, 'v1')).toEqual({ kind: 'deleted', digest: manifest.digest });
    const gone = await registry.getManifest(REPO, manifest.digest).then(() => undefined, (e: unknown) => e);
    expect(gone).toBeInstanceOf(RegistryError);
    expect((gone as RegistryError).codes).toContain('MANIFEST_UNKNOWN');
    expect(await registry.listTags(REPO)).toEqual([]);
    expect(await registry.deleteTag(REPO, 'v1')).toEqual({ kind: 'not-found' });
    // The base image is untouched.
    expect((await registry.getManifest(BASE, 'bookworm')).digest).toBe(manifest.digest);
  });

  it("shares an image's index beside the environments' repositories: pushed once, fetched by the next, absent ones are undefined", async () => {
    const repo = sharedIndexRepo(REPO);
    expect(repo).toBe('runbox-e2e/runbox-image-index');
    const digest = sha256(randomBytes(16));
    expect(await fetchSharedIndex(registry, repo, digest)).toBeUndefined();
    const meta: FileMeta = { type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: 1_600_000_000, linkname: '', devmajor: 0, devminor: 0 };
    const index = new Map<string, FileMeta>([
      ['etc/hostname', meta],
      ['bin', { ...meta, type: 'dir', mode: 0o755, size: 0 }],
    ]);
    await pushSharedIndex(registry, repo, digest, index);
    expect(await fetchSharedIndex(registry, repo, digest)).toEqual(index);
  });

  it('turns registry errors into one line naming the registry, repository and operation', async () => {
    const err = await registry.getManifest(REPO, 'no-such-tag').then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toBe(
      `registry ${REGISTRY}: fetching manifest no-such-tag in ${REPO} failed: manifest unknown (MANIFEST_UNKNOWN), HTTP 404`,
    );
    expect(await registry.listTags('runbox-e2e/never-pushed')).toEqual([]);
  });
});
