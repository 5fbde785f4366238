/*
 * unpack: writes a tar stream from the other side under a root, refusing
 * whatever could land outside it or go through a symlink.
 *
 * - Names go through safePath, and their parent chains through resolveInside
 *   (which creates missing directories one at a time, checking each).
 * - Only files, directories and symlinks are written; hard links, devices,
 *   fifos and anything else are refused. A refused entry is drained, reported
 *   and never aborts the rest.
 * - A file is written to a temp name (temp-name.ts) beside it (O_EXCL, so never
 *   through a link), gets its mode and mtime, and is renamed into place: an
 *   interrupted stream leaves the old file or the new one, and the temp files
 *   are removed before unpack rejects. (No fsync: this survives a cut stream or
 *   a killed process, not a power loss.) The rename happens when the next
 *   entry starts, so that a `runbox.discard` marker (archive-format.ts) can
 *   still cancel it.
 * - Metadata calls (lstat, mkdir, open, chmod, utimes, rename...) are
 *   synchronous: they answer in microseconds, and a thread-pool round trip
 *   each was most of the sidecar's CPU for an upload of one small file. Data
 *   goes through the thread pool, so a slow disk never stalls the event loop.
 * - A symlink is created beside its place and renamed over whatever file or
 *   link is there; its target is data and may point anywhere.
 * - Directories get their mode and mtime after everything else is written.
 * - Something of another kind in the way: a file or link replaces a file or
 *   link; a directory replaces a file or link; a file or link is refused where
 *   a directory stands (deleting trees is removeEntries' job, not unpack's).
 */
import { chmodSync, closeSync, fchmodSync, fdatasync, futimesSync, lutimesSync, mkdirSync, openSync, renameSync, symlinkSync, unlinkSync, write } from 'node:fs';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extract as tarExtract, type ExtractEvents } from 'tar-stream';
import { RunboxError } from '../../errors.ts';
import { PAX_DISCARD, isPerEntry, mtimeMsOf, type PaxHeaders, type Problem } from './archive-format.ts';
import { UnsafePathError, codeOf, lstatOrNull, resolveInside, safePath } from './safe-path.ts';
import { tempName } from './temp-name.ts';
import type { Entry, EntryType } from './types.ts';

/** One entry of an extract: its header and a stream of its data. */
type TarEntry = ExtractEvents['entry'][1];


export interface UnpackOptions {
  /** Called as each entry is in place (directories last, once their mode and mtime are set). */
  onEntry?: (e: Entry) => void;
  /**
   * The entries asked for (path -> type): anything else the other side sends
   * is refused, so it can write neither into an ignored folder nor over a
   * file it was not asked for (which would bypass conflict detection).
   */
  expected?: ReadonlyMap<string, EntryType>;
}

export interface UnpackResult {
  written: Entry[];
  refused: Problem[];
}

/**
 * Extracts `tar` under `root` (created if missing; root itself is trusted and
 * may be a symlink). Rejects (with a RunboxError, after removing its
 * temp files and destroying `tar`) if the stream is corrupt or cut, or on an
 * error that is not about one entry (ENOSPC, EIO...).
 */
export async function unpack(root: string, tar: Readable, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const ex = tarExtract();
  // The iterator listens for entries and errors from its creation: make it before anything can flow.
  const it = ex[Symbol.asyncIterator]();
  const onSourceError = (err: Error) => ex.destroy(err);
  tar.on('error', onSourceError);
  tar.pipe(ex);
  const u = new Unpacker(path.resolve(root), opts);
  try {
    mkdirSync(root, { recursive: true });
    for await (const entry of { [Symbol.asyncIterator]: () => it }) await u.take(entry);
    await u.commitPending();
    await u.finishDirs();
    return { written: u.written, refused: u.refused };
  } catch (err) {
    await u.removeTemps();
    tar.unpipe(ex);
    tar.destroy();
    const why = err instanceof Error ? err.message : String(err);
    throw new RunboxError(`sync: could not unpack into ${root}: ${why}`, { cause: err });
  } finally {
    tar.off('error', onSourceError);
  }
}

/** The tar types sync writes, as entry types. */
const TAR_TYPES: Record<string, EntryType | undefined> = { file: 'file', directory: 'dir', symlink: 'symlink' };

interface Pending {
  tmp: string;
  abs: string;
  entry: Entry;
}

class Unpacker {
  readonly written: Entry[] = [];
  readonly refused: Problem[] = [];
  private readonly temps = new Set<string>();
  private readonly dirs: { abs: string; entry: Entry }[] = [];
  private pending: Pending | undefined;
  private readonly root: string;
  private readonly opts: UnpackOptions;

  constructor(root: string, opts: UnpackOptions) {
    this.root = root;
    this.opts = opts;
  }

  /** Handles one entry, always consuming its data. */
  async take(t: TarEntry): Promise<void> {
    const h = t.header as PaxHeaders;
    if (h.pax?.[PAX_DISCARD] !== undefined) {
      await drain(t);
      return this.discard(h.name);
    }
    await this.commitPending();
    const rel = safePath(h.name);
    if (rel === undefined) return this.refuse(t, h.name, 'not a safe relative path (absolute, "..", NUL or backslash)');
    const entry: Entry = { path: rel, type: 'file', size: 0, mode: (h.mode ?? 0) & 0o7777, mtimeMs: mtimeMsOf(h) };
    const asked = this.opts.expected?.get(rel);
    if (this.opts.expected && asked !== TAR_TYPES[String(h.type)]) return this.refuse(t, rel, asked ? `sent as a ${String(h.type)}, asked for a ${asked}` : 'not asked for');
    try {
      switch (h.type) {
        case 'file':
          return await this.file(t, { ...entry, size: h.size ?? 0 });
        case 'directory':
          return await this.dir(t, { ...entry, type: 'dir' });
        case 'symlink':
          return await this.symlink(t, { ...entry, type: 'symlink', mode: 0o777, target: h.linkname ?? '' });
        case 'link':
          return await this.refuse(t, rel, 'hard links are not supported');
        case 'character-device':
        case 'block-device':
        case 'fifo':
          return await this.refuse(t, rel, `${h.type} entries are not supported`);
        default:
          // No never-check: the type comes off the wire (tar-stream gives null for unknown typeflags).
          return await this.refuse(t, rel, `unsupported entry type ${String(h.type)}`);
      }
    } catch (err) {
      if (err instanceof UnsafePathError) return this.refuse(t, rel, err.why);
      const code = codeOf(err);
      if (isPerEntry(code)) return this.refuse(t, rel, `could not write it (${code})`);
      throw err;
    }
  }

  private async file(t: TarEntry, entry: Entry): Promise<void> {
    const abs = resolveInside(this.root, entry.path, { createParents: true });
    if (lstatOrNull(abs)?.isDirectory()) return this.refuse(t, entry.path, 'a directory is in the way');
    const tmp = this.tempBeside(abs);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      let size = 0;
      let unsynced = 0;
      for await (const chunk of t as AsyncIterable<Buffer>) {
        await writeAll(fd, chunk);
        size += chunk.length;
        unsynced += chunk.length;
        // Dirty pages count against the container's memory limit, and cgroup v1 does not throttle
        // writers per container: flushing as we go keeps a big file from getting the agent OOM-killed.
        if (unsynced >= FLUSH_EVERY) {
          await fdatasyncAsync(fd);
          unsynced = 0;
        }
      }
      if (size !== entry.size) throw new Error(`${entry.path}: got ${size} bytes of ${entry.size}`);
      fchmodSync(fd, entry.mode);
      const when = new Date(entry.mtimeMs);
      futimesSync(fd, when, when);
    } catch (err) {
      closeSync(fd);
      await this.removeTemp(tmp);
      throw err;
    }
    closeSync(fd);
    this.pending = { tmp, abs, entry };
  }

  private async dir(t: TarEntry, entry: Entry): Promise<void> {
    await drain(t);
    const abs = resolveInside(this.root, entry.path, { createParents: true });
    const st = lstatOrNull(abs);
    if (st !== null && !st.isDirectory()) unlinkSync(abs);
    if (st === null || !st.isDirectory()) mkdirSync(abs, { mode: 0o755 });
    this.dirs.push({ abs, entry });
  }

  private async symlink(t: TarEntry, entry: Entry): Promise<void> {
    await drain(t);
    if (entry.target === '' || entry.target?.includes('\0')) return this.refuse(t, entry.path, 'empty or invalid link target');
    const abs = resolveInside(this.root, entry.path, { createParents: true });
    if (lstatOrNull(abs)?.isDirectory()) return this.refuse(t, entry.path, 'a directory is in the way');
    const tmp = this.tempBeside(abs);
    try {
      symlinkSync(entry.target ?? '', tmp);
      const when = new Date(entry.mtimeMs);
      lutimesSync(tmp, when, when);
      renameSync(tmp, abs);
      this.temps.delete(tmp);
    } catch (err) {
      await this.removeTemp(tmp);
      throw err;
    }
    this.done(entry);
  }

  /** Renames the last file into place, now that no discard marker followed it. */
  async commitPending(): Promise<void> {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    try {
      renameSync(p.tmp, p.abs);
      this.temps.delete(p.tmp);
    } catch (err) {
      await this.removeTemp(p.tmp);
      const code = codeOf(err);
      if (!isPerEntry(code)) throw err;
      this.refused.push({ path: p.entry.path, why: `could not write it (${code})` });
      return;
    }
    this.done(p.entry);
  }

  private async discard(name: string): Promise<void> {
    const p = this.pending;
    if (p === undefined || safePath(name) !== p.entry.path) {
      this.refused.push({ path: name, why: 'discard marker for a file not just sent' });
      return;
    }
    this.pending = undefined;
    await this.removeTemp(p.tmp);
    this.refused.push({ path: p.entry.path, why: 'the sender saw it change while sending it' });
  }

  /** Directory modes and mtimes, now that nothing more is written into them. */
  async finishDirs(): Promise<void> {
    for (const { abs, entry } of this.dirs) {
      const st = lstatOrNull(abs);
      if (st === null || !st.isDirectory()) {
        this.refused.push({ path: entry.path, why: 'no longer a directory at the end' });
        continue;
      }
      chmodSync(abs, entry.mode);
      const when = new Date(entry.mtimeMs);
      lutimesSync(abs, when, when);
      this.done(entry);
    }
  }

  async removeTemps(): Promise<void> {
    for (const tmp of [...this.temps]) await this.removeTemp(tmp);
    this.pending = undefined;
  }

  private async refuse(t: TarEntry, p: string, why: string): Promise<void> {
    await drain(t);
    this.refused.push({ path: p, why });
  }

  private done(entry: Entry): void {
    this.written.push(entry);
    this.opts.onEntry?.(entry);
  }

  private tempBeside(abs: string): string {
    const tmp = path.join(path.dirname(abs), tempName());
    this.temps.add(tmp);
    return tmp;
  }

  private async removeTemp(tmp: string): Promise<void> {
    await rm(tmp, { force: true });
    this.temps.delete(tmp);
  }
}

/** Consumes what is left of an entry's data: tar-stream stalls until it is read. */
async function drain(t: TarEntry): Promise<void> {
  for await (const chunk of t as AsyncIterable<Buffer>) void chunk;
}

const FLUSH_EVERY = 16 * 1024 * 1024;

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

async function writeAll(fd: number, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; ) off += (await writeAsync(fd, chunk, off, chunk.length - off)).bytesWritten;
}
