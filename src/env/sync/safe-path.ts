/*
 * Path checks for everything sync writes, reads or deletes under a root on
 * behalf of the other side. kubectl cp's untar trusted names and symlinks and
 * collected a string of CVEs (CVE-2018-1002100, CVE-2019-1002101, -11246,
 * -11249, -11251): names with "..", absolute names, and a symlink in the
 * archive followed by a file "under" it. Here, a name must pass `safePath`,
 * and no existing component of its parent chain under the root may be a
 * symlink (`resolveInside`). The last component may be a symlink: callers
 * replace it by rename or unlink it, and never open it for writing.
 *
 * Known limit: the check and the later open/rename are separate system calls
 * (Node has no openat), so a process on the same machine that swaps a checked
 * directory for a symlink in between is not stopped. The threat handled is a
 * hostile archive or request, not a hostile local process.
 */
import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { RunboxError } from '../../errors.ts';

/** A path from the other side that must not be written, read or deleted: which, and why. */
export class UnsafePathError extends RunboxError {
  readonly path: string;
  readonly why: string;
  constructor(p: string, why: string) {
    super(`refusing ${JSON.stringify(p)}: ${why}`);
    this.name = 'UnsafePathError';
    this.path = p;
    this.why = why;
  }
}

/** Segments of one or more characters, none "." or "..", no NUL or backslash, no leading or trailing "/". */
const NORMAL = /^(?!\.\.?(?:\/|$))[^/\0\\]+(?:\/(?!\.\.?(?:\/|$))[^/\0\\]+)*$/;

/**
 * The normalised form of a relative POSIX path from the other side, or
 * undefined when it must be refused.
 *
 * Normalising only drops empty and "." segments ("a//b/./c/" -> "a/b/c").
 * Refused: empty or only "."/"/" segments, absolute ("/x"), any ".." segment
 * (even "a/../b", which would stay inside: it is never produced by our own
 * side, so it is treated as hostile), NUL bytes, and any backslash. A
 * backslash is a legal character in a Linux file name, but a separator on
 * Windows, so "..\\x" would escape there; such names are refused on every
 * platform (the other side reports them) rather than ever treated as separators.
 */
export function safePath(p: string): string | undefined {
  // Most names are in normal form already: checked without splitting (a state of 10,000 paths is read on every sync).
  if (NORMAL.test(p)) return p;
  if (p.length === 0 || p.startsWith('/')) return undefined;
  if (p.includes('\0') || p.includes('\\')) return undefined;
  const kept: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '..') return undefined;
    if (seg === '' || seg === '.') continue;
    kept.push(seg);
  }
  return kept.length === 0 ? undefined : kept.join('/');
}

export interface ResolveOptions {
  /** Create missing parent directories (mode 0o755 less the umask), one at a time, checking each. */
  createParents?: boolean;
}

/**
 * The absolute path of `rel` under `root`, after checking with lstat that no
 * existing directory between root and it is a symlink (or not a directory).
 * `root` itself is trusted and may be a symlink. Throws UnsafePathError.
 *
 * Synchronous, as lstatOrNull: these calls answer in microseconds, where a
 * thread-pool round trip each was most of what writing one small file cost
 * the sidecar's warm agent (at 50m, every millisecond counts).
 */
export function resolveInside(root: string, rel: string, opts: ResolveOptions = {}): string {
  const clean = safePath(rel);
  if (clean === undefined) throw new UnsafePathError(rel, 'not a safe relative path');
  const base = path.resolve(root);
  const segs = clean.split('/');
  let dir = base;
  let missing = false;
  for (let i = 0; i < segs.length - 1; i++) {
    dir = path.join(dir, segs[i] as string);
    if (!missing) missing = !checkDir(dir, clean, base);
    if (missing && opts.createParents === true) {
      mkdirChecked(dir, clean, base);
      missing = false;
    }
  }
  return path.join(base, clean);
}

/** True if `dir` is a real directory, false if it does not exist; throws if it is anything else. */
function checkDir(dir: string, rel: string, base: string): boolean {
  const st = lstatOrNull(dir);
  if (st === null) return false;
  const shown = path.relative(base, dir);
  if (st.isSymbolicLink()) throw new UnsafePathError(rel, `"${shown}" is a symbolic link`);
  if (!st.isDirectory()) throw new UnsafePathError(rel, `"${shown}" is not a directory`);
  return true;
}

function mkdirChecked(dir: string, rel: string, base: string): void {
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (err) {
    // Created meanwhile (or a link put there): check what it is now.
    if (codeOf(err) !== 'EEXIST') throw err;
    if (!checkDir(dir, rel, base)) throw err;
  }
}

/** The errno code of a Node system error, if any. */
export function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** lstat, or null when nothing is there. */
export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return null;
    throw err;
  }
}
