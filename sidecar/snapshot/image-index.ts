/**
 * The image index: every path of an image's merged filesystem with its metadata. Built from the
 * image's layer blobs in order (`buildIndex`), and brought up to date with a layer runbox has just
 * written (`applyChanges`) without reading the base again. OCI semantics: a layer's whiteouts and
 * opaque markers hide only what the layers below it hold.
 */
import { coveredBy, isWithin, parentOf, type FileMeta, type LayerChange } from './entries.ts';
import { readLayer } from './read-layer.ts';

export type ImageIndex = Map<string, FileMeta>;

function removeWhere(index: ImageIndex, doomed: (path: string) => boolean): void {
  for (const path of index.keys()) if (doomed(path)) index.delete(path);
}

/** A hardlink carries its target's metadata, so that the walk (which sees just a file) compares equal. */
function resolveHardlink(index: ImageIndex, meta: FileMeta): FileMeta {
  const target = index.get(meta.linkname);
  if (target === undefined) return meta;
  return { ...target, type: 'hardlink', linkname: meta.linkname, size: target.size };
}

/** Applies one layer's changes over `index` (mutating it). */
export function applyChanges(index: ImageIndex, changes: Iterable<LayerChange>): void {
  const removed = new Set<string>();
  const opaque = new Set<string>();
  const entries: Array<Extract<LayerChange, { kind: 'entry' }>> = [];
  for (const change of changes) {
    if (change.kind === 'whiteout') removed.add(change.path);
    else if (change.kind === 'opaque') opaque.add(change.path);
    else entries.push(change);
  }
  if (removed.size > 0 || opaque.size > 0) {
    removeWhere(index, (path) => coveredBy(path, removed) || coveredBy(parentOf(path), opaque) || opaque.has(''));
  }
  for (const { path, meta } of entries) {
    const before = index.get(path);
    // A non-directory replacing a directory takes the directory's contents with it, as appliers do.
    if (before?.type === 'dir' && meta.type !== 'dir') removeWhere(index, (p) => p !== path && isWithin(p, path));
    index.set(path, meta.type === 'hardlink' ? resolveHardlink(index, meta) : meta);
  }
}

/** Applies one layer blob (gzip'd or plain tar) over `index`. */
export async function applyLayer(index: ImageIndex, blob: AsyncIterable<Uint8Array>): Promise<void> {
  const changes: LayerChange[] = [];
  for await (const { content: _, ...change } of readLayer(blob)) changes.push(change);
  applyChanges(index, changes);
}

/** The index of an image from its layer blobs, lowest first. */
export async function buildIndex(blobs: Iterable<AsyncIterable<Uint8Array>>): Promise<ImageIndex> {
  const index: ImageIndex = new Map();
  for (const blob of blobs) await applyLayer(index, blob);
  return index;
}
