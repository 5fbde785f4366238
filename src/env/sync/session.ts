import { rename } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { RunboxError } from '../../errors.ts';
import type { SyncRequest } from './agent.ts';
import { pack, removeEntries, unpack, type Problem } from './archive.ts';
import { decide } from './decide.ts';
import type { FrameChannel } from './frames.ts';
import { readIgnoreRules } from './ignore-rules.ts';
import { manifestFromJson, manifestToJson, readManifest, sameContent } from './manifest.ts';
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
}

export interface SyncOptions {
  localRoot: string;
  base: Manifest | undefined;
  direction: Direction;
  dryRun: boolean;
  now: Date;
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

async function remoteManifest(chan: FrameChannel, previous: Manifest | undefined): Promise<Manifest> {
  const { manifest } = await ask<{ manifest: string }>(chan, { op: 'manifest', ...(previous ? { previous: manifestToJson(previous) } : {}) });
  return manifestFromJson(manifest, "The manifest the environment's sync agent sent");
}

export async function syncOnce(chan: FrameChannel, opts: SyncOptions): Promise<SyncReport> {
  const ignore = await readIgnoreRules(opts.localRoot);
  opts.onLocalRead?.();
  const [local, remote] = await Promise.all([
    readManifest(opts.localRoot, { ignore, previous: opts.base }),
    remoteManifest(chan, opts.base),
  ]);
  const actions = decide(opts.base, local, remote, { direction: opts.direction, now: opts.now });
  const report: SyncReport = { uploaded: 0, downloaded: 0, deletedLocal: 0, deletedRemote: 0, conflicts: [], refused: [], actions, state: opts.base ?? new Map() };
  if (opts.dryRun) return report;

  const copies: Record<Side, Entry[]> = { local: [], remote: [] }; // by the side they come from
  const deletes: Record<Side, string[]> = { local: [], remote: [] };
  for (const a of actions) {
    if (a.kind === 'delete') deletes[a.on].push(a.entry.path);
    else if (a.kind === 'copy') copies[a.from].push(a.entry);
  }
  if (deletes.local.length > 0) {
    const r = await removeEntries(opts.localRoot, deletes.local);
    report.deletedLocal = r.removed.length;
    report.refused.push(...r.refused);
  }
  if (deletes.remote.length > 0) {
    const r = await ask<{ removed: string[]; refused: Problem[] }>(chan, { op: 'remove', paths: deletes.remote });
    report.deletedRemote = r.removed.length;
    report.refused.push(...r.refused);
  }
  // Conflicts: move one version aside, then both versions travel as copies.
  for (const a of actions) {
    if (a.kind !== 'conflict') continue;
    const moved = a.aside === 'local' ? a.local : a.remote;
    const stays = a.aside === 'local' ? a.remote : a.local;
    if (moved) {
      if (a.aside === 'local') await rename(await resolveInside(opts.localRoot, a.path), await resolveInside(opts.localRoot, a.keepAs, { createParents: true }));
      else await ask(chan, { op: 'rename', from: a.path, to: a.keepAs });
      if (a.twoWay) copies[a.aside].push({ ...moved, path: a.keepAs });
    }
    if (stays) copies[a.aside === 'local' ? 'remote' : 'local'].push(stays);
    report.conflicts.push({ path: a.path, keptAs: a.keepAs });
  }
  if (copies.local.length > 0) {
    const stream = pack(opts.localRoot, copies.local);
    await chan.sendJson({ op: 'receive' } satisfies SyncRequest);
    await chan.sendStream(counted(stream, copies.local, 'up', opts.onTransfer));
    const answer = await chan.nextJson<{ written: number; refused: Problem[]; error?: string }>();
    if (answer.error) throw new RunboxError(`the environment's sync agent failed: ${answer.error}`);
    report.uploaded = answer.written;
    report.refused.push(...answer.refused, ...stream.skipped);
  }
  if (copies.remote.length > 0) {
    await chan.sendJson({ op: 'send', entries: copies.remote } satisfies SyncRequest);
    const expected = new Map(copies.remote.map((e) => [e.path, e.type]));
    const result = await unpack(opts.localRoot, counted(chan.receiveStream(), copies.remote, 'down', opts.onTransfer), { expected });
    const answer = await chan.nextJson<{ skipped: Problem[]; error?: string }>();
    if (answer.error) throw new RunboxError(`the environment's sync agent failed: ${answer.error}`);
    report.downloaded = result.written.length;
    report.refused.push(...result.refused, ...answer.skipped);
  }
  // The new base: what both sides now hold alike. After changes, read again (the truth, not the
  // plan); with nothing to do, the manifests just read are that truth: no second walk of either tree.
  let after: [Manifest, Manifest] = [local, remote];
  if (actions.length > 0) {
    opts.onLocalRead?.();
    after = await Promise.all([readManifest(opts.localRoot, { ignore, previous: local }), remoteManifest(chan, remote)]);
  }
  report.state = commonState(...after);
  return report;
}

/** The entries both sides hold alike, with a content hash where either side had one. */
function commonState(local: Manifest, remote: Manifest): Manifest {
  const state: Manifest = new Map();
  for (const [path, entry] of local) {
    const other = remote.get(path);
    if (other && sameContent(entry, other)) state.set(path, entry.hash || !other.hash ? entry : { ...entry, hash: other.hash });
  }
  return state;
}

export async function endSync(chan: FrameChannel): Promise<void> {
  await ask(chan, { op: 'bye' });
}
