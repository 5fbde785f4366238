import { PassThrough, Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameKind, encodeFrame, frameChannel } from './frames.ts';

describe('a frame channel', () => {
  it('pauses its input while more than 8 MiB of frames wait unread, and resumes once they are read', async () => {
    const input = new PassThrough();
    const chan = frameChannel(input, new PassThrough());
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 12; i++) input.write(encodeFrame(FrameKind.data, chunk));
    await new Promise((r) => setImmediate(r));
    expect(input.isPaused()).toBe(true);
    for (let i = 0; i < 11; i++) await chan.next();
    expect(input.isPaused()).toBe(false);
    expect((await chan.next()).payload.length).toBe(chunk.length);
  });

  it('skips pings, and knows when the other side was last heard from', async () => {
    const input = new PassThrough();
    const chan = frameChannel(input, new PassThrough());
    expect(chan.lastHeard()).toBeUndefined();
    input.write(encodeFrame(FrameKind.ping, Buffer.alloc(0)));
    input.write(encodeFrame(FrameKind.json, Buffer.from('{"a":1}')));
    expect(await chan.nextJson()).toEqual({ a: 1 });
    expect(chan.lastHeard()).toBeGreaterThan(Date.now() - 1000);
  });

  it('decodes frames however the bytes are cut into chunks', () => {
    const frames = [Buffer.from('{"op":"manifest"}'), Buffer.alloc(0), Buffer.alloc(300_000, 7), Buffer.from('x')].map((p, i) => ({ kind: i % 2 ? FrameKind.data : FrameKind.json, payload: p }));
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f.kind, f.payload)));
    for (const cut of [1, 2, 3, 5, 7, 4096, 16_384, 100_000, wire.length]) {
      const d = new FrameDecoder();
      const got = [];
      for (let at = 0; at < wire.length; at += cut) got.push(...d.push(wire.subarray(at, at + cut)));
      expect(got.map((f) => [f.kind, f.payload.toString('hex')]), `cut ${cut}`).toEqual(frames.map((f) => [f.kind, f.payload.toString('hex')]));
    }
  });

  it('sends a request with its small stream in one write, and a big stream in pieces after it', async () => {
    const writes: Buffer[] = [];
    const output = new Writable({ write: (c: Buffer, _e, done) => (writes.push(c), done()) });
    const chan = frameChannel(new PassThrough(), output);
    // Many small writes with no answer between them are what Nagle's algorithm holds back on the bridge's TCP hop.
    await chan.sendStream(Readable.from([Buffer.alloc(512, 1), Buffer.alloc(1892, 2), Buffer.alloc(1024)]), { op: 'receive' });
    expect(writes).toHaveLength(1);
    expect(new FrameDecoder().push(writes[0]!).map((f) => [f.kind, f.payload.length])).toEqual([
      [FrameKind.json, '{"op":"receive"}'.length],
      [FrameKind.data, 512 + 1892 + 1024],
      [FrameKind.end, 0],
    ]);
    writes.length = 0;
    await chan.sendStream(Readable.from([Buffer.alloc(512, 1), Buffer.alloc(600_000, 2), Buffer.alloc(1024)]), { op: 'receive' });
    const frames = new FrameDecoder().push(Buffer.concat(writes));
    expect(frames.map((f) => f.kind)).toEqual([FrameKind.json, FrameKind.data, FrameKind.data, FrameKind.data, FrameKind.data, FrameKind.data, FrameKind.end]);
    expect(frames.reduce((n, f) => n + (f.kind === FrameKind.data ? f.payload.length : 0), 0)).toBe(512 + 600_000 + 1024);
  });
});
