/**
 * The manifest and config of a snapshot, built from the image below it: `stackImage` adds a layer
 * on top of a parent image; a squash stacks one layer on the base instead. Keeps the parent's
 * entrypoint, environment, user and working directory, and its media-type flavour (OCI or Docker
 * schema2) throughout. Pure.
 */
import { MEDIA_TYPES, type Descriptor, type HistoryEntry, type ImageConfig, type ImageManifest } from '../../src/registry/types.ts';

export interface Image {
  manifest: ImageManifest;
  config: ImageConfig;
}

export interface PushedLayer {
  digest: string;
  size: number;
  diffId: string;
}

const dockerFlavour = (m: ImageManifest) => m.mediaType === MEDIA_TYPES.dockerManifest;

/** `parent` with `layer` on top and one history entry saying what made it. */
export function stackImage(parent: Image, layer: PushedLayer, history: HistoryEntry): Image {
  const docker = dockerFlavour(parent.manifest);
  const descriptor: Descriptor = { mediaType: docker ? MEDIA_TYPES.dockerLayerGzip : MEDIA_TYPES.ociLayerGzip, digest: layer.digest, size: layer.size };
  const config: ImageConfig = {
    ...parent.config,
    ...(history.created ? { created: history.created } : {}),
    rootfs: { type: 'layers', diff_ids: [...parent.config.rootfs.diff_ids, layer.diffId] },
    history: [...(parent.config.history ?? []), history],
  };
  // The config descriptor is filled in once the config is pushed (its digest is that of its bytes).
  return { manifest: { ...parent.manifest, layers: [...parent.manifest.layers, descriptor] }, config };
}

/** The config's bytes and the manifest pointing at them. */
export function withConfig(image: Image, config: { digest: string; size: number }): ImageManifest {
  const docker = dockerFlavour(image.manifest);
  const { annotations: _drop, ...manifest } = image.manifest;
  return { ...manifest, config: { mediaType: docker ? MEDIA_TYPES.dockerConfig : MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size } };
}

export const configBytes = (config: ImageConfig): Buffer => Buffer.from(JSON.stringify(config));

/** Layers runbox added above a base of `baseLayers` layers. */
export const ownLayers = (image: Image, baseLayers: number): Descriptor[] => image.manifest.layers.slice(baseLayers);
