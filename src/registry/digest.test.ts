import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { checkingStream, matchesDigest, sha256, shortDigest, type Mismatch } from './digest.ts';

const data = Buffer.from('some layer bytes');
const digest = sha256(data);

async function drain(d: string, size: number | undefined, input: Buffer[]): Promise<Mismatch | undefined> {
  let seen: Mismatch | undefined;
  const checker = checkingStream(d, size, (m) => {
    seen = m;
    return new Error('mismatch');
  });
  await pipeline(Readable.from(input), checker, async (s: AsyncIterable<Buffer>) => {
    for await (const _ of s);
  }).catch(() => undefined);
  return seen;
}

describe('digests', () => {
  it('computes and matches sha256, and cannot judge unknown algorithms', () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(matchesDigest(data, digest)).toBe(true);
    expect(matchesDigest(Buffer.from('other'), digest)).toBe(false);
    expect(matchesDigest(data, 'md5:0123456789abcdef0123456789abcdef')).toBeUndefined();
    expect(shortDigest(digest)).toBe(digest.slice(0, 19));
  });

  it('passes matching content through a checking stream', async () => {
    expect(await drain(digest, data.length, [data.subarray(0, 4), data.subarray(4)])).toBeUndefined();
  });

  it('fails a checking stream on other content or another size', async () => {
    expect(await drain(digest, undefined, [Buffer.from('tampered bytes!!')])).toEqual({ kind: 'digest', actual: sha256(Buffer.from('tampered bytes!!')) });
    expect(await drain(digest, 3, [data])).toEqual({ kind: 'size', actual: data.length });
  });
});
