/*
 * removeEntries: deletes what the other side deleted, with the same path
 * checks as unpack (safePath, no symlink in the parent chain). Files and
 * symlinks are unlinked (a link itself, never what it points to); directories
 * only when empty. Deepest paths go first, so a directory listed with its
 * children is empty by the time its turn comes.
 */
import { rmdir, unlink } from 'node:fs/promises';
import { isPerEntry, type Problem } from './archive-format.ts';
import { UnsafePathError, codeOf, lstatOrNull, resolveInside, safePath } from './safe-path.ts';

export interface RemoveResult {
  /** Normalised paths now gone (including those already absent). */
  removed: string[];
  /** Left in place: unsafe paths, non-empty directories, per-entry errors. */
  refused: Problem[];
}

export async function removeEntries(root: string, paths: readonly string[]): Promise<RemoveResult> {
  const removed: string[] = [];
  const refused: Problem[] = [];
  for (const p of [...paths].sort(deepestFirst)) {
    const rel = safePath(p);
    if (rel === undefined) {
      refused.push({ path: p, why: 'not a safe relative path (absolute, "..", NUL or backslash)' });
      continue;
    }
    try {
      const abs = resolveInside(root, rel);
      const st = lstatOrNull(abs);
      if (st?.isDirectory()) await rmdir(abs);
      else if (st !== null) await unlink(abs);
      removed.push(rel);
    } catch (err) {
      const code = codeOf(err);
      if (err instanceof UnsafePathError) refused.push({ path: p, why: err.why });
      else if (code === 'ENOTEMPTY' || code === 'EEXIST') refused.push({ path: p, why: 'directory not empty' });
      else if (isPerEntry(code)) refused.push({ path: p, why: `could not remove it (${code})` });
      else throw err;
    }
  }
  return { removed, refused };
}

function deepestFirst(a: string, b: string): number {
  const depth = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.').length;
  return depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0);
}
