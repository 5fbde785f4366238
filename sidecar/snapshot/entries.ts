/**
 * The vocabulary shared by the snapshotter's modules: a file's metadata as a layer records it
 * (`FileMeta`), and one change a layer makes to the tree below it (`LayerChange`).
 * Paths are relative to the root, '/'-separated, without a leading or trailing slash.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FileMeta {
  type: EntryType;
  /** Full st_mode: file-type bits plus permissions, setuid, setgid and sticky (a tar header keeps 0o7777 of it). */
  mode: number;
  uid: number;
  gid: number;
  /** Content length of a regular file (for a hardlink: its target's); 0 for everything else. */
  size: number;
  /** Whole seconds since the epoch: all a tar header keeps, so all we compare. */
  mtime: number;
  /** A symlink's target as stored, or the path a hardlink points at; '' otherwise. */
  linkname: string;
  devmajor: number;
  devminor: number;
}

export type LayerChange =
  | { kind: 'entry'; path: string; meta: FileMeta }
  /** Removes `path` and everything under it from the layers below. */
  | { kind: 'whiteout'; path: string }
  /** Hides every child the layers below gave the directory `path`. */
  | { kind: 'opaque'; path: string };

export const S_IFMT = 0o170000;
const TYPE_BITS: Record<EntryType, number> = {
  file: 0o100000,
  hardlink: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
};

/** st_mode for a type and its permission bits (tar headers carry only the latter). */
export const fullMode = (type: EntryType, permissions: number) => TYPE_BITS[type] | (permissions & 0o7777);

/** A hardlink is a regular file that happens to share its inode. */
export const fileKind = (type: EntryType): EntryType => (type === 'hardlink' ? 'file' : type);

/**
 * Whether `now` differs from `before` in anything a layer would record. Directories compare by
 * ownership and mode only: their mtime moves whenever a child changes, which the child's own
 * entry already says.
 */
export function metaChanged(before: FileMeta, now: FileMeta): boolean {
  if (fileKind(before.type) !== fileKind(now.type)) return true;
  if (before.mode !== now.mode || before.uid !== now.uid || before.gid !== now.gid) return true;
  switch (fileKind(now.type)) {
    case 'dir':
      return false;
    case 'symlink':
      return before.linkname !== now.linkname || before.mtime !== now.mtime;
    case 'char':
    case 'block':
      return before.devmajor !== now.devmajor || before.devminor !== now.devminor || before.mtime !== now.mtime;
    default:
      return before.size !== now.size || before.mtime !== now.mtime;
  }
}

export const parentOf = (path: string) => {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
};

export const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export const joinPath = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

/** Every proper ancestor of `path`, nearest first, the root ('') excluded. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = parentOf(path); p !== ''; p = parentOf(p)) out.push(p);
  return out;
}

/** Whether `path` is `top` or lies under it. */
export const isWithin = (path: string, top: string) =>
  top === '' || path === top || (path.startsWith(top) && path.charCodeAt(top.length) === 47);

/** Whether `path` or one of its ancestors is in `set` (cheap for the handful of mount points). */
export function coveredBy(path: string, set: ReadonlySet<string>): boolean {
  if (set.size === 0) return false;
  for (let p = path; p !== ''; p = parentOf(p)) if (set.has(p)) return true;
  return false;
}
