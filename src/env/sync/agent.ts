import { watch, type FSWatcher } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { pack, removeEntries, unpack } from './archive.ts';
import { changeFlag } from './change-flag.ts';
import type { FrameChannel } from './frames.ts';
import { readIgnoreRules, type IgnoreFn } from './ignore-rules.ts';
import { manifestFromJson, manifestToJson, readManifest } from './manifest.ts';
import { resolveInside } from './safe-path.ts';
import type { Entry } from './types.ts';

/*
 * The side of a sync that holds the files and answers requests: the sidecar
 * (over the exec websocket) in the environment, or an in-memory peer in tests.
 * One request at a time; every answer is one JSON message (after any data),
 * except `cancel`, which only ends a `wait` early and is never answered.
 *
 * Watching: `watch` starts an inotify watch of the folder; `wait` answers
 * `{ changed: true }` once something changed there since the last manifest
 * (debounced), or `{ changed: false }` after `timeoutMs` or a `cancel` (the
 * laptop saw a change of its own), so a quiet session is also a heartbeat.
 */

/** How long the folder must be quiet before a wait answers, and the most a wait is held after the first change. */
export const REMOTE_SETTLE = { quietMs: 100, maxMs: 1000 };

export type SyncRequest =
  | { op: 'manifest'; previous?: string }
  | { op: 'send'; entries: Entry[] }
  | { op: 'receive' }
  | { op: 'remove'; paths: string[] }
  | { op: 'rename'; from: string; to: string }
  | { op: 'watch' }
  | { op: 'wait'; timeoutMs: number }
  | { op: 'cancel' }
  | { op: 'bye' };

export async function serveSync(chan: FrameChannel, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  const changed = changeFlag();
  let ignored: IgnoreFn = () => false;
  let watcher: FSWatcher | undefined;
  // A wait that ended on a change leaves its read of the next request running: that read is the next request.
  let pending: Promise<SyncRequest> | undefined;
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
            const previous = req.previous ? manifestFromJson(req.previous) : undefined;
            ignored = await readIgnoreRules(root);
            const manifest = await readManifest(root, { ignore: ignored, previous });
            await chan.sendJson({ manifest: manifestToJson(manifest) });
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
            await chan.sendJson({ written: result.written.length, refused: result.refused });
            break;
          }
          case 'remove':
            await chan.sendJson(await removeEntries(root, req.paths));
            break;
          case 'rename':
            await rename(await resolveInside(root, req.from), await resolveInside(root, req.to, { createParents: true }));
            await chan.sendJson({ ok: true });
            break;
          case 'watch':
            watcher ??= watch(root, { recursive: true }, (_event, file) => {
              if (file === null || !ignored(String(file), false)) changed.raise();
            });
            await chan.sendJson({ ok: true });
            break;
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
    watcher?.close();
  }
}
