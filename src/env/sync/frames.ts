import { PassThrough, type Readable, type Writable } from 'node:stream';
import { noteMoved } from '../../kube/young-gc.ts';

/*
 * The sync protocol's framing, over any byte stream (the exec websocket's
 * stdin and stdout): length-prefixed frames, so it never needs end-of-stdin
 * (v4 exec has none). A frame: u32 length of what follows, u8 kind, payload.
 *
 * The agent also sends a `ping` frame every few seconds while it lives: an
 * exec whose process died does not always end (containerd keeps the session
 * while stdin is backed up), so silence is how the laptop tells.
 */

export const FrameKind = { json: 1, data: 2, end: 3, ping: 4 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface Frame {
  kind: FrameKind;
  payload: Buffer;
}

const MAX_FRAME = 64 * 1024 * 1024;
/** Frames up to this size are written in one piece. */
const SMALL_FRAME = 64 * 1024;
/** Data chunks smaller than this are gathered into one frame (copied); bigger ones go as they are. */
const GATHER_BELOW = 32 * 1024;
/** Tar data goes in frames of at most this size. */
export const DATA_CHUNK = 256 * 1024;

/** The five bytes before a payload: its length (plus the kind byte) and its kind. */
function frameHead(kind: FrameKind, payloadLength: number): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(payloadLength + 1, 0);
  head[4] = kind;
  return head;
}

export const encodeFrame = (kind: FrameKind, payload: Buffer): Buffer => Buffer.concat([frameHead(kind, payload.length), payload]);

/**
 * Incremental decoder: bytes in, whole frames out. Chunks are kept as they
 * came, and a frame's bytes are copied once, when the frame is whole (or not
 * at all when one chunk holds it): gluing each chunk to what was buffered
 * copied a 256 KiB frame that came in 16 KiB pieces sixteen times over.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Index of the first chunk not yet consumed (shifting an array is linear). */
  private first = 0;
  private buffered = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.buffered >= 5) {
      const length = this.peek(5).readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME) throw new Error(`sync protocol: bad frame length ${length}`);
      if (this.buffered < 4 + length) break;
      const whole = this.take(4 + length);
      frames.push({ kind: whole[4] as FrameKind, payload: whole.subarray(5) });
    }
    if (this.first > 1024) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
    return frames;
  }

  /** The first n buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    if (this.chunks[this.first]!.length < n) {
      let k = this.first;
      for (let have = 0; have < n; k++) have += this.chunks[k]!.length;
      const merged = Buffer.concat(this.chunks.slice(this.first, k));
      this.chunks.splice(this.first, k - this.first, merged);
    }
    return this.chunks[this.first]!.subarray(0, n);
  }

  /** Consumes the first n buffered bytes. */
  private take(n: number): Buffer {
    const head = this.chunks[this.first]!;
    this.buffered -= n;
    if (head.length >= n) {
      if (head.length === n) this.first++;
      else this.chunks[this.first] = head.subarray(n);
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let at = 0; at < n; ) {
      const c = this.chunks[this.first]!;
      const want = Math.min(c.length, n - at);
      c.copy(out, at, 0, want);
      at += want;
      if (want === c.length) this.first++;
      else this.chunks[this.first] = c.subarray(want);
    }
    return out;
  }
}

/** Both directions of a framed conversation. */
export interface FrameChannel {
  send(kind: FrameKind, payload: Buffer): Promise<void>;
  sendJson(value: unknown): Promise<void>;
  next(): Promise<Frame>;
  nextJson<T>(): Promise<T>;
  /**
   * Streams `source` as data frames, then an end frame; `head`, a message, goes
   * first in the same write as the first data, and the end frame in the same
   * write as the last, so a small stream with its request is one write.
   */
  sendStream(source: Readable, head?: unknown): Promise<void>;
  /** The data frames up to the next end frame, as a stream. */
  receiveStream(): Readable;
  /** When the other side was last heard from, once it has sent a ping (older agents never do). */
  lastHeard(): number | undefined;
}

export const PING_EVERY_MS = 2000;

/** Pings the other side, first at once (so that it knows to expect pings), until the returned stop is called. */
export function keepAlive(chan: FrameChannel): () => void {
  const ping = () => void chan.send(FrameKind.ping, Buffer.alloc(0)).catch(() => {});
  ping();
  const timer = setInterval(ping, PING_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Received frames held unread before the input is paused (the sender then waits: flow control end to end). */
const QUEUE_HIGH = 8 * 1024 * 1024;
const QUEUE_LOW = 2 * 1024 * 1024;

export function frameChannel(input: Readable, output: Writable): FrameChannel {
  const decoder = new FrameDecoder();
  const queue: Frame[] = [];
  let queued = 0;
  let paused = false;
  const waiting: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  let heard: number | undefined;
  const take = (): Frame => {
    const frame = queue.shift()!;
    queued -= frame.payload.length;
    if (paused && queued < QUEUE_LOW) {
      paused = false;
      input.resume();
    }
    return frame;
  };
  const deliver = () => {
    while (queue.length > 0 && waiting.length > 0) waiting.shift()!.resolve(take());
    if (failure) for (const w of waiting.splice(0)) w.reject(failure);
  };
  input.on('data', (chunk: Buffer) => {
    // What comes in is held while frames are whole; the other end's stream (an exec socket) counts what goes out.
    noteMoved(chunk.length);
    try {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind === FrameKind.ping) heard = Date.now();
        else {
          queue.push(frame);
          queued += frame.payload.length;
        }
      }
      if (heard !== undefined) heard = Date.now();
      // A reader slower than the network (a disk, a busy agent) must slow the sender, not fill memory.
      if (queued > QUEUE_HIGH && !paused) {
        paused = true;
        input.pause();
      }
    } catch (err) {
      failure = err as Error;
    }
    deliver();
  });
  const ended = (why: string) => () => {
    failure ??= new Error(why);
    deliver();
  };
  input.on('end', ended('the other side of the sync ended the conversation'));
  input.on('close', ended('the other side of the sync closed the conversation'));
  input.on('error', (err: Error) => {
    failure ??= err;
    deliver();
  });

  let broken: Error | undefined;
  output.on('error', (err: Error) => {
    broken ??= err;
    output.emit('drain'); // wake a sender waiting for room: it will see `broken`
  });
  /**
   * Writes frames, the small ones gathered into one write. Small writes that follow one another
   * with no answer between them are what to avoid: on a TCP hop (the sidecar's bridge) Nagle's
   * algorithm holds the second until the first is acknowledged, and the peer delays that ack by
   * up to 40 ms. A big payload goes as a write of its own: no copy of every data chunk.
   */
  const sendFrames = async (frames: Frame[]) => {
    if (broken) throw broken;
    let room = true;
    let small: Buffer[] = [];
    for (const { kind, payload } of frames) {
      small.push(frameHead(kind, payload.length));
      if (payload.length < SMALL_FRAME) small.push(payload);
      else {
        room = output.write(small.length === 1 ? small[0]! : Buffer.concat(small));
        room = output.write(payload);
        small = [];
      }
    }
    if (small.length > 0) room = output.write(small.length === 1 ? small[0]! : Buffer.concat(small));
    if (!room) await new Promise((r) => output.once('drain', r));
    if (broken) throw broken;
  };
  const send = (kind: FrameKind, payload: Buffer) => sendFrames([{ kind, payload }]);
  const jsonFrame = (value: unknown): Frame => ({ kind: FrameKind.json, payload: Buffer.from(JSON.stringify(value)) });
  const next = () =>
    new Promise<Frame>((resolve, reject) => {
      if (queue.length > 0) return resolve(take());
      if (failure) return reject(failure);
      waiting.push({ resolve, reject });
    });
  const channel: FrameChannel = {
    // Not reading (paused for a slow reader) is not the other side falling silent.
    lastHeard: () => (paused && heard !== undefined ? Date.now() : heard),
    send,
    sendJson: (value) => sendFrames([jsonFrame(value)]),
    next,
    async nextJson<T>() {
      const frame = await next();
      if (frame.kind !== FrameKind.json) throw new Error(`sync protocol: expected a message, got frame kind ${frame.kind}`);
      return JSON.parse(frame.payload.toString()) as T;
    },
    async sendStream(source, head) {
      // Small chunks (a tar header, a small file) are gathered into frames of DATA_CHUNK: one per
      // chunk made tens of thousands of tiny writes for a tree of small files.
      let held: Buffer[] = [];
      let heldBytes = 0;
      let first: Frame[] = head === undefined ? [] : [jsonFrame(head)];
      const gathered = (): Frame[] => {
        const frames = [...first, ...(heldBytes > 0 ? [{ kind: FrameKind.data, payload: held.length === 1 ? held[0]! : Buffer.concat(held) }] : [])];
        first = [];
        held = [];
        heldBytes = 0;
        return frames;
      };
      for await (const chunk of source) {
        const bytes = chunk as Buffer;
        if (bytes.length >= GATHER_BELOW) {
          await sendFrames(gathered());
          for (let at = 0; at < bytes.length; at += DATA_CHUNK) await send(FrameKind.data, bytes.subarray(at, at + DATA_CHUNK));
          continue;
        }
        held.push(bytes);
        heldBytes += bytes.length;
        if (heldBytes >= DATA_CHUNK) await sendFrames(gathered());
      }
      await sendFrames([...gathered(), { kind: FrameKind.end, payload: Buffer.alloc(0) }]);
    },
    receiveStream() {
      const out = new PassThrough();
      void (async () => {
        try {
          for (;;) {
            const frame = await next();
            if (frame.kind === FrameKind.end) break;
            if (frame.kind !== FrameKind.data) throw new Error(`sync protocol: expected data, got frame kind ${frame.kind}`);
            if (!out.write(frame.payload)) await new Promise((r) => out.once('drain', r));
          }
          out.end();
        } catch (err) {
          out.destroy(err as Error);
        }
      })();
      return out;
    },
  };
  return channel;
}
