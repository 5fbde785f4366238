/*
 * What our tar streams carry beyond plain ustar, shared by archive-pack.ts and
 * archive-unpack.ts.
 *
 * - Every entry has a PAX header `runbox.mtimems` with the exact mtime in
 *   whole milliseconds (the ustar field keeps whole seconds). tar-stream then
 *   also puts `path` (and `linkpath`) in that PAX header, so long and unicode
 *   names cost nothing more. Other tar readers ignore the key.
 * - A file whose content changed while it was being sent (it came up short,
 *   or its size or mtime moved) has already had its header and size sent. Its
 *   data is padded to the announced size, and the entry is followed by an
 *   empty file entry of the same name with PAX `runbox.discard=1`: our unpack
 *   then throws the file away instead of renaming it into place. Other tar
 *   readers would write an empty file there.
 */
import type { Header } from 'tar-stream';

export const PAX_MTIME_MS = 'runbox.mtimems';
export const PAX_DISCARD = 'runbox.discard';

/** An entry not sent (pack) or not written (unpack, removeEntries), and why. */
export interface Problem {
  path: string;
  why: string;
}

/** A tar-stream header, as given to pack or read back; `pax` is key -> value both ways. */
export type PaxHeaders = Partial<Header> & { name: string; pax?: Record<string, string> | null | undefined };

/** Exact mtime from our PAX key when it is a plain integer, else the tar's whole seconds. */
export function mtimeMsOf(h: PaxHeaders): number {
  const exact = h.pax?.[PAX_MTIME_MS];
  if (exact !== undefined && /^\d{1,15}$/.test(exact)) return Number(exact);
  const t = h.mtime?.getTime();
  return t !== undefined && Number.isFinite(t) ? t : 0;
}

/**
 * Errors that concern one entry (it vanished, is in the way, is not allowed):
 * reported, and the rest goes on. Anything else (ENOSPC, EIO, EROFS...) ends
 * the whole operation.
 */
const PER_ENTRY_CODES = new Set([
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ENOTEMPTY',
  'ELOOP',
  'ENAMETOOLONG',
  'EACCES',
  'EPERM',
  'EINVAL',
  'ERR_INVALID_ARG_VALUE',
]);

export function isPerEntry(code: string | undefined): boolean {
  return code !== undefined && PER_ENTRY_CODES.has(code);
}
