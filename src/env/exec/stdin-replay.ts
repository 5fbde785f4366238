import { PassThrough, type Readable } from 'node:stream';

/** Input kept for a second attempt: the prologue refuses within milliseconds, long before this much is sent. */
const KEEP_BYTES = 4 * 1024 * 1024;

export interface ReplayableInput {
  /** The input for one attempt: for a second one, what the first consumed, then the rest. */
  attempt(): Readable;
  /** Whether more was consumed than can be replayed. */
  overflowed(): boolean;
  /** Lets go of the source (a later read of it is someone else's). */
  release(): void;
}

/**
 * Piped input that a refused command can be given again: the prologue may
 * refuse after runbox already sent some of it, which a local command would
 * never have lost.
 */
export function replayableInput(source: Readable, keepBytes = KEEP_BYTES): ReplayableInput {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let overflow = false;
  let ended = false;
  let current: PassThrough | undefined;
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!overflow) {
      keptBytes += bytes.length;
      if (keptBytes > keepBytes) {
        overflow = true;
        kept.length = 0;
      } else kept.push(bytes);
    }
    const to = current;
    if (to && !to.write(bytes)) {
      source.pause();
      to.once('drain', () => source.resume());
    }
  };
  const onEnd = () => {
    ended = true;
    current?.end();
  };
  let attached = false;
  return {
    attempt() {
      if (current && !current.writableEnded) current.end();
      const next = new PassThrough();
      for (const b of kept) next.write(b);
      if (ended) next.end();
      current = next;
      if (!attached) {
        attached = true;
        source.on('data', onData);
        source.once('end', onEnd);
      }
      // Paused by the last attempt's end, or never flowing yet.
      next.on('resume', () => source.resume());
      return next;
    },
    overflowed: () => overflow,
    release() {
      source.off('data', onData);
      source.off('end', onEnd);
      source.pause();
    },
  };
}
