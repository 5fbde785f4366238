/*
 * The shapes the sync pieces share (manifest, decide, archive, session).
 * Paths are POSIX, relative to the synced root, never starting with "/" and
 * never containing "." or ".." segments (see safePath in safe-path.ts).
 */

export type EntryType = 'file' | 'dir' | 'symlink';

export interface Entry {
  path: string;
  type: EntryType;
  /** Bytes, files only (0 otherwise). */
  size: number;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  /** Whole milliseconds. */
  mtimeMs: number;
  /** Symlinks only: the link's target, as stored. */
  target?: string | undefined;
  /** sha256 hex of the content, files only, set only where size and mtime cannot decide. */
  hash?: string | undefined;
}

/** A tree: path -> entry. */
export type Manifest = Map<string, Entry>;

export type Side = 'local' | 'remote';

export type Action =
  | { kind: 'copy'; from: Side; entry: Entry }
  | { kind: 'delete'; on: Side; entry: Entry }
  /**
   * Changed on both sides (see decide.ts). On side `aside`, that side's version
   * moves to `keepAs` (a rename: a directory moves with everything under it)
   * and the other side's version is copied to `path`. With `twoWay`, the
   * version moved aside is also copied to `keepAs` on the other side (for a
   * directory, the directory itself: what is under it follows as copy actions
   * from `aside` with paths under `keepAs`). Without `twoWay` (one-way sync),
   * the other side is not touched.
   */
  | {
      kind: 'conflict';
      path: string;
      local: Entry | undefined;
      remote: Entry | undefined;
      keepAs: string;
      aside: Side;
      twoWay: boolean;
    };
