/**
 * Turns a change set into layer records whose file content streams from the walked root:
 * `diskRecords(root, changes.records, { onSkip })`. Files sharing an inode become one file and
 * hardlinks to it. A file that vanished or was replaced since the walk is skipped and reported:
 * the index then keeps its old state, so the next snapshot sees it again.
 */
import { closeSync, constants, fstatSync, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ChangeRecord } from './diff.ts';
import type { FileMeta } from './entries.ts';
import type { LayerRecord } from './layer.ts';
import { entryFromStats, type WalkEntry } from './walk.ts';

export interface SkippedFile {
  path: string;
  reason: 'vanished' | 'replaced';
}

export interface DiskSourceOptions {
  onSkip?: (skipped: SkippedFile) => void;
}

const CHUNK = 256 * 1024;
/**
 * Files up to this size are read whole, with synchronous calls: most files are small, and four
 * thread-pool round trips per file (open, stat, read, close) cost 5x the bytes (5 s for 50k
 * files). Bigger files stream with asynchronous reads.
 */
const WHOLE = 64 * 1024;
const readAsync = promisify(read);

/** Reads into `buffer` from `position` until full or end of file; returns the bytes read. */
function fillSync(fd: number, buffer: Buffer, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Exactly `size` bytes of the file: if it shrinks while being read, zeros make up the rest and if
 * it grows the excess is left, so the tar member always matches its header.
 */
async function* exactBytes(fd: number, size: number): AsyncGenerator<Uint8Array> {
  let position = 0;
  while (position < size) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size - position));
    const { bytesRead } = await readAsync(fd, buffer, 0, buffer.length, position);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - position);
      return;
    }
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * Opens a walked regular file without following a symlink, and checks it is still the inode the
 * walk saw: inside /proc/<pid>/root an absolute symlink would resolve against the sidecar's own
 * root, so a swapped path must never be read.
 */
function openWalked(root: string, entry: WalkEntry): { fd: number; now: WalkEntry } | SkippedFile['reason'] {
  let fd: number;
  try {
    fd = openSync(`${root}/${entry.path}`, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'vanished';
    if (code === 'ELOOP') return 'replaced';
    throw err;
  }
  const stats = fstatSync(fd, { bigint: true });
  const now = entryFromStats(entry.path, stats, '');
  if (now === undefined || now.type !== 'file' || stats.ino !== entry.ino || stats.dev !== entry.dev) {
    closeSync(fd);
    return 'replaced';
  }
  return { fd, now };
}

const metaOf = ({ path: _p, dev: _d, ino: _i, nlink: _n, ...meta }: WalkEntry): FileMeta => meta;

export async function* diskRecords(root: string, records: readonly ChangeRecord[], options: DiskSourceOptions = {}): AsyncGenerator<LayerRecord> {
  const firstName = new Map<string, { path: string; meta: FileMeta }>(); // inode -> first path written
  for (const record of records) {
    if (record.kind !== 'entry') {
      yield record;
      continue;
    }
    const { entry } = record;
    if (entry.type !== 'file') {
      yield { kind: 'entry', path: record.path, meta: metaOf(entry) };
      continue;
    }
    const inode = `${entry.dev}:${entry.ino}`;
    const first = entry.nlink > 1 ? firstName.get(inode) : undefined;
    if (first !== undefined) {
      yield { kind: 'entry', path: record.path, meta: { ...first.meta, type: 'hardlink', linkname: first.path } };
      continue;
    }
    const opened = await openWalked(root, entry);
    if (typeof opened === 'string') {
      options.onSkip?.({ path: record.path, reason: opened });
      continue;
    }
    const { fd, now } = opened;
    try {
      // Metadata as of opening, so the header matches the bytes that follow it.
      const meta = metaOf(now);
      let content: LayerRecord['content'];
      if (meta.size <= WHOLE) {
        const buffer = Buffer.alloc(meta.size); // zero-filled: a file that shrank meanwhile reads short
        fillSync(fd, buffer, 0);
        content = [buffer];
      } else content = exactBytes(fd, meta.size);
      yield { kind: 'entry', path: record.path, meta, content };
      if (entry.nlink > 1) firstName.set(inode, { path: record.path, meta });
    } finally {
      closeSync(fd);
    }
  }
}
