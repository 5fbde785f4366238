import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Digest } from './types.ts';

/*
 * Content digests: computing them, checking content against them, and a
 * pass-through stream that checks a blob as it flows (a registry, a proxy or
 * a cache could hand back other bytes than the digest we asked for).
 */

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A hash for the digest's algorithm, or undefined for one we cannot compute. */
export function hasherFor(digest: Digest): Hash | undefined {
  const name = ALGORITHMS[digest.slice(0, digest.indexOf(':'))];
  return name ? createHash(name) : undefined;
}

/** Whether `data` has `digest`; undefined when the algorithm is not one we know. */
export function matchesDigest(data: Uint8Array, digest: Digest): boolean | undefined {
  const hash = hasherFor(digest);
  if (!hash) return undefined;
  return `${digest.slice(0, digest.indexOf(':'))}:${hash.update(data).digest('hex')}` === digest;
}

/** Why a stream's content did not match, for the error the checking stream ends with. */
export type Mismatch = { kind: 'digest'; actual: Digest } | { kind: 'size'; actual: number };

/**
 * Passes bytes through and fails at the end if they do not have `digest`
 * (and `size`, when given); `onMismatch` words the error.
 */
export function checkingStream(digest: Digest, size: number | undefined, onMismatch: (m: Mismatch) => Error): Transform {
  const hash = hasherFor(digest);
  const algorithm = digest.slice(0, digest.indexOf(':'));
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      hash?.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (size !== undefined && seen !== size) return done(onMismatch({ kind: 'size', actual: seen }));
      const actual = hash ? `${algorithm}:${hash.digest('hex')}` : digest;
      done(actual === digest ? null : onMismatch({ kind: 'digest', actual }));
    },
  });
}

/** `sha256:0123456789ab` — enough of a digest for a message. */
export function shortDigest(digest: Digest): string {
  const colon = digest.indexOf(':');
  return digest.slice(0, colon + 13);
}
