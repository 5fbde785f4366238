/*
 * Root-filesystem snapshots: what the CLI asks the sidecar's snapshot agent
 * (`node sidecar.mjs runbox-agent snapshot`, framed like sync) and what it
 * records on the Deployment. Imports nothing.
 */

/** An environment's own repository in the snapshot registry. */
export const snapshotRepository = (namespace: string, env: string): string => `runbox/${namespace}/${env}`;
export const versionTag = (version: number): string => `v${version}`;

/** runbox's own layers above the base are squashed into one past this many. */
export const MAX_SNAPSHOT_LAYERS = 5;

export interface SnapshotRequest {
  op: 'snapshot';
  /** Registry host as the sidecar reaches it (push), and as the nodes pull it (pull). */
  push: string;
  pull: string;
  repository: string;
  /** The image the latest snapshot builds on: the base (as the user gave it) for v1, else the latest version's digest. */
  parent: { image: string; version: number };
  /** The base image, as the user gave it (for its index and layer count when squashing). */
  base: string;
  /** The commands run since the parent (for history). */
  commands: string[];
  /** Squash runbox's layers into one even under the limit. */
  squash: boolean;
}

/**
 * Where the index of the image compared against came from: the environment's volume (cached by an
 * earlier snapshot), the registry (shared by another environment of the image), or its layers (built).
 */
export type IndexSource = 'volume' | 'registry' | 'layers';

export type SnapshotAnswer = { index: IndexSource } & (
  | { changed: false; seconds: number; files: number }
  | {
      changed: true;
      record: SnapshotRecord;
      seconds: number;
      files: number;
      /** Bytes of the new layer (gzip). */
      layerBytes: number;
    }
);

/** One version, as recorded on the Deployment. */
export interface SnapshotRecord {
  version: number;
  /** The manifest digest. */
  digest: string;
  /** The image as the nodes pull it (registry-pull/repository@digest). */
  image: string;
  /** ISO time. */
  time: string;
  /** Bytes of all layers (compressed). */
  size: number;
  layers: number;
  commands: string[];
}
