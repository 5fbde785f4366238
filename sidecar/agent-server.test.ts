import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { Socket, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { frameChannel } from '../src/env/sync/frames.ts';
import { endSync, syncOnce } from '../src/env/sync/session.ts';
import { AGENT_BRIDGE_UNAVAILABLE, AGENT_WELCOME, agentBridgeCommand, type BridgeEnds } from '../src/contract/sidecar.ts';
import { startAgentServer, type AgentServer } from './agent-server.ts';

// The warm agents of the sidecar's server, over a real loopback connection, as the bridge reaches them.

const servers: AgentServer[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.server.close();
    s.direct.close();
  }
});

async function serverIn(dir: string): Promise<{ port: number; key: string; ends: BridgeEnds }> {
  const keyFile = join(dir, 'key');
  const s = startAgentServer({ port: 0, directPort: 0, keyFile, log: () => {} });
  servers.push(s);
  await Promise.all([once(s.server, 'listening'), once(s.direct, 'listening')]);
  const port = (s.server.address() as AddressInfo).port;
  return { port, key: readFileSync(keyFile, 'utf8'), ends: { keyFile, port, directPort: (s.direct.address() as AddressInfo).port } };
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

/** The processes `pid` started, by pid (Linux). */
const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
const commandOf = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

/**
 * The real bash bridge (contract/sidecar.ts) to a server of this test, its stdin and stdout pipes
 * whose other ends the test holds, as the runtime holds an exec's (fifos here: Node makes no
 * anonymous pipes); or, spawned by Node, socket pairs.
 */
function bridge(ends: BridgeEnds, root: string, opts: { pipes: boolean }) {
  const command = agentBridgeCommand(['sync', root], ends);
  if (!opts.pipes) {
    const child = spawn(command[0]!, command.slice(1));
    return { child, exited: once(child, 'exit'), bash: child.pid!, chan: frameChannel(child.stdout, child.stdin), hangUp: () => child.stdin.end() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'rb-bridge-fifos-'));
  const [inPath, outPath] = [join(dir, 'in'), join(dir, 'out')]; // the shell below opens these
  execFileSync('mkfifo', [inPath, outPath]);
  // Held before the bridge opens them, so its opens never wait: read-write makes the writer open at once.
  const toBridge = new Socket({ fd: openSync(inPath, constants.O_RDWR), readable: false, writable: true });
  const fromBridge = new Socket({ fd: openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  const child = spawn('sh', ['-c', 'exec "$@" < "$0/in" > "$0/out"', dir, ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { child, exited: once(child, 'exit'), bash: child.pid!, chan: frameChannel(fromBridge, toBridge), hangUp: () => toBridge.end() };
}

/** A bridge to a server of this test, welcomed, for a folder `remote` to sync with `local` (which holds my_file). */
async function welcomedBridge(opts: { pipes: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'rb-bridge-'));
  const [local, remote] = [mkdtempSync(join(dir, 'l')), mkdtempSync(join(dir, 'r'))];
  writeFileSync(join(local, 'my_file'), 'hello');
  const { ends } = await serverIn(dir);
  const b = bridge(ends, remote, opts);
  await b.chan.sendJson({ agent: ['sync', remote] });
  expect(await b.chan.nextJson()).toEqual(AGENT_WELCOME);
  return { b, local, remote };
}

describe('the bash bridge to the warm agents', () => {
  it('is served on its own pipes, with no process copying the bytes, and ends with the session', async () => {
    const { b, local, remote } = await welcomedBridge({ pipes: true });
    expect(childrenOf(b.bash)).toEqual([]);
    const report = await syncOnce(b.chan, { localRoot: local, base: undefined, direction: 'both', dryRun: false, now: new Date() });
    await endSync(b.chan);
    expect(report.uploaded).toBe(1);
    expect(readFileSync(join(remote, 'my_file'), 'utf8')).toBe('hello');
    // After the goodbye the server closes the connection, which ends the bridge, its stdin still open.
    expect(await b.exited).toEqual([0, null]);
    b.hangUp();
  });

  it('copies through the other port where the server cannot open its stdin and stdout (not pipes)', async () => {
    const { b, local } = await welcomedBridge({ pipes: false });
    expect(childrenOf(b.bash).map(commandOf)).toEqual(['cat', 'cat']);
    const report = await syncOnce(b.chan, { localRoot: local, base: undefined, direction: 'both', dryRun: false, now: new Date() });
    await endSync(b.chan);
    b.hangUp();
    expect(report.uploaded).toBe(1);
    expect(await b.exited).toEqual([0, null]);
  });

  it('ends when its caller goes away without a goodbye', async () => {
    const { b } = await welcomedBridge({ pipes: true });
    b.hangUp();
    expect(await b.exited).toEqual([0, null]);
  });

  it('exits 97 where no key is to be read (no warm agents: the caller starts an agent process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-bridge-nokey-'));
    const { ends } = await serverIn(dir);
    const b = bridge({ ...ends, keyFile: join(dir, 'absent') }, dir, { pipes: false });
    expect(await b.exited).toEqual([AGENT_BRIDGE_UNAVAILABLE, null]);
  });
});
