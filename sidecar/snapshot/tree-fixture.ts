/**
 * Test-only: applies a layer blob to a directory the way containerd's applier does (whiteouts,
 * opaque markers, hardlinks, ownership, modes, mtimes), and describes a tree in one comparable
 * line per path (type, mode, owner, mtime, content hash, link target, hardlink group).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { fullMode, isWithin, joinPath, parentOf, type EntryType, type FileMeta } from './entries.ts';
import { readLayer } from './read-layer.ts';

async function collect(content: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function create(full: string, meta: FileMeta, root: string, bytes: Buffer): void {
  switch (meta.type) {
    case 'dir':
      mkdirSync(full, { recursive: true });
      break;
    case 'file':
      writeFileSync(full, bytes);
      break;
    case 'symlink':
      symlinkSync(meta.linkname, full);
      break;
    case 'hardlink':
      linkSync(`${root}/${meta.linkname}`, full);
      return; // the inode keeps its own metadata
    case 'char':
    case 'block':
      execFileSync('mknod', [full, meta.type === 'char' ? 'c' : 'b', String(meta.devmajor), String(meta.devminor)]);
      break;
    case 'fifo':
      execFileSync('mkfifo', [full]);
      break;
  }
  lchownSync(full, meta.uid, meta.gid);
  if (meta.type !== 'symlink') chmodSync(full, meta.mode & 0o7777); // after chown, which clears setuid
  lutimesSync(full, meta.mtime, meta.mtime);
}

export async function extractLayer(blob: AsyncIterable<Uint8Array>, root: string): Promise<void> {
  const unpacked = new Set<string>();
  const dirTimes: Array<[string, number]> = [];
  for await (const item of readLayer(blob)) {
    const full = `${root}/${item.path}`;
    if (item.kind === 'whiteout') {
      rmSync(full, { recursive: true, force: true });
      continue;
    }
    if (item.kind === 'opaque') {
      for (const name of readdirSync(full)) if (!unpacked.has(joinPath(item.path, name))) rmSync(`${full}/${name}`, { recursive: true, force: true });
      continue;
    }
    unpacked.add(item.path);
    mkdirSync(`${root}/${parentOf(item.path)}`, { recursive: true });
    const existing = lstatSync(full, { throwIfNoEntry: false });
    if (existing !== undefined && !(existing.isDirectory() && item.meta.type === 'dir')) rmSync(full, { recursive: true, force: true });
    create(full, item.meta, root, await collect(item.content));
    if (item.meta.type === 'dir') dirTimes.push([full, item.meta.mtime]);
  }
  // Creating children moved the directories' mtimes: set them last, deepest first.
  for (const [full, mtime] of dirTimes.reverse()) utimesSync(full, mtime, mtime);
}

/** One line per path under `root` (sorted), leaving out paths within `exclude`. */
export function describeTree(root: string, exclude: readonly string[] = []): string[] {
  const lines: string[] = [];
  const firstByInode = new Map<number, string>();
  const visit = (dir: string) => {
    for (const name of readdirSync(dir === '' ? root : `${root}/${dir}`).sort()) {
      const path = joinPath(dir, name);
      if (exclude.some((top) => isWithin(path, top))) continue;
      const full = `${root}/${path}`;
      const s = lstatSync(full);
      let detail = '';
      if (s.isFile()) {
        detail = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16);
        if (s.nlink > 1) {
          if (!firstByInode.has(s.ino)) firstByInode.set(s.ino, path);
          detail += ` link-group=${firstByInode.get(s.ino)}`;
        }
      }
      if (s.isSymbolicLink()) detail = `-> ${readlinkSync(full)}`;
      if (s.isCharacterDevice() || s.isBlockDevice()) detail = `rdev=${s.rdev}`;
      lines.push(`${path} ${s.mode.toString(8)} ${s.uid}:${s.gid} mtime=${Math.floor(s.mtimeMs / 1000)} size=${s.isFile() ? s.size : 0} ${detail}`);
      if (s.isDirectory()) visit(path);
    }
  };
  visit('');
  return lines;
}

/** Metadata for tests: root-owned, 755 directories and 644 files, at `mtime`, with `extra` over it. */
export const testMeta = (type: EntryType, mtime: number, extra: Partial<FileMeta> = {}): FileMeta => ({
  type,
  mode: fullMode(type, type === 'dir' ? 0o755 : 0o644),
  uid: 0,
  gid: 0,
  size: 0,
  mtime,
  linkname: '',
  devmajor: 0,
  devminor: 0,
  ...extra,
});
