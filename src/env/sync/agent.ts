import { mkdir, rename } from 'node:fs/promises';
import { pack, removeEntries, unpack } from './archive.ts';
import type { FrameChannel } from './frames.ts';
import { readIgnoreRules } from './ignore-rules.ts';
import { manifestFromJson, manifestToJson, readManifest } from './manifest.ts';
import { resolveInside } from './safe-path.ts';
import type { Entry } from './types.ts';

/*
 * The side of a sync that holds the files and answers requests: the sidecar
 * (over the exec websocket) in the environment, or an in-memory peer in tests.
 * One request at a time; every answer is one JSON message (after any data).
 */

export type SyncRequest =
  | { op: 'manifest'; previous?: string }
  | { op: 'send'; entries: Entry[] }
  | { op: 'receive' }
  | { op: 'remove'; paths: string[] }
  | { op: 'rename'; from: string; to: string }
  | { op: 'bye' };

export async function serveSync(chan: FrameChannel, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (;;) {
    const req = await chan.nextJson<SyncRequest>();
    try {
      switch (req.op) {
        case 'manifest': {
          const previous = req.previous ? manifestFromJson(req.previous) : undefined;
          const manifest = await readManifest(root, { ignore: await readIgnoreRules(root), previous });
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
}
