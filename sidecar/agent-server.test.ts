import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { frameChannel } from '../src/env/sync/frames.ts';
import { endSync, syncOnce } from '../src/env/sync/session.ts';
import { AGENT_WELCOME } from '../src/contract/sidecar.ts';
import { startAgentServer, type AgentServer } from './agent-server.ts';

// The warm agents of the sidecar's server, over a real loopback connection, as the bridge reaches them.

const servers: AgentServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.server.close();
});

async function serverIn(dir: string): Promise<{ port: number; key: string }> {
  const keyFile = join(dir, 'key');
  const s = startAgentServer({ port: 0, keyFile, log: () => {} });
  servers.push(s);
  await once(s.server, 'listening');
  return { port: (s.server.address() as AddressInfo).port, key: readFileSync(keyFile, 'utf8') };
}

async function session(port: number, key: string, root: string) {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(key);
  const chan = frameChannel(socket, socket);
  await chan.sendJson({ agent: ['sync', root] });
  return { socket, chan, hello: await chan.nextJson<{ hello?: string }>() };
}

describe('the sidecar keeping sync agents warm', () => {
  it('serves a sync to a caller with the key, and keeps the folder watched for the next one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-agent-server-'));
    const [local, remote] = [mkdtempSync(join(dir, 'l')), mkdtempSync(join(dir, 'r'))];
    writeFileSync(join(local, 'my_file'), 'hello');
    const { port, key } = await serverIn(dir);

    const one = await session(port, key, remote);
    expect(one.hello).toEqual(AGENT_WELCOME);
    const first = await syncOnce(one.chan, { localRoot: local, base: undefined, direction: 'both', dryRun: false, now: new Date() });
    await endSync(one.chan);
    one.socket.end();
    expect(first.remoteRead).toBe('walked');
    expect(readFileSync(join(remote, 'my_file'), 'utf8')).toBe('hello');

    const two = await session(port, key, remote);
    const second = await syncOnce(two.chan, { localRoot: local, base: first.state, folders: first.folders, remote: first.remote, direction: 'both', dryRun: false, now: new Date() });
    await endSync(two.chan);
    two.socket.end();
    expect(second.remoteRead).toBe('changes');
    expect(second.actions).toEqual([]);
  });

  it('closes a connection that brings the wrong key, before reading anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-agent-server-key-'));
    const { port, key } = await serverIn(dir);
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('x'.repeat(key.length));
    socket.resume();
    await once(socket, 'close');
  });
});
