import { rename } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { RunboxError } from '../../errors.ts';
import type { Delta, ManifestAnswer, SyncRequest, TreeAfter } from './agent.ts';
import { pack, removeEntries, unpack, type Problem } from './archive.ts';
import { decide } from './decide.ts';
import type { FrameChannel } from './frames.ts';
import { readIgnoreRules, type IgnoreFn } from './ignore-rules.ts';
import { folderIdentity, manifestFromEntries, manifestFromJson, manifestToJson, patchManifest, readManifest, readPaths, sameContent, sameStat } from './manifest.ts';
import { resolveInside } from './safe-path.ts';
import type { Action, Entry, Manifest, Side } from './types.ts';

/*
 * One sync between a local folder and the agent's folder: manifests first,
 * then the three-way decisions against the last synced state, then only
 * what changed, as tar streams both ways. Returns the new synced state: the
 * entries both sides hold alike afterwards.
 */

export type Direction = 'both' | 'up' | 'down';

export interface SyncReport {
  uploaded: number;
  downloaded: number;
  deletedLocal: number;
  deletedRemote: number;
  conflicts: { path: string; keptAs: string }[];
  refused: Problem[];
  actions: Action[];
  /** The state to compare against next time (stored by the caller). */
  state: Manifest;
  /** The entries of `remote`'s tree that differ from `state` (every path of the state is in that tree): how the caller stores it. */
  remoteDiff?: Entry[] | undefined;
  /** The environment's tree as the agent last told it, for a delta next time (stored by the caller). */
  remote: RemoteTree | undefined;
  /** How the environment's side was read: walked there now, its whole (watched) manifest sent, or only what changed since the last sync. */
  remoteRead: RemoteRead;
  /** Which folders these were (folderIdentity), stored with the state: the next sync uses the state only for the same two. */
  folders: SyncedFolders;
}

export interface SyncedFolders {
  local: string;
  /** Unknown with the agent of an older sidecar. */
  remote: string | undefined;
}

export type RemoteRead = 'walked' | 'whole' | 'changes';

/** The environment's side as of a token of its agent: the next sync asks only for what changed since. */
export interface RemoteTree {
  token: string;
  manifest: Manifest;
}

export interface TransferAgent {
  chan: FrameChannel;
  /** After `bye`: the agent ended well. */
  done(): Promise<void>;
  /** The failure as the user should see it. */
  failed(err: unknown): Promise<Error>;
}

/** Work that wants the sidecar's CPU raised first (the caller's `prepare`). */
export type HeavyWork = 'walk' | 'transfer';

/** Above this much to move, the sidecar gets its working CPU first; below, its resting 50m moves it faster than a resize lands. */
const LIGHT_TRANSFER = { bytes: 4 * 1024 * 1024, files: 500 };

export interface SyncOptions {
  localRoot: string;
  base: Manifest | undefined;
  /** The environment's tree as of the last sync (the agent then sends only what changed). */
  remote?: RemoteTree | undefined;
  /** The folders the base was synced between; where either is another folder now, the base is not used. */
  folders?: SyncedFolders | undefined;
  /** One line for the user (a base set aside). */
  notice?: ((message: string) => void) | undefined;
  /**
   * An agent process of its own for a heavy transfer, so that the warm agent (the sidecar's
   * long-lived server) never holds the memory a big transfer churns through; else the session's.
   */
  transferAgent?: (() => Promise<TransferAgent>) | undefined;
  /** Called before heavy work in the sidecar (at most once each); resolves when it may start. */
  prepare?: ((work: HeavyWork) => Promise<void>) | undefined;
  direction: Direction;
  dryRun: boolean;
  now: Date;
  /** The laptop's side, read already (readLocalSide); else syncOnce reads it. */
  localSide?: Promise<LocalSide> | undefined;
  /** Called before each read of the local folder (a watch lowers its change flag there). */
  onLocalRead?: (() => void) | undefined;
  /** Bytes moved so far in one direction, out of the planned total. */
  onTransfer?: ((t: Transfer) => void) | undefined;
}

export interface Transfer {
  direction: 'up' | 'down';
  files: number;
  bytes: number;
  totalBytes: number;
}

/** Counts what flows through, for progress. */
function counted(source: Readable, files: Entry[], direction: Transfer['direction'], report: SyncOptions['onTransfer']): Readable {
  if (!report) return source;
  const totalBytes = files.reduce((n, e) => n + e.size, 0);
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      report({ direction, files: files.length, bytes: Math.min(bytes, totalBytes), totalBytes });
      done(null, chunk);
    },
  });
  source.on('error', (err) => meter.destroy(err));
  return source.pipe(meter);
}

async function ask<T>(chan: FrameChannel, req: SyncRequest): Promise<T> {
  await chan.sendJson(req);
  const answer = await chan.nextJson<T & { error?: string }>();
  if (answer.error) throw new RunboxError(`the environment's sync agent failed: ${answer.error}`);
  return answer;
}

/**
 * The environment's tree: a delta on what the laptop holds when the agent
 * still has that token, else all of it. A folder the agent does not hold yet
 * (`cold`) is walked there, after `prepare`. An agent of an older sidecar
 * sends the whole manifest and no token.
 */
async function remoteManifest(
  chan: FrameChannel,
  held: RemoteTree | undefined,
  base: Manifest | undefined,
  prepare: SyncOptions['prepare'],
): Promise<{ token: string | undefined; manifest: Manifest; read: RemoteRead; folder: string | undefined }> {
  let answer = await ask<ManifestAnswer>(chan, { op: 'manifest', since: held?.token });
  let read: RemoteRead = 'whole';
  if ('cold' in answer) {
    read = 'walked';
    await prepare?.('walk');
    answer = await ask<ManifestAnswer>(chan, { op: 'manifest', walk: true, ...(base ? { previous: manifestToJson(base) } : {}) });
  }
  if ('cold' in answer) throw new RunboxError("the environment's sync agent would not read its folder");
  if ('delta' in answer) {
    if (!held) throw new RunboxError("the environment's sync agent sent changes to a tree this laptop does not hold");
    return { token: answer.token, manifest: withDelta(held, answer.delta), read: 'changes', folder: answer.folder };
  }
  return { token: answer.token, manifest: manifestFromJson(answer.manifest, "The manifest the environment's sync agent sent"), read, folder: answer.folder };
}

/**
 * The tree held, with the agent's changes since its token applied: in place,
 * not copied (10,000 entries, twice a sync). A delta says what each path holds
 * now, so one applied again to a tree that has it already (a watch's round
 * that failed after this) changes nothing.
 */
function withDelta(held: RemoteTree, delta: Delta): Manifest {
  const changed = checkedEntries(delta.changed);
  for (const p of delta.removed) held.manifest.delete(p);
  for (const e of changed) held.manifest.set(e.path, e);
  return held.manifest;
}

/** Entries from the agent checked like a stored manifest's (paths inside the root, known types). */
function checkedEntries(changed: Entry[]): Entry[] {
  return [...manifestFromEntries(changed, "The changes the environment's sync agent sent").values()];
}

export interface LocalSide {
  ignore: IgnoreFn;
  manifest: Manifest;
  folder: string;
}

/** The laptop's side of a sync, which a caller may start reading before the agent answers (while the exec connects). */
export async function readLocalSide(root: string, base: Manifest | undefined, onRead?: () => void): Promise<LocalSide> {
  const ignore = await readIgnoreRules(root);
  onRead?.();
  const manifest = await readManifest(root, { ignore, previous: base });
  const folder = folderIdentity(root);
  return { ignore, manifest, folder };
}

export async function syncOnce(chan: FrameChannel, opts: SyncOptions): Promise<SyncReport> {
  const [{ ignore, manifest: local, folder: localFolder }, remoteTree] = await Promise.all([
    opts.localSide ?? readLocalSide(opts.localRoot, opts.base, opts.onLocalRead),
    remoteManifest(chan, opts.remote, opts.base, opts.prepare),
  ]);
  const remote = remoteTree.manifest;
  const folders: SyncedFolders = { local: localFolder, remote: remoteTree.folder };
  const base = sameFolders(opts.folders, folders, opts.base, opts.notice) ? opts.base : undefined;
  const held = (t: { token: string | undefined; manifest: Manifest }): RemoteTree | undefined => (t.token === undefined ? undefined : { token: t.token, manifest: t.manifest });
  const actions = decide(base, local, remote, { direction: opts.direction, now: opts.now });
  const report: SyncReport = {
    uploaded: 0,
    downloaded: 0,
    deletedLocal: 0,
    deletedRemote: 0,
    conflicts: [],
    refused: [],
    actions,
    state: base ?? new Map(),
    remote: held(remoteTree),
    remoteRead: remoteTree.read,
    folders,
  };
  if (opts.dryRun) return report;

  const copies: Record<Side, Entry[]> = { local: [], remote: [] }; // by the side they come from
  const deletes: Record<Side, string[]> = { local: [], remote: [] };
  for (const a of actions) {
    if (a.kind === 'delete') deletes[a.on].push(a.entry.path);
    else if (a.kind === 'copy') copies[a.from].push(a.entry);
  }
  // The local paths this sync changes: read again afterwards (the truth, not the plan).
  const touched: { path: string; deep: boolean }[] = deletes.local.map((p) => ({ path: p, deep: false }));
  // The agent's tree after this session's changes there, where its last answer carried it (else it is asked for).
  let changedThere = false;
  let treeThere: TreeAfter['tree'];
  const changeThere = <T extends TreeAfter>(answer: T): T => {
    changedThere = true;
    treeThere = answer.tree;
    return answer;
  };
  if (deletes.local.length > 0) {
    const r = await removeEntries(opts.localRoot, deletes.local);
    report.deletedLocal = r.removed.length;
    report.refused.push(...r.refused);
  }
  if (deletes.remote.length > 0) {
    const r = changeThere(await ask<{ removed: string[]; refused: Problem[] } & TreeAfter>(chan, { op: 'remove', paths: deletes.remote }));
    report.deletedRemote = r.removed.length;
    report.refused.push(...r.refused);
  }
  // Conflicts: move one version aside, then both versions travel as copies.
  for (const a of actions) {
    if (a.kind !== 'conflict') continue;
    const moved = a.aside === 'local' ? a.local : a.remote;
    const stays = a.aside === 'local' ? a.remote : a.local;
    if (moved) {
      if (a.aside === 'local') await rename(resolveInside(opts.localRoot, a.path), resolveInside(opts.localRoot, a.keepAs, { createParents: true }));
      else changeThere(await ask<TreeAfter>(chan, { op: 'rename', from: a.path, to: a.keepAs }));
      if (a.twoWay) copies[a.aside].push({ ...moved, path: a.keepAs });
    }
    if (stays) copies[a.aside === 'local' ? 'remote' : 'local'].push(stays);
    touched.push({ path: a.path, deep: true }, { path: a.keepAs, deep: true });
    report.conflicts.push({ path: a.path, keptAs: a.keepAs });
  }
  const all = [...copies.local, ...copies.remote];
  const heavy = all.length > LIGHT_TRANSFER.files || all.reduce((n, e) => n + e.size, 0) > LIGHT_TRANSFER.bytes;
  let xfer: TransferAgent | undefined;
  if (heavy) {
    await opts.prepare?.('transfer');
    xfer = await opts.transferAgent?.();
  }
  const data = xfer?.chan ?? chan;
  try {
    if (copies.local.length > 0) {
      const stream = pack(opts.localRoot, copies.local);
      await data.sendStream(counted(stream, copies.local, 'up', opts.onTransfer), { op: 'receive' } satisfies SyncRequest);
      const answer = await data.nextJson<{ written: number; refused: Problem[]; error?: string } & TreeAfter>();
      if (answer.error) throw new RunboxError(`the environment's sync agent failed: ${answer.error}`);
      // Another agent process's tree is not the session's: that one is asked afterwards.
      changeThere(xfer ? {} : answer);
      report.uploaded = answer.written;
      report.refused.push(...answer.refused, ...stream.skipped);
    }
    if (copies.remote.length > 0) {
      await data.sendJson({ op: 'send', entries: copies.remote } satisfies SyncRequest);
      const expected = new Map(copies.remote.map((e) => [e.path, e.type]));
      const result = await unpack(opts.localRoot, counted(data.receiveStream(), copies.remote, 'down', opts.onTransfer), { expected });
      const answer = await data.nextJson<{ skipped: Problem[]; error?: string }>();
      if (answer.error) throw new RunboxError(`the environment's sync agent failed: ${answer.error}`);
      report.downloaded = result.written.length;
      report.refused.push(...result.refused, ...answer.skipped);
      touched.push(...copies.remote.map((e) => ({ path: e.path, deep: false })));
    }
    if (xfer) {
      await endSync(xfer.chan);
      await xfer.done();
    }
  } catch (err) {
    throw xfer ? await xfer.failed(err) : err;
  }
  // The new base: what both sides now hold alike. Here only the paths this sync touched are read
  // again (a change made meanwhile elsewhere is found by the next sync); there the agent says what
  // changed, with its last answer or when asked (nothing, where this sync changed nothing there).
  // With nothing to do, the manifests just read are that truth.
  let after: [Manifest, Manifest] = [local, remote];
  if (actions.length > 0) {
    opts.onLocalRead?.();
    const since = held(remoteTree);
    const [fresh, there] = await Promise.all([
      readPaths(opts.localRoot, touched, { ignore, previous: local }),
      !changedThere
        ? { token: remoteTree.token, manifest: remote }
        : treeThere && since
          ? { token: treeThere.token, manifest: withDelta(since, treeThere.delta) }
          : remoteManifest(chan, since, remote, opts.prepare),
    ]);
    // This sync's own read of the laptop's side: patched in place.
    patchManifest(local, touched, fresh);
    after = [local, there.manifest];
    report.remote = held(there);
  }
  ({ state: report.state, remoteDiff: report.remoteDiff } = commonState(...after));
  return report;
}

/**
 * Whether the base was synced between these same two folders. A state that
 * cannot say (stored by an older runbox, or synced with an older sidecar) is
 * set aside too: a folder made again would otherwise look like one whose
 * files were all deleted, and the deletions would be carried over.
 */
function sameFolders(was: SyncedFolders | undefined, now: SyncedFolders, base: Manifest | undefined, notice: SyncOptions['notice']): boolean {
  if (!base || base.size === 0) return true;
  const why =
    was === undefined || (was.remote === undefined && now.remote !== undefined)
      ? 'the last sync state does not say which folders it was for (an older runbox wrote it)'
      : was.local !== now.local
        ? 'the local folder is not the one last synced (made again since?)'
        : now.remote !== undefined && was.remote !== now.remote
          ? "the environment's folder is not the one last synced (made again since?)"
          : undefined;
  if (why) notice?.(`${why}: this sync compares the two sides afresh and deletes nothing`);
  return why === undefined;
}

/**
 * The entries both sides hold alike, with a content hash where either side
 * had one; and, found on the way, the remote entries that differ from them.
 */
function commonState(local: Manifest, remote: Manifest): { state: Manifest; remoteDiff: Entry[] } {
  const state: Manifest = new Map();
  const remoteDiff: Entry[] = [];
  let shared = 0;
  for (const [path, entry] of local) {
    const other = remote.get(path);
    if (other === undefined) continue;
    shared += 1;
    if (!sameContent(entry, other)) {
      remoteDiff.push(other);
      continue;
    }
    const kept = entry.hash || !other.hash ? entry : { ...entry, hash: other.hash };
    state.set(path, kept);
    if (!sameStat(kept, other)) remoteDiff.push(other);
  }
  if (shared < remote.size) for (const [path, other] of remote) if (!local.has(path)) remoteDiff.push(other);
  return { state, remoteDiff };
}

/** Says goodbye; `waitForAnswer: false` where nothing depends on the agent ending well (a bridge to a warm agent, which ends 0 whatever). */
export async function endSync(chan: FrameChannel, opts: { waitForAnswer: boolean } = { waitForAnswer: true }): Promise<void> {
  if (!opts.waitForAnswer) return chan.sendJson({ op: 'bye' } satisfies SyncRequest);
  await ask(chan, { op: 'bye' });
}
