/**
 * What a snapshot layer must hold: `diffTree(index, walked, hidden)` compares the walked tree with
 * the image index and returns the change set, its records already in layer order (parents first,
 * a path's whiteout before its new entry). Pure. `records.length === 0` means nothing changed.
 */
import { ancestorsOf, coveredBy, metaChanged, parentOf, type FileMeta } from './entries.ts';
import type { WalkEntry } from './walk.ts';

export type ChangeRecord =
  | { kind: 'entry'; path: string; entry: WalkEntry }
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string };

export interface ChangeSet {
  /** Walked paths the index lacks, or has with other metadata (type changes included). */
  added: string[];
  changed: string[];
  /** Topmost deleted paths: one whiteout each stands for its whole subtree. */
  deleted: string[];
  /** Directories whose every child from the image is gone: an opaque marker and all they hold now. */
  recreated: string[];
  /** What the layer holds, in order: the above plus hardlink partners and parent directories. */
  records: ChangeRecord[];
}

/** Order within one path: its whiteout, then its entry, then (for a directory) its opaque marker. */
const RANK = { whiteout: 0, entry: 1, opaque: 2 } as const;

function layerOrder(a: ChangeRecord, b: ChangeRecord): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1; // an ancestor is a prefix, so it sorts first
  return RANK[a.kind] - RANK[b.kind];
}

const inodeKey = (e: WalkEntry) => `${e.dev}:${e.ino}`;

/**
 * @param index  the image the container started from (path -> metadata)
 * @param walked every entry the walk listed
 * @param hidden paths whose contents the walk could not see: mount points, unreadable or
 *               other-device directories. Image paths at or under them are not deleted.
 */
export function diffTree(index: ReadonlyMap<string, FileMeta>, walked: readonly WalkEntry[], hidden: Iterable<string>): ChangeSet {
  const hiddenSet = new Set(hidden);
  const now = new Map<string, WalkEntry>();
  for (const entry of walked) now.set(entry.path, entry);

  const added: string[] = [];
  const changed: string[] = [];
  const replacedDirs = new Set<string>(); // image directories now something else
  for (const entry of walked) {
    const before = index.get(entry.path);
    if (before === undefined) added.push(entry.path);
    else if (metaChanged(before, entry)) {
      changed.push(entry.path);
      if (before.type === 'dir' && entry.type !== 'dir') replacedDirs.add(entry.path);
    }
  }

  // An image path is gone if the walk did not list it (and could have) or a non-directory replaced it.
  const gone = (path: string) =>
    index.has(path) && (replacedDirs.has(path) || (!now.has(path) && !coveredBy(path, hiddenSet)));
  const deletedByParent = new Map<string, string[]>();
  for (const path of index.keys()) {
    if (now.has(path) && !replacedDirs.has(path)) continue;
    if (!gone(path) || gone(parentOf(path))) continue;
    const parent = parentOf(path);
    const siblings = deletedByParent.get(parent) ?? [];
    siblings.push(path);
    deletedByParent.set(parent, siblings);
  }
  const recreated = findRecreated(index, deletedByParent, now);
  const deleted = [...deletedByParent.entries()].filter(([dir]) => !recreated.has(dir)).flatMap(([, paths]) => paths);

  const chosen = new Set<string>([...added, ...changed]);
  if (recreated.size > 0) for (const entry of walked) if (coveredBy(entry.path, recreated)) chosen.add(entry.path);
  addHardlinkPartners(chosen, walked, now);

  const records: ChangeRecord[] = [];
  const withParents = new Set<string>();
  const addEntry = (path: string) => {
    if (withParents.has(path)) return;
    const entry = now.get(path);
    if (entry === undefined) return;
    withParents.add(path);
    records.push({ kind: 'entry', path, entry });
  };
  const addAncestors = (path: string) => ancestorsOf(path).forEach(addEntry);
  for (const path of chosen) {
    addEntry(path);
    addAncestors(path);
  }
  for (const path of deleted) {
    records.push({ kind: 'whiteout', path });
    addAncestors(path);
  }
  for (const path of recreated) {
    records.push({ kind: 'opaque', path });
    addEntry(path);
    addAncestors(path);
  }
  records.sort(layerOrder);
  return { added, changed, deleted: deleted.sort(), recreated: [...recreated].sort(), records };
}

/**
 * Directories (still directories) that lost every child the image gave them, like `rm -rf d;
 * mkdir d`: one opaque marker replaces a whiteout per child. Such a directory holds no hidden
 * path: a mount point below it would have kept a child alive.
 */
function findRecreated(index: ReadonlyMap<string, FileMeta>, deletedByParent: Map<string, string[]>, now: Map<string, WalkEntry>): Set<string> {
  const recreated = new Set<string>();
  const candidates = [...deletedByParent.keys()].filter((dir) => dir !== '' && now.get(dir)?.type === 'dir');
  if (candidates.length === 0) return recreated;
  const childCount = new Map<string, number>(candidates.map((dir) => [dir, 0]));
  for (const path of index.keys()) {
    const parent = parentOf(path);
    const count = childCount.get(parent);
    if (count !== undefined) childCount.set(parent, count + 1);
  }
  for (const dir of candidates) if (childCount.get(dir) === deletedByParent.get(dir)?.length) recreated.add(dir);
  return recreated;
}

/** Every other name of a chosen multiply-linked file, so the layer keeps them one inode. */
function addHardlinkPartners(chosen: Set<string>, walked: readonly WalkEntry[], now: Map<string, WalkEntry>): void {
  const byInode = new Map<string, string[]>();
  for (const entry of walked) {
    if (entry.type !== 'file' || entry.nlink < 2) continue;
    const key = inodeKey(entry);
    const names = byInode.get(key) ?? [];
    names.push(entry.path);
    byInode.set(key, names);
  }
  if (byInode.size === 0) return;
  for (const path of [...chosen]) {
    const entry = now.get(path);
    if (entry === undefined || entry.type !== 'file' || entry.nlink < 2) continue;
    for (const partner of byInode.get(inodeKey(entry)) ?? []) chosen.add(partner);
  }
}
