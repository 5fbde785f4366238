import { Writable } from 'node:stream';
import { REFUSAL_MARKER, REFUSALS, type Refusal } from '../../contract/idle.ts';

/** The marker line is short; anything longer that starts like it is the command's own output. */
const MAX_LINE = REFUSAL_MARKER.length + 16;

export interface RefusalSniffer {
  stream: Writable;
  /** Why the prologue refused to run the command, if it did. */
  refusal(): Refusal | undefined;
  /** Flushes what it held back and lets go of `out`. */
  close(): Promise<void>;
}

/**
 * Passes output through to `out`, except a refusal line the prologue prints
 * first (see contract/idle.ts), which it takes out and remembers. Only the
 * first bytes are looked at: once they differ from the marker, everything
 * flows through untouched.
 */
export function refusalSniffer(out: Writable): RefusalSniffer {
  let held: Buffer | undefined = Buffer.alloc(0);
  let refused: Refusal | undefined;
  const marker = Buffer.from(REFUSAL_MARKER);
  const pass = (chunk: Buffer, done: (err?: Error | null) => void) => {
    if (chunk.length === 0 || out.write(chunk)) done();
    else out.once('drain', () => done());
  };
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (held === undefined) return pass(chunk, done);
      if (refused !== undefined) return done(); // nothing follows a refusal but its own line end
      const seen = Buffer.concat([held, chunk]);
      const prefix = seen.subarray(0, marker.length);
      if (!marker.subarray(0, prefix.length).equals(prefix)) {
        held = undefined;
        return pass(seen, done);
      }
      const end = seen.indexOf(0x0a, marker.length);
      if (end < 0) {
        if (seen.length > MAX_LINE) {
          held = undefined;
          return pass(seen, done);
        }
        held = seen;
        return done();
      }
      const why = seen.subarray(marker.length, end).toString().replace(/\r$/, '');
      if ((REFUSALS as readonly string[]).includes(why)) {
        refused = why as Refusal;
        return done();
      }
      held = undefined;
      pass(seen, done);
    },
    final(done) {
      if (held && held.length > 0 && refused === undefined) pass(held, done);
      else done();
      held = undefined;
    },
  });
  // A closed local pipe must still reach whoever watches this stream (SIGPIPE semantics).
  const onError = (err: Error) => stream.destroy(err);
  out.on('error', onError);
  return {
    stream,
    refusal: () => refused,
    close: async () => {
      if (!stream.destroyed && !stream.writableFinished) await new Promise<void>((r) => stream.end(() => r()));
      out.off('error', onError);
    },
  };
}
