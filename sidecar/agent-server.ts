import { randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { AGENT_DIRECT_ANSWER, AGENT_KEY_LENGTH, AGENT_WELCOME, type AgentHello } from '../src/contract/sidecar.ts';
import { frameChannel, keepAlive } from '../src/env/sync/frames.ts';
import { serveSync } from '../src/env/sync/agent.ts';
import { liveManifests } from '../src/env/sync/live-manifest.ts';
import { bridgePipes } from './bridge-pipes.ts';

/*
 * Sync agents kept warm in the sidecar's own process (see AGENT_PORT and
 * AGENT_DIRECT_PORT in the contract): a bridge brings the key, then a hello
 * naming the agent (`['sync', ROOT]`) comes, and the framed protocol flows:
 * on the bridge's own stdin and stdout (direct), or through the connection
 * (copied by the bridge's cats). The folders' live manifests outlive the
 * sessions, so the next sync of a folder reads only what changed. A session
 * in flight counts as an agent at work through its bridge, whose argv carries
 * the agent marker (activity.ts).
 */

export interface AgentServer {
  /** Copied sessions. */
  server: Server;
  /** Direct sessions. */
  direct: Server;
}

export interface AgentServerOptions {
  port: number;
  directPort: number;
  keyFile: string;
  log: (msg: string) => void;
  /** Where the bridges' processes are seen (their pipes opened). */
  proc?: string;
}

export function startAgentServer(opts: AgentServerOptions): AgentServer {
  const key = randomBytes(AGENT_KEY_LENGTH / 2).toString('hex');
  writeFileSync(opts.keyFile, key, { mode: 0o600 });
  const live = liveManifests();
  const proc = opts.proc ?? '/proc';
  const isKey = (given: string | undefined) => given !== undefined && given.length === key.length && timingSafeEqual(Buffer.from(given), Buffer.from(key));

  async function converse(input: Readable, output: Writable): Promise<void> {
    const chan = frameChannel(input, output);
    const hello = await chan.nextJson<AgentHello>();
    const [kind, root] = hello.agent;
    if (kind !== 'sync' || !root) {
      await chan.sendJson({ error: `this sidecar keeps no ${String(kind)} agent warm` });
      return;
    }
    const stopPings = keepAlive(chan);
    try {
      await chan.sendJson(AGENT_WELCOME);
      await serveSync(chan, root, live);
    } finally {
      stopPings();
    }
  }

  async function copied(socket: Socket): Promise<void> {
    const given = await readUpTo(socket, key.length);
    if (!isKey(given)) {
      socket.destroy();
      return;
    }
    socket.resume();
    try {
      await converse(socket, socket);
    } finally {
      socket.end();
    }
  }

  async function direct(socket: Socket): Promise<void> {
    const line = await readUpTo(socket, key.length + 24, '\n');
    const [given, pid] = (line ?? '').split(' ');
    if (!isKey(given) || !/^\d+$/.test(pid ?? '')) {
      socket.destroy();
      return;
    }
    const pipes = bridgePipes(proc, Number(pid));
    if (!pipes) {
      socket.end('copy\n');
      return;
    }
    socket.write(`${AGENT_DIRECT_ANSWER}\n`);
    // The bridge gone (its exec ended or was killed) ends the session as well.
    socket.resume();
    socket.once('close', () => pipes.input.destroy());
    try {
      await converse(pipes.input, pipes.output);
    } finally {
      pipes.input.destroy();
      // The last answer reaches the pipe before the connection's end lets the bridge exit.
      pipes.output.end();
      if (!pipes.output.writableFinished) await once(pipes.output, 'close').catch(() => {});
      socket.end();
    }
  }

  // No Nagle: an answer's frames must not wait for the bridge to acknowledge the ones before.
  const listen = (port: number, serve: (socket: Socket) => Promise<void>): Server => {
    const server = createServer({ noDelay: true }, (socket) => {
      socket.on('error', () => {});
      serve(socket).catch((err: Error) => {
        // The other end went away mid-session (a killed CLI): nothing to answer.
        if (!/ended|closed|EPIPE/.test(err.message)) opts.log(`sync session: ${err.message}`);
        socket.destroy();
      });
    });
    server.listen(port, '127.0.0.1');
    return server;
  };
  return { server: listen(opts.port, copied), direct: listen(opts.directPort, direct) };
}

/**
 * The connection's first bytes: `length` of them, or (with `end`) up to that
 * character, at most `length`. Undefined if the connection ends first or the
 * line is longer. The rest goes back, and the socket is left paused.
 */
function readUpTo(socket: Socket, length: number, end?: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (value: string | undefined, rest?: Buffer) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (end !== undefined) {
        const at = got.indexOf(end);
        if (at >= 0 && at <= length) return done(got.subarray(0, at).toString(), got.subarray(at + 1));
        if (got.length > length) return done(undefined);
        return;
      }
      if (got.length >= length) done(got.subarray(0, length).toString(), got.subarray(length));
    };
    const onEnd = () => done(undefined);
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}
