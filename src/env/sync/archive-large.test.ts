import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, unpack } from './archive.ts';
import { listTree, tempDir } from './archive-test-util.ts';

const MB = 1024 * 1024;
const SIZE = 100 * MB;

/** Writes SIZE bytes that differ block to block; returns their sha256. */
async function writeBig(file: string): Promise<string> {
  const block = randomBytes(MB);
  const hash = createHash('sha256');
  const fh = await open(file, 'w');
  try {
    for (let i = 0; i < SIZE / MB; i++) {
      block.writeUInt32BE(i, 0);
      hash.update(block);
      await fh.write(block);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('a 100 MB file', () => {
  let src = '';
  let want = '';
  beforeAll(async () => {
    src = await mkdtemp(path.join(tmpdir(), 'runbox-archive-big-'));
    want = await writeBig(path.join(src, 'big.bin'));
  }, 60_000);
  afterAll(async () => {
    if (src !== '') await rm(src, { recursive: true, force: true });
  });

  it('passes through pack and unpack intact, with bounded memory', { timeout: 60_000 }, async () => {
    const dst = await tempDir();
    const entries = await listTree(src);

    const rss = rssPeak();
    const started = performance.now();
    const stream = pack(src, entries);
    const got = await unpack(dst, stream).finally(rss.stop);
    const ms = performance.now() - started;
    const growthMb = rss.growthMb();
    console.log(`100 MB through pack+unpack: ${ms.toFixed(0)} ms, peak RSS growth ${growthMb.toFixed(1)} MB`);

    expect(stream.skipped).toEqual([]);
    expect(got.refused).toEqual([]);
    expect(await listTree(dst)).toEqual(entries);
    expect(await sha256Of(path.join(dst, 'big.bin'))).toBe(want);
    // Holding the file would add at least 100 MB; what remains is garbage the GC has not yet returned.
    expect(growthMb).toBeLessThan(60);
  });

  it('is read from disk only as fast as the consumer takes it', { timeout: 60_000 }, async () => {
    const entries = await listTree(src);
    const rss = rssPeak();
    const stream = pack(src, entries);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nobody reading: pack must wait
    const pausedMb = rss.growthMb();
    let bytes = 0;
    const counter = new Writable({
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        cb();
      },
    });
    await pipeline(stream, counter);
    rss.stop();
    console.log(`100 MB pack, consumer paused 500 ms: RSS growth ${pausedMb.toFixed(1)} MB while paused`);

    expect(pausedMb).toBeLessThan(20);
    expect(bytes).toBe(3 * 512 + SIZE + 1024); // PAX header + its data + header, the data, end of archive
  });
});

/** Samples RSS every 5 ms from now until stop(). */
function rssPeak() {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 5);
  return {
    stop: () => clearInterval(timer),
    growthMb: () => {
      sample();
      return (peak - before) / MB;
    },
  };
}
