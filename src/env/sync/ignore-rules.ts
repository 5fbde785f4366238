/*
 * Which paths sync leaves alone: a `.runboxignore` at the synced root, in
 * gitignore syntax, matched by the `ignore` package (the matcher eslint and
 * others use). This file is the only one that imports it.
 *
 * - Only the root's `.runboxignore` counts; one in a subfolder is an ordinary
 *   file. `.runboxignore` itself is always synced, whatever it says, so both
 *   sides end up with the same rules.
 * - Matching is case-sensitive, as git's is on Linux (the side in the pod),
 *   whatever the laptop's file system does.
 * - As in git, a path under an ignored directory cannot be re-included with
 *   `!`: readManifest does not descend into ignored directories.
 * - A symlink is matched as a file, even when it points at a directory (we
 *   never follow links), so `build/` does not match a link named `build`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore from 'ignore';
import { RunboxError } from '../../errors.ts';
import { codeOf } from './safe-path.ts';

export const IGNORE_FILE = '.runboxignore';

/** True if `path` (relative POSIX, as in a Manifest) is left out of sync. */
export type IgnoreFn = (path: string, isDir: boolean) => boolean;

/** The matcher for the text of a `.runboxignore`; undefined (no file) ignores nothing. */
export function ignoreRules(text: string | undefined): IgnoreFn {
  if (text === undefined || text.trim() === '') return () => false;
  const rules = ignore({ ignorecase: false }).add(text);
  // A trailing slash makes dir-only patterns ("build/") match the directory itself.
  return (p, isDir) => p !== IGNORE_FILE && rules.ignores(isDir ? `${p}/` : p);
}

/** The matcher for `root/.runboxignore`, or one that ignores nothing when there is no such file. */
export async function readIgnoreRules(root: string): Promise<IgnoreFn> {
  const file = path.join(root, IGNORE_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') {
      throw new RunboxError(`Cannot read ${file}`, { cause: err, hint: 'Check that the file is readable.' });
    }
  }
  return withRunboxState(ignoreRules(text));
}

/** runbox's own shell state (cwd, exported variables) lives in /data/.runbox: it is not the user's files. */
const RUNBOX_STATE = '.runbox';
const withRunboxState = (rules: IgnoreFn): IgnoreFn => (p, isDir) => p === RUNBOX_STATE || p.startsWith(`${RUNBOX_STATE}/`) || rules(p, isDir);
