/*
 * Moving file trees between the two sides as tar streams, and deleting what
 * the other side deleted. One module to import; the pieces live by role:
 * archive-format.ts (what our tars carry beyond ustar), archive-pack.ts,
 * archive-unpack.ts, archive-remove.ts. Path checks: safe-path.ts.
 */
export type { Problem } from './archive-format.ts';
export { pack, type PackStream } from './archive-pack.ts';
export { removeEntries, type RemoveResult } from './archive-remove.ts';
export { unpack, type UnpackOptions, type UnpackResult } from './archive-unpack.ts';
