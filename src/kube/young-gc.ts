import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/*
 * Bulk data through the exec socket (a sync's tar stream, a piped file)
 * passes through short-lived buffers, copied on the way (a channel byte in
 * front, then the websocket's mask). Their memory is outside V8's heap, and
 * V8 frees it only when a scavenge finds the small objects that hold it; with
 * a default young generation that came late enough to add ~50 MB to the
 * CLI's peak resident size syncing 1 GB. A scavenge every few megabytes
 * moved costs well under a millisecond and keeps the peak down.
 */

const EVERY_BYTES = 4 * 1024 * 1024;
/** Buffers that waited in a queue (backpressure) get promoted out of the young generation: a full collection now and then frees those. */
const FULL_EVERY = 8;

type Gc = (opts: { type: 'minor' | 'major' }) => void;
let gc: Gc | undefined;

function collect(type: 'minor' | 'major'): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as Gc;
  }
  gc({ type });
}

/** Counts bytes moved; each EVERY_BYTES of them, the young generation is collected. */
export function youngGcEvery(): (bytes: number) => void {
  let moved = 0;
  let rounds = 0;
  return (bytes) => {
    moved += bytes;
    if (moved < EVERY_BYTES) return;
    moved = 0;
    collect(++rounds % FULL_EVERY === 0 ? 'major' : 'minor');
  };
}
