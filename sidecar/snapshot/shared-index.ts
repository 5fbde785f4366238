/**
 * An image's index, shared through the snapshot registry by every environment
 * of that image: the first one to need it builds it from the image's layers
 * (about 2 CPU-seconds for Debian) and pushes it; the others fetch it (a few
 * hundred KiB) instead of building it again, which is what made environments
 * that went idle together sleep one after another, seconds apart.
 *
 * Stored as an OCI artifact: a manifest tagged after the image's digest, in a
 * repository beside the environments' own, whose one layer is the index file
 * (index-file.ts). Best effort both ways: an index that cannot be fetched is
 * built, one that cannot be pushed stays on the volume only.
 */
import { MEDIA_TYPES } from '../../src/registry/types.ts';
import type { RegistryClient } from '../../src/registry/client.ts';
import { decodeIndex, encodeIndex } from './index-file.ts';
import type { ImageIndex } from './image-index.ts';

const INDEX_MEDIA_TYPE = 'application/vnd.runbox.image-index.v1+gzip';
const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: Buffer.from('{}') };

/** `runbox/team/myrb` -> `runbox/team/runbox-image-index`: beside the environments' repositories, under the same credentials. */
export function sharedIndexRepo(envRepo: string): string {
  const slash = envRepo.lastIndexOf('/');
  return `${slash < 0 ? '' : envRepo.slice(0, slash + 1)}runbox-image-index`;
}

const tagOf = (imageDigest: string) => imageDigest.replace(':', '-');

export async function fetchSharedIndex(client: RegistryClient, repo: string, imageDigest: string): Promise<ImageIndex | undefined> {
  let fetched;
  try {
    fetched = await client.getManifest(repo, tagOf(imageDigest));
  } catch {
    return undefined; // not there yet (or the registry would not say): build it
  }
  const layer = fetched.kind === 'manifest' ? fetched.manifest.layers.find((l) => l.mediaType === INDEX_MEDIA_TYPE) : undefined;
  if (!layer) return undefined;
  return decodeIndex(await client.getBlobBytes(repo, layer.digest));
}

export async function pushSharedIndex(client: RegistryClient, repo: string, imageDigest: string, index: ImageIndex): Promise<void> {
  const [blob, config] = await Promise.all([client.uploadBlob(repo, encodeIndex(index)), client.uploadBlob(repo, EMPTY_CONFIG.bytes)]);
  await client.putManifest(repo, tagOf(imageDigest), {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: INDEX_MEDIA_TYPE,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: INDEX_MEDIA_TYPE, digest: blob.digest, size: blob.size }],
  });
}
