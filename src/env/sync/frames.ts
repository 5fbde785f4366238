import { PassThrough, type Readable, type Writable } from 'node:stream';

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

/** Incremental decoder: bytes in, whole frames out. */
export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    while (this.buffered.length >= 5) {
      const length = this.buffered.readUInt32BE(0);
      if (length < 1 || length > MAX_FRAME) throw new Error(`sync protocol: bad frame length ${length}`);
      if (this.buffered.length < 4 + length) break;
      frames.push({ kind: this.buffered[4] as FrameKind, payload: this.buffered.subarray(5, 4 + length) });
      this.buffered = this.buffered.subarray(4 + length);
    }
    return frames;
  }
}

/** Both directions of a framed conversation. */
export interface FrameChannel {
  send(kind: FrameKind, payload: Buffer): Promise<void>;
  sendJson(value: unknown): Promise<void>;
  next(): Promise<Frame>;
  nextJson<T>(): Promise<T>;
  /** Streams `source` as data frames, then an end frame. */
  sendStream(source: Readable): Promise<void>;
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
  const send = async (kind: FrameKind, payload: Buffer) => {
    if (broken) throw broken;
    // A small frame goes as one write: as two, on a TCP hop (the sidecar's bridge) Nagle's algorithm
    // holds the second until the first is acknowledged, and the peer delays that ack by up to 40 ms.
    // A big one goes as two writes with nothing between them: no copy of every data chunk.
    let room: boolean;
    if (payload.length < SMALL_FRAME) room = output.write(Buffer.concat([frameHead(kind, payload.length), payload]));
    else {
      output.write(frameHead(kind, payload.length));
      room = output.write(payload);
    }
    if (!room) await new Promise((r) => output.once('drain', r));
    if (broken) throw broken;
  };
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
    sendJson: (value) => send(FrameKind.json, Buffer.from(JSON.stringify(value))),
    next,
    async nextJson<T>() {
      const frame = await next();
      if (frame.kind !== FrameKind.json) throw new Error(`sync protocol: expected a message, got frame kind ${frame.kind}`);
      return JSON.parse(frame.payload.toString()) as T;
    },
    async sendStream(source) {
      // Small chunks (a tar header, a small file) are gathered into frames of DATA_CHUNK: one per
      // chunk made tens of thousands of tiny writes for a tree of small files.
      let held: Buffer[] = [];
      let heldBytes = 0;
      const flush = async () => {
        if (heldBytes > 0) await send(FrameKind.data, held.length === 1 ? held[0]! : Buffer.concat(held));
        held = [];
        heldBytes = 0;
      };
      for await (const chunk of source) {
        const bytes = chunk as Buffer;
        if (bytes.length >= DATA_CHUNK) {
          await flush();
          for (let at = 0; at < bytes.length; at += DATA_CHUNK) await send(FrameKind.data, bytes.subarray(at, at + DATA_CHUNK));
          continue;
        }
        held.push(bytes);
        heldBytes += bytes.length;
        if (heldBytes >= DATA_CHUNK) await flush();
      }
      await flush();
      await send(FrameKind.end, Buffer.alloc(0));
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
