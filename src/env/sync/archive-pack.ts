/*
 * pack: the listed entries under a root as a tar stream (format notes in
 * archive-format.ts). One file is open at a time and read in 64 KiB chunks
 * only as fast as the consumer takes them, so memory does not grow with file
 * size.
 *
 * The entries are what the other side decided to fetch, so they are checked
 * like anything else from outside: safePath, no symlink in the parent chain,
 * and files opened with O_NOFOLLOW (a file that became a link is skipped, not
 * followed). O_NONBLOCK keeps a file that became a fifo from blocking the open.
 */
import { constants as fsc } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pack as tarPack, type Pack } from 'tar-stream';
import { PAX_DISCARD, PAX_MTIME_MS, isPerEntry, type PaxHeaders, type Problem } from './archive-format.ts';
import { UnsafePathError, codeOf, resolveInside, safePath } from './safe-path.ts';
import type { Entry, EntryType } from './types.ts';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);
const NO_DATA = Buffer.alloc(0);
type Sink = ReturnType<Pack['entry']>;
/** tar-stream replaces a mode of 0 by its default: always pass the type bits too. */
const TYPE_BITS: Record<EntryType, number> = { file: fsc.S_IFREG, dir: fsc.S_IFDIR, symlink: fsc.S_IFLNK };

export interface PackStream extends Readable {
  /**
   * Entries left out or sent and then discarded (vanished, changed since they
   * were listed or while being read, unsafe path), with the reason. Complete
   * once the stream has ended.
   */
  readonly skipped: Problem[];
}

/**
 * A tar stream of `entries` read from under `root`. A file is sent only if its
 * size and mtime still match its entry; its mode and mtime are the entry's.
 * Errors that concern one entry skip it; others (EIO on a directory, the
 * consumer destroying the stream) end the stream with an error.
 */
export function pack(root: string, entries: readonly Entry[]): PackStream {
  const p = tarPack();
  const skipped: Problem[] = [];
  const out = Readable.from(p, { objectMode: false });
  packAll(root, entries, p, skipped).then(
    () => {
      if (!isClosing(p)) p.finalize();
    },
    (err: unknown) => p.destroy(err instanceof Error ? err : new Error(String(err))),
  );
  return Object.assign(out, { skipped });
}

async function packAll(root: string, entries: readonly Entry[], p: Pack, skipped: Problem[]): Promise<void> {
  for (const e of entries) {
    if (isClosing(p)) return;
    const why = await packOne(root, e, p);
    if (why !== undefined) skipped.push({ path: e.path, why });
  }
}

/** Sends one entry; returns why it was skipped, if it was. */
async function packOne(root: string, e: Entry, p: Pack): Promise<string | undefined> {
  if (safePath(e.path) !== e.path) return 'not a safe relative path';
  try {
    const abs = resolveInside(root, e.path);
    switch (e.type) {
      case 'file':
        return await packFile(abs, e, p);
      case 'dir':
        return await packDir(abs, e, p);
      case 'symlink':
        return await packLink(abs, e, p);
      default: {
        const never: never = e.type;
        return `unknown entry type ${String(never)}`;
      }
    }
  } catch (err) {
    if (err instanceof UnsafePathError) return err.why;
    const code = codeOf(err);
    if (isPerEntry(code)) return code === 'ENOENT' ? 'vanished' : `cannot read it (${code})`;
    throw err;
  }
}

async function packDir(abs: string, e: Entry, p: Pack): Promise<string | undefined> {
  if (!(await lstat(abs)).isDirectory()) return 'no longer a directory';
  await addEntry(p, headerOf(e, { type: 'directory' }));
  return undefined;
}

async function packLink(abs: string, e: Entry, p: Pack): Promise<string | undefined> {
  if (!(await lstat(abs)).isSymbolicLink()) return 'no longer a symbolic link';
  const target = await readlink(abs);
  if (e.target !== undefined && e.target !== target) return 'link target changed since it was listed';
  await addEntry(p, headerOf(e, { type: 'symlink', linkname: target }));
  return undefined;
}

async function packFile(abs: string, e: Entry, p: Pack): Promise<string | undefined> {
  const fh = await open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    const before = await fh.stat();
    if (!before.isFile()) return 'no longer a regular file';
    if (before.size !== e.size || Math.abs(before.mtimeMs - e.mtimeMs) >= 1) {
      return `changed since it was listed (size ${e.size} -> ${before.size}, mtime ${e.mtimeMs} -> ${Math.floor(before.mtimeMs)})`;
    }
    // From here the header (and so the size) is out: the data must follow in full.
    let why = await sendData(fh, e, p);
    if (why === undefined) {
      const after = await fh.stat();
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) why = 'changed while being sent';
    }
    if (why !== undefined) {
      await addEntry(p, headerOf(e, { type: 'file', size: 0, pax: { [PAX_DISCARD]: '1' } }));
    }
    return why;
  } finally {
    await fh.close();
  }
}

/** Streams the file's `e.size` bytes; if it comes up short, pads with zeros and says why. */
async function sendData(fh: FileHandle, e: Entry, p: Pack): Promise<string | undefined> {
  let settle: (err?: Error | null) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // Awaited below; marked handled so a destroy while we wait on drain is not an unhandled rejection.
  done.catch(() => {});
  const sink = p.entry(headerOf(e, { type: 'file', size: e.size }), (err) => settle(err));
  let short: string | undefined;
  for (let pos = 0; pos < e.size; ) {
    const want = Math.min(CHUNK, e.size - pos);
    let chunk = ZEROS.subarray(0, want);
    if (short === undefined) {
      try {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead > 0) chunk = buf.subarray(0, bytesRead);
        else short = `shrank while being sent (${pos} of ${e.size} bytes read)`;
      } catch (err) {
        short = `read failed while being sent (${codeOf(err) ?? String(err)})`;
      }
    }
    pos += chunk.length;
    if (!sink.write(chunk)) await drained(sink);
  }
  sink.end(undefined);
  await done;
  return short;
}

function headerOf(e: Entry, h: Omit<PaxHeaders, 'name'>): PaxHeaders {
  const ms = Math.max(0, Math.floor(e.mtimeMs));
  return {
    name: e.path,
    mode: TYPE_BITS[e.type] | (e.mode & 0o7777),
    mtime: new Date(ms),
    ...h,
    pax: { [PAX_MTIME_MS]: String(ms), ...h.pax },
  };
}

/** Adds an entry without data (dir, symlink, empty marker file); resolves once it is in the stream. */
function addEntry(p: Pack, h: PaxHeaders): Promise<void> {
  return new Promise((resolve, reject) => {
    // The empty buffer also ends the entry: a file entry (the marker) otherwise waits for end().
    p.entry(h, NO_DATA, (err) => (err ? reject(err) : resolve()));
  });
}

/** Resolves on 'drain'; rejects if the entry stream closes first (the tar stream was destroyed). */
function drained(w: Sink): Promise<void> {
  if (w.destroyed) return Promise.reject(new Error('tar stream closed'));
  return new Promise((resolve, reject) => {
    const finish = (err?: Error) => {
      w.off('drain', onDrain);
      w.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => finish();
    const onClose = () => finish(new Error('tar stream closed'));
    w.on('drain', onDrain);
    w.on('close', onClose);
  });
}

/** streamx (tar-stream's base) sets `destroying` as soon as destroy is called. */
function isClosing(s: Pack): boolean {
  return s.destroying || s.destroyed;
}
