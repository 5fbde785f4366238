/**
 * The snapshot agent's side of the framed protocol: one `snapshot` request, one answer (or
 * `{ error }`), then `bye`. Progress goes to stderr, which the CLI shows with -v.
 */
import { DATA_PATH } from '../../src/contract/names.ts';
import type { SnapshotRequest } from '../../src/contract/snapshot.ts';
import type { FrameChannel } from '../../src/env/sync/frames.ts';
import { takeSnapshot } from './take.ts';

/** Image indexes live on the environment's volume, beside runbox's shell state. */
const INDEX_DIR = `${DATA_PATH}/.runbox/snapshot`;

export async function serveSnapshot(chan: FrameChannel): Promise<void> {
  for (;;) {
    const req = await chan.nextJson<SnapshotRequest | { op: 'bye' }>();
    if (req.op === 'bye') {
      await chan.sendJson({ ok: true });
      return;
    }
    try {
      await chan.sendJson(await takeSnapshot(req, { proc: '/proc', indexDir: INDEX_DIR, log: (m) => console.error(m) }));
    } catch (err) {
      console.error((err as Error).stack);
      await chan.sendJson({ error: (err as Error).message });
    }
  }
}
