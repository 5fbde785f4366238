/**
 * How a layer change looks as a tar header, both ways: `toHeader(change)` for writing (whiteout
 * names, PAX for what ustar cannot hold) and `fromHeader(header)` for reading (path sanitising,
 * whiteout and opaque markers, PAX overrides). Knows the OCI layer format; does no I/O.
 */
import type { Header } from 'tar-stream';

/** What tar-stream's pack takes: a partial header with a name (pax: extra PAX records it writes). */
export type TarHeader = Partial<Header> & { name: string };
import { baseName, fullMode, joinPath, parentOf, type EntryType, type FileMeta, type LayerChange } from './entries.ts';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** Largest value of an 8-byte octal ustar field (uid, gid); beyond it the value goes in PAX. */
const MAX_OCTAL_ID = 0o7777777;
/** tar-stream writes mtime as a signed 32-bit number; anything outside goes in PAX. */
const MAX_USTAR_MTIME = 2 ** 31 - 1;

const TAR_TYPE = {
  file: 'file',
  hardlink: 'link',
  dir: 'directory',
  symlink: 'symlink',
  char: 'character-device',
  block: 'block-device',
  fifo: 'fifo',
} as const satisfies Record<EntryType, Header['type']>;

const ENTRY_TYPE: Partial<Record<Header['type'], EntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  link: 'hardlink',
  directory: 'dir',
  symlink: 'symlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

/** The name a change takes inside the tar. */
export function tarName(change: LayerChange): string {
  switch (change.kind) {
    case 'whiteout':
      return joinPath(parentOf(change.path), WHITEOUT_PREFIX + baseName(change.path));
    case 'opaque':
      return joinPath(change.path, OPAQUE_MARKER);
    case 'entry':
      return change.meta.type === 'dir' ? `${change.path}/` : change.path;
    default:
      return change satisfies never;
  }
}

const EMPTY_FILE: FileMeta = {
  type: 'file',
  mode: fullMode('file', 0o644),
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 0,
  linkname: '',
  devmajor: 0,
  devminor: 0,
};

/**
 * The tar header for a change. Whiteouts and opaque markers are empty regular files. The full
 * st_mode is passed because tar-stream replaces a mode of 0 with its default (a 0o000 file
 * would come out 0o644); it writes only the low 12 bits.
 */
export function toHeader(change: LayerChange): TarHeader {
  const meta = change.kind === 'entry' ? change.meta : EMPTY_FILE;
  const pax: Record<string, string> = {};
  if (meta.uid > MAX_OCTAL_ID) pax.uid = String(meta.uid);
  if (meta.gid > MAX_OCTAL_ID) pax.gid = String(meta.gid);
  if (meta.mtime < 0 || meta.mtime > MAX_USTAR_MTIME) pax.mtime = String(meta.mtime);
  const header: TarHeader = {
    name: tarName(change),
    type: TAR_TYPE[meta.type],
    mode: meta.mode,
    uid: Math.min(meta.uid, MAX_OCTAL_ID),
    gid: Math.min(meta.gid, MAX_OCTAL_ID),
    size: meta.type === 'file' ? meta.size : 0,
    mtime: new Date(Math.min(Math.max(meta.mtime, 0), MAX_USTAR_MTIME) * 1000),
    linkname: meta.type === 'symlink' || meta.type === 'hardlink' ? meta.linkname : '',
    devmajor: meta.devmajor,
    devminor: meta.devminor,
  };
  // With `pax` set, tar-stream writes a PAX header (path and linkpath included) before the ustar one.
  if (Object.keys(pax).length > 0) header.pax = pax;
  return header;
}

/**
 * A tar member name as a relative path: no leading './' or '/', no trailing '/'; undefined if it
 * would leave the root ('..') — tar-stream does no sanitising of its own.
 */
export function sanitizePath(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.join('/');
}

const paxNumber = (pax: unknown, key: string) => {
  const value = typeof pax === 'object' && pax !== null ? (pax as Record<string, unknown>)[key] : undefined;
  return value === undefined || value === '' ? undefined : Number(value);
};

/**
 * The change a tar header makes, or undefined for members a layer cannot mean (the root itself,
 * unsafe paths, PAX globals, aufs metadata such as `.wh..wh.plnk`).
 */
export function fromHeader(header: TarHeader): LayerChange | undefined {
  const path = sanitizePath(header.name);
  const type = header.type ? ENTRY_TYPE[header.type] : 'file';
  if (path === undefined || path === '' || type === undefined) return undefined;
  const name = baseName(path);
  if (name === OPAQUE_MARKER) return { kind: 'opaque', path: parentOf(path) };
  // aufs keeps its own metadata under `.wh..wh.*` names (hardlink farms like .wh..wh.plnk).
  if (path.split('/').some((part) => part.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`))) return undefined;
  if (name.startsWith(WHITEOUT_PREFIX)) {
    return { kind: 'whiteout', path: joinPath(parentOf(path), name.slice(WHITEOUT_PREFIX.length)) };
  }
  let linkname = header.linkname ?? '';
  if (type === 'hardlink') {
    const target = sanitizePath(linkname);
    if (target === undefined || target === '') return undefined;
    linkname = target;
  }
  const mtime = paxNumber(header.pax, 'mtime') ?? (header.mtime?.getTime() ?? 0) / 1000;
  const meta: FileMeta = {
    type,
    mode: fullMode(type, header.mode ?? 0),
    uid: paxNumber(header.pax, 'uid') ?? header.uid ?? 0,
    gid: paxNumber(header.pax, 'gid') ?? header.gid ?? 0,
    size: type === 'file' ? (header.size ?? 0) : 0,
    mtime: Math.floor(mtime),
    linkname: type === 'symlink' || type === 'hardlink' ? linkname : '',
    devmajor: type === 'char' || type === 'block' ? (header.devmajor ?? 0) : 0,
    devminor: type === 'char' || type === 'block' ? (header.devminor ?? 0) : 0,
  };
  return { kind: 'entry', path, meta };
}
