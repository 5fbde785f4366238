/**
 * Merges runbox's own snapshot layers (oldest first) into one equivalent layer:
 * `squashLayers({ layers, base, out })`. Later entries win; a whiteout survives only if the path
 * exists in the base image below (`base`, its index), since otherwise nothing is left to hide.
 * Reads each layer twice (headers, then the winning content), so no content is held or spooled.
 */
import type { Writable } from 'node:stream';
import { coveredBy, isWithin, parentOf, type FileMeta, type LayerChange } from './entries.ts';
import { writeLayer, type LayerOptions, type LayerRecord, type LayerResult } from './layer.ts';
import { readLayer } from './read-layer.ts';

/** The merged state of one path. `source` names the layer member whose bytes a file carries. */
interface Slot {
  meta?: FileMeta;
  source?: string;
  whiteout: boolean;
  opaque: boolean;
}

type Merged = Map<string, Slot>;

export interface SquashInput extends LayerOptions {
  /** Opens each layer blob (gzip'd or plain tar), oldest first; each is opened twice. */
  layers: ReadonlyArray<() => AsyncIterable<Uint8Array>>;
  /** The index of the image below the squashed layers. */
  base: ReadonlyMap<string, FileMeta>;
  out: Writable;
}

const sourceKey = (layer: number, path: string) => `${layer}\0${path}`;

function removeWhere(merged: Merged, doomed: (path: string) => boolean): void {
  for (const path of merged.keys()) if (doomed(path)) merged.delete(path);
}

/** Applies one layer's changes to the merged state, as an applier would to a filesystem. */
export function mergeLayer(merged: Merged, layer: number, changes: readonly LayerChange[], base: ReadonlyMap<string, FileMeta>): void {
  const removed = new Set<string>();
  const opaque = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'whiteout') removed.add(change.path);
    if (change.kind === 'opaque') opaque.add(change.path);
  }
  if (removed.size > 0 || opaque.size > 0) {
    removeWhere(merged, (path) => coveredBy(path, removed) || coveredBy(parentOf(path), opaque) || opaque.has(''));
  }
  for (const path of removed) if (base.has(path)) merged.set(path, { whiteout: true, opaque: false });
  for (const path of opaque) {
    if (!base.has(path)) continue; // made in a squashed layer: removing its children was enough
    const slot = merged.get(path) ?? { whiteout: false, opaque: false };
    merged.set(path, { ...slot, opaque: true });
  }
  const layerSources = new Map<string, { meta: FileMeta; source: string }>();
  for (const change of changes) {
    if (change.kind !== 'entry') continue;
    const { path, meta } = change;
    const before = merged.get(path);
    if (before?.meta?.type === 'dir' && meta.type !== 'dir') removeWhere(merged, (p) => p !== path && isWithin(p, path));
    const slot: Slot = { whiteout: before?.whiteout ?? false, opaque: meta.type === 'dir' && (before?.opaque ?? false) };
    if (meta.type === 'file') {
      slot.meta = meta;
      slot.source = sourceKey(layer, path);
      layerSources.set(path, { meta, source: slot.source });
    } else if (meta.type === 'hardlink') {
      // Same layer first (how runbox writes them), else whatever the path holds below.
      const target = layerSources.get(meta.linkname) ?? merged.get(meta.linkname);
      if (target?.meta === undefined || target.source === undefined) throw new Error(`squash: hardlink ${path} -> ${meta.linkname}: no such file`);
      slot.meta = { ...target.meta, type: 'file', linkname: '' };
      slot.source = target.source;
      layerSources.set(path, { meta: slot.meta, source: target.source });
    } else {
      slot.meta = meta;
    }
    merged.set(path, slot);
  }
}

const RANK = { whiteout: 0, entry: 1, opaque: 2 } as const;
const byPath = (a: LayerChange, b: LayerChange) => (a.path !== b.path ? (a.path < b.path ? -1 : 1) : RANK[a.kind] - RANK[b.kind]);

/**
 * The squashed layer in three runs: everything without content (sorted, so parents come first
 * and a path's whiteout precedes its entry), then files in the order the layers hold their bytes,
 * then hardlinks to those files.
 */
async function* squashedRecords(merged: Merged, layers: SquashInput['layers']): AsyncGenerator<LayerRecord> {
  const namesBySource = new Map<string, string[]>();
  const plain: LayerChange[] = [];
  for (const [path, slot] of merged) {
    if (slot.whiteout) plain.push({ kind: 'whiteout', path });
    if (slot.opaque) plain.push({ kind: 'opaque', path });
    if (slot.meta === undefined) continue;
    if (slot.source === undefined) plain.push({ kind: 'entry', path, meta: slot.meta });
    else namesBySource.set(slot.source, [...(namesBySource.get(slot.source) ?? []), path]);
  }
  yield* plain.sort(byPath);

  const links: LayerRecord[] = [];
  for (const [layer, open] of layers.entries()) {
    for await (const item of readLayer(open())) {
      if (item.kind !== 'entry' || item.meta.type !== 'file') continue;
      const names = namesBySource.get(sourceKey(layer, item.path))?.sort();
      if (names === undefined) continue;
      namesBySource.delete(sourceKey(layer, item.path));
      const [first, ...others] = names as [string, ...string[]];
      const meta = merged.get(first)?.meta as FileMeta;
      yield { kind: 'entry', path: first, meta, content: item.content };
      for (const other of others) links.push({ kind: 'entry', path: other, meta: { ...meta, type: 'hardlink', linkname: first } });
    }
  }
  if (namesBySource.size > 0) throw new Error(`squash: a layer changed between reads (${[...namesBySource.keys()][0]} missing)`);
  yield* links;
}

/** The merged state of the layers over `base`, without their content. */
export async function mergeLayers(layers: SquashInput['layers'], base: ReadonlyMap<string, FileMeta>): Promise<Merged> {
  const merged: Merged = new Map();
  for (const [layer, open] of layers.entries()) {
    const changes: LayerChange[] = [];
    for await (const { content: _, ...change } of readLayer(open())) changes.push(change);
    mergeLayer(merged, layer, changes, base);
  }
  return merged;
}

export async function squashLayers(input: SquashInput): Promise<LayerResult> {
  const merged = await mergeLayers(input.layers, input.base);
  return writeLayer(squashedRecords(merged, input.layers), input.out, { gzipLevel: input.gzipLevel });
}
