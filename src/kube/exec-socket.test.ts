import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { RunboxError } from '../errors.ts';
import { ExecFailedError, ExecUpgradeError, execInPod } from './exec-socket.ts';
import type { KubeTarget } from './target.ts';

// The client against a local websocket peer that speaks the channel protocol,
// so each behaviour is checked without a cluster (the e2e tests do the rest).

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function peer(onConnection: (ws: WebSocket, url: URL) => void, reject?: { status: number; body: string }): Promise<KubeTarget> {
  server = createServer((_req, res) => res.writeHead(404).end());
  if (reject) {
    server.on('upgrade', (_req, socket) => {
      socket.end(`HTTP/1.1 ${reject.status} Nope\r\nContent-Type: application/json\r\nContent-Length: ${reject.body.length}\r\n\r\n${reject.body}`);
    });
  } else {
    const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false) });
    wss.on('connection', (ws, req) => onConnection(ws, new URL(req.url ?? '/', 'http://x')));
  }
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server: `http://127.0.0.1:${port}`, namespace: 'ns', context: 'test', tls: {}, headers: {} };
}

const status = (code: number) =>
  Buffer.concat([
    Buffer.from([3]),
    Buffer.from(JSON.stringify(code === 0 ? { status: 'Success' } : { status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } })),
  ]);

function collect() {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe('execInPod', () => {
  it('streams stdin, closes it with the v5 signal, keeps the streams apart and returns the exit code', async () => {
    let seenArgv: string[] = [];
    const target = await peer((ws, url) => {
      seenArgv = url.searchParams.getAll('command');
      const input: Buffer[] = [];
      ws.send(Buffer.from([1])); // the ready signal: an empty frame
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0) input.push(data.subarray(1));
        if (data[0] === 255 && data[1] === 0) {
          ws.send(Buffer.concat([Buffer.from([1]), ...input]));
          ws.send(Buffer.concat([Buffer.from([2]), Buffer.from('to stderr')]));
          ws.send(status(42));
          ws.close();
        }
      });
    });
    const out = collect();
    const err = collect();
    const code = await execInPod({
      target,
      pod: 'p',
      container: 'worker',
      command: ['cat', 'a b'],
      stdin: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(code).toBe(42);
    expect(seenArgv).toEqual(['cat', 'a b']);
    expect(out.text()).toBe('hello world');
    expect(err.text()).toBe('to stderr');
  });

  it('reports a refused upgrade with the status and the server message', async () => {
    const target = await peer(() => {}, { status: 403, body: JSON.stringify({ kind: 'Status', message: 'pods "p" is forbidden' }) });
    const run = execInPod({ target, pod: 'p', container: 'worker', command: ['true'], stdin: null, stdout: collect().stream, stderr: collect().stream });
    await expect(run).rejects.toThrow(ExecUpgradeError);
    await expect(run).rejects.toMatchObject({ status: 403, message: 'pods "p" is forbidden' });
  });

  it('marks a command that never started and consumed nothing as safe to run elsewhere', async () => {
    const target = await peer((ws) => {
      const message = 'error executing command in container: container is in CONTAINER_EXITED state';
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: 'Failure', message }))]));
      ws.close();
    });
    const run = execInPod({ target, pod: 'p', container: 'worker', command: ['true'], stdin: null, stdout: collect().stream, stderr: collect().stream });
    await expect(run).rejects.toThrow(ExecFailedError);
    await expect(run).rejects.toMatchObject({ untouched: true, message: expect.stringContaining('CONTAINER_EXITED') });
  });

  it('does not mark a failure after output as safe to repeat', async () => {
    const target = await peer((ws) => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('some output')]));
      ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: 'Failure', message: 'boom' }))]));
      ws.close();
    });
    const run = execInPod({ target, pod: 'p', container: 'worker', command: ['true'], stdin: null, stdout: collect().stream, stderr: collect().stream });
    await expect(run).rejects.toMatchObject({ untouched: false });
  });

  it('fails clearly when the connection drops before the command finished', async () => {
    const target = await peer((ws) => {
      ws.send(Buffer.concat([Buffer.from([1]), Buffer.from('partial')]));
      ws.terminate();
    });
    const run = execInPod({ target, pod: 'p', container: 'worker', command: ['sleep', '9'], stdin: null, stdout: collect().stream, stderr: collect().stream });
    await expect(run).rejects.toThrow(RunboxError);
    await expect(run).rejects.toThrow(/lost the connection to pod p/);
  });

  it('holds the socket while stdout is full (backpressure)', async () => {
    const chunk = Buffer.alloc(64 * 1024, 120);
    const target = await peer((ws) => {
      for (let i = 0; i < 64; i++) ws.send(Buffer.concat([Buffer.from([1]), chunk]));
      ws.send(status(0));
      ws.close();
    });
    // A slow consumer with a small buffer: write() returns false again and again.
    let received = 0;
    let maxBuffered = 0;
    const slow = new PassThrough({ highWaterMark: 16 * 1024 });
    const drain = setInterval(() => {
      maxBuffered = Math.max(maxBuffered, slow.readableLength + slow.writableLength);
      let c: Buffer | null;
      while ((c = slow.read() as Buffer | null)) received += c.length;
    }, 5);
    const code = await execInPod({ target, pod: 'p', container: 'worker', command: ['x'], stdin: null, stdout: slow, stderr: collect().stream });
    await new Promise((r) => setTimeout(r, 50));
    clearInterval(drain);
    expect(code).toBe(0);
    expect(received).toBe(64 * chunk.length);
    // Never much more than a couple of frames beyond the stream's own buffers.
    expect(maxBuffered).toBeLessThan(32 * 1024 + 4 * chunk.length);
  });
});
