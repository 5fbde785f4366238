import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/*
 * Bulk data through the exec socket (a sync's tar stream, a piped file) and
 * the sync protocol passes through short-lived buffers, copied on the way (a
 * channel byte in front, the websocket's mask, a frame's pieces). Their
 * memory is outside V8's heap, and V8 frees it only when a collection finds
 * the small objects that hold it; left to itself, that came late enough to
 * add ~50 MB to the CLI's peak resident size syncing 1 GB, and ~140 MB to the
 * sidecar's server receiving it (its limit is 256 MiB). A scavenge every few
 * megabytes moved costs well under a millisecond; a full collection every
 * few scavenges frees what waited in a queue long enough to be promoted.
 * Counted per process: whoever moves the bytes says so.
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

let moved = 0;
let rounds = 0;

/** Counts bytes moved (through the exec socket, the sync protocol); each EVERY_BYTES of them, garbage is collected. */
export function noteMoved(bytes: number): void {
  moved += bytes;
  if (moved < EVERY_BYTES) return;
  moved = 0;
  collect(++rounds % FULL_EVERY === 0 ? 'major' : 'minor');
}
