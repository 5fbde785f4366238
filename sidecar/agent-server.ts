import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { AGENT_KEY_LENGTH, AGENT_WELCOME, type AgentHello } from '../src/contract/sidecar.ts';
import { frameChannel, keepAlive } from '../src/env/sync/frames.ts';
import { serveSync } from '../src/env/sync/agent.ts';
import { liveManifests } from '../src/env/sync/live-manifest.ts';

/*
 * Sync agents kept warm in the sidecar's own process (see AGENT_PORT in the
 * contract): a connection brings the key, then a hello naming the agent
 * (`['sync', ROOT]`), then speaks the framed protocol. The folders' live
 * manifests outlive the sessions, so the next sync of a folder reads only
 * what changed. A session in flight counts as an agent at work through its
 * bridge, whose argv carries the agent marker (activity.ts).
 */

export interface AgentServer {
  server: Server;
}

export function startAgentServer(opts: { port: number; keyFile: string; log: (msg: string) => void }): AgentServer {
  const key = randomBytes(AGENT_KEY_LENGTH / 2).toString('hex');
  writeFileSync(opts.keyFile, key, { mode: 0o600 });
  const live = liveManifests();

  async function session(socket: Socket): Promise<void> {
    const given = await readKey(socket, key.length);
    if (given === undefined || !timingSafeEqual(Buffer.from(given), Buffer.from(key))) {
      socket.destroy();
      return;
    }
    const chan = frameChannel(socket, socket);
    socket.resume();
    const hello = await chan.nextJson<AgentHello>();
    const [kind, root] = hello.agent;
    if (kind !== 'sync' || !root) {
      await chan.sendJson({ error: `this sidecar keeps no ${String(kind)} agent warm` });
      socket.end();
      return;
    }
    const stopPings = keepAlive(chan);
    try {
      await chan.sendJson(AGENT_WELCOME);
      await serveSync(chan, root, live);
    } finally {
      stopPings();
      socket.end();
    }
  }

  // No Nagle: an answer's frames must not wait for the bridge to acknowledge the ones before.
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    session(socket).catch((err: Error) => {
      // The other end went away mid-session (a killed CLI): nothing to answer.
      if (!/ended|closed/.test(err.message)) opts.log(`sync session: ${err.message}`);
      socket.destroy();
    });
  });
  server.listen(opts.port, '127.0.0.1');
  return { server };
}

/** The first `length` bytes of the connection (the bridge's key), or undefined if it ends first; the rest goes back. */
function readKey(socket: Socket, length: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < length) return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (got.length > length) socket.unshift(got.subarray(length));
      resolve(got.subarray(0, length).toString());
    };
    const onEnd = () => resolve(undefined);
    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}
