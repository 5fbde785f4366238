import { mkdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { pack, removeEntries, unpack } from './archive.ts';
import { changeFlag } from './change-flag.ts';
import type { FrameChannel } from './frames.ts';
import { liveManifests, type LiveManifests } from './live-manifest.ts';
import { folderIdentity, manifestFromJson, manifestToJson } from './manifest.ts';
import { resolveInside } from './safe-path.ts';
import type { Entry } from './types.ts';

/*
 * The side of a sync that holds the files and answers requests: the sidecar
 * (over the exec websocket) in the environment, or an in-memory peer in tests.
 * One request at a time; every answer is one JSON message (after any data),
 * except `cancel`, which only ends a `wait` early and is never answered.
 *
 * Manifests: the agent keeps the folder's manifest current with an inotify
 * watch (live-manifest.ts) and answers with what changed since the token the
 * laptop holds, or the whole manifest. A folder it does not hold yet is
 * answered `{ cold: true }` unless the request says `walk`: the laptop first
 * gives the sidecar the CPU a walk wants, then asks again.
 *
 * Watching: `watch` subscribes to that watch's changes; `wait` answers
 * `{ changed: true }` once something changed there since the last manifest
 * (debounced), or `{ changed: false }` after `timeoutMs` or a `cancel` (the
 * laptop saw a change of its own), so a quiet session is also a heartbeat.
 */

/** How long the folder must be quiet before a wait answers, and the most a wait is held after the first change. */
export const REMOTE_SETTLE = { quietMs: 100, maxMs: 1000 };

export type SyncRequest =
  | { op: 'manifest'; since?: string | undefined; walk?: boolean; previous?: string }
  | { op: 'send'; entries: Entry[] }
  | { op: 'receive' }
  | { op: 'remove'; paths: string[] }
  | { op: 'rename'; from: string; to: string }
  | { op: 'watch' }
  | { op: 'wait'; timeoutMs: number }
  | { op: 'cancel' }
  | { op: 'bye' };

export interface Delta {
  changed: Entry[];
  removed: string[];
}

/** The answer to `manifest`: a token and the whole manifest (JSON) or the delta since the token asked about; or `cold`. */
export type ManifestAnswer = { cold: true } | ({ folder?: string } & ({ token?: string; manifest: string } | { token: string; delta: Delta }));

/**
 * Beside the answer to `receive`, `remove` and `rename`: the folder's changes
 * since the token of the session's last manifest answer, the laptop's tree
 * after the change without another request. Absent from an older agent's
 * answer, or where the agent no longer has that token's changes.
 */
export interface TreeAfter {
  tree?: { token: string; delta: Delta };
}

/**
 * Serves one session. `live` holds the folders' manifests: the sidecar's
 * server keeps them between sessions; an agent process has its own.
 */
export async function serveSync(chan: FrameChannel, root: string, live: LiveManifests = liveManifests()): Promise<void> {
  mkdirSync(root, { recursive: true });
  const changed = changeFlag();
  let unsubscribe: (() => void) | undefined;
  // A wait that ended on a change leaves its read of the next request running: that read is the next request.
  let pending: Promise<SyncRequest> | undefined;
  /** The token of the last manifest answered: what the laptop holds. */
  let held: string | undefined;
  const treeAfter = async (): Promise<TreeAfter> => {
    const tree = live.get(root);
    if (!tree || held === undefined) return {};
    const read = await tree.read(held);
    live.release(root);
    return read.delta ? { tree: { token: read.token, delta: read.delta } } : {};
  };
  const nextRequest = () => {
    const next = pending ?? chan.nextJson<SyncRequest>();
    pending = undefined;
    return next;
  };
  try {
    for (;;) {
      const req = await nextRequest();
      try {
        switch (req.op) {
          case 'manifest': {
            changed.lower();
            let tree = live.get(root);
            if (!tree && !req.walk) {
              await chan.sendJson({ cold: true } satisfies ManifestAnswer);
              break;
            }
            tree ??= await live.open(root, req.previous ? manifestFromJson(req.previous) : undefined);
            const read = await tree.read(req.since);
            const folder = folderIdentity(root);
            live.release(root);
            held = read.token;
            await chan.sendJson(
              (read.manifest
                ? { folder, token: read.token, manifest: manifestToJson(read.manifest) }
                : { folder, token: read.token, delta: read.delta ?? { changed: [], removed: [] } }) satisfies ManifestAnswer,
            );
            break;
          }
          case 'send': {
            const stream = pack(root, req.entries);
            await chan.sendStream(stream);
            await chan.sendJson({ skipped: stream.skipped });
            break;
          }
          case 'receive': {
            const result = await unpack(root, chan.receiveStream());
            live.get(root)?.touched(result.written.map((e) => e.path));
            await chan.sendJson({ written: result.written.length, refused: result.refused, ...(await treeAfter()) });
            break;
          }
          case 'remove': {
            const result = await removeEntries(root, req.paths);
            live.get(root)?.touched(result.removed);
            await chan.sendJson({ ...result, ...(await treeAfter()) });
            break;
          }
          case 'rename':
            await rename(resolveInside(root, req.from), resolveInside(root, req.to, { createParents: true }));
            live.get(root)?.touched([req.from, req.to]);
            await chan.sendJson({ ok: true, ...(await treeAfter()) });
            break;
          case 'watch': {
            const tree = live.get(root) ?? (await live.open(root, undefined));
            unsubscribe ??= tree.onChange(() => changed.raise());
            await chan.sendJson({ ok: true });
            break;
          }
          case 'wait': {
            const next = chan.nextJson<SyncRequest>();
            let timer: NodeJS.Timeout | undefined;
            const outcome = await Promise.race([
              changed.settled(REMOTE_SETTLE.quietMs, REMOTE_SETTLE.maxMs).then(() => 'changed' as const),
              next.then((r) => (r.op === 'cancel' ? ('cancelled' as const) : ('early' as const))),
              new Promise<'quiet'>((r) => (timer = setTimeout(r, req.timeoutMs, 'quiet'))),
            ]);
            clearTimeout(timer);
            // A request that came while waiting (other than the cancel of this wait) is handled next.
            if (outcome !== 'cancelled') pending = next;
            await chan.sendJson({ changed: outcome === 'changed' || changed.raised });
            break;
          }
          case 'cancel':
            break;
          case 'bye':
            await chan.sendJson({ ok: true });
            return;
          default: {
            const unknown: never = req;
            await chan.sendJson({ error: `unknown request ${JSON.stringify(unknown)}` });
          }
        }
      } catch (err) {
        await chan.sendJson({ error: (err as Error).message });
      }
    }
  } finally {
    unsubscribe?.();
  }
}
