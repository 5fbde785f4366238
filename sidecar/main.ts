// The runbox sidecar: runs beside the worker in every environment pod and
// answers the endpoints the readiness probe, the CLI and the controller use.
// Exec'd as `node sidecar.mjs runbox-agent sync ROOT` (or `... snapshot`), it is
// instead the agent of one `runbox sync` (or snapshot), speaking the framed
// protocol on stdin/stdout. The server also keeps sync agents warm on a
// loopback port (agent-server.ts), reached through a bash bridge.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { DOZE_FLAG, DOZE_NOT_APPLIED, DRAIN_FLAG, IDLE_ENDPOINT } from '../src/contract/idle.ts';
import { ACTIVITY_SAMPLE_MS, AGENT_DIRECT_PORT, AGENT_KEY_FILE, AGENT_MARKER, AGENT_PORT, SIDECAR_ENDPOINT, SIDECAR_PORT, SIDECAR_PORT_VARIABLE } from '../src/contract/sidecar.ts';
import { podActivity } from './activity.ts';
import { startAgentServer } from './agent-server.ts';
import { idleHandshake, workerQuota } from './idle-handshake.ts';
import { lastRun } from './last-run.ts';
import { podMemoryUsage } from './memory-usage.ts';
import { workerProcess } from './snapshot/worker-process.ts';

const agent = process.argv.indexOf(AGENT_MARKER);
if (agent >= 0) {
  const [kind, root] = process.argv.slice(agent + 1);
  const [{ frameChannel, keepAlive }] = await Promise.all([import('../src/env/sync/frames.ts')]);
  const chan = frameChannel(process.stdin, process.stdout);
  keepAlive(chan);
  if (kind === 'sync' && root) {
    const { serveSync } = await import('../src/env/sync/agent.ts');
    await serveSync(chan, root);
  } else if (kind === 'snapshot') {
    const { serveSnapshot } = await import('./snapshot/serve.ts');
    await serveSnapshot(chan);
  } else {
    console.error(`runbox sidecar: unknown agent ${kind ?? ''}`);
    process.exit(2);
  }
  process.exit(0);
}

const port = Number(process.env[SIDECAR_PORT_VARIABLE] ?? SIDECAR_PORT);
const activity = (opts: { countPrologues?: boolean } = {}) => podActivity('/proc', process.pid, opts);
const handshake = idleHandshake({
  flags: { drain: DRAIN_FLAG, doze: DOZE_FLAG },
  activity,
  workerQuota: () => workerQuota('/proc', () => workerProcess('/proc').catch(() => undefined)),
});
const say = (msg: string) => console.error(`${new Date().toISOString()} runbox sidecar: ${msg}`);
await handshake.reset().then(
  () => say('no doze or drain flag holds'),
  (err: Error) => say(`clearing idle flags: ${err.message}`),
);

// The last time anything ran, so that the controller can tell how long the pod has been idle
// even when a long command ended between two of its looks.
let lastBusy = new Date();
const sample = setInterval(() => {
  activity()
    .then((s) => {
      if (s.busy > 0) lastBusy = new Date();
    })
    .catch(() => {});
}, ACTIVITY_SAMPLE_MS);
sample.unref();

const json = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  const body: unknown = text ? JSON.parse(text) : {};
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === SIDECAR_ENDPOINT.health) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.url === SIDECAR_ENDPOINT.status) {
    const pid = await workerProcess('/proc').catch(() => undefined);
    const [status, ran, memory] = await Promise.all([activity(), lastRun('/proc', pid), podMemoryUsage('/proc', pid)]);
    if (status.busy > 0) lastBusy = new Date();
    if (ran && ran > lastBusy) lastBusy = ran;
    json(res, 200, { ...status, lastBusy: lastBusy.toISOString(), ...(memory ? { memory } : {}) });
    return;
  }
  if (req.method === 'POST' && req.url === IDLE_ENDPOINT.drain) {
    const r = await handshake.drain();
    say(r.ok ? 'draining: new commands are refused' : `not draining: busy (${[...r.status.commands, ...r.status.agents].join('; ').slice(0, 200)})`);
    json(res, r.ok ? 200 : 409, r.ok ? { draining: true } : r.status);
    return;
  }
  if (req.method === 'POST' && req.url === IDLE_ENDPOINT.undrain) {
    await handshake.undrain();
    say('drain called off');
    json(res, 200, { draining: false });
    return;
  }
  if (req.method === 'POST' && req.url === IDLE_ENDPOINT.doze) {
    const quota = Number((await readJson(req)).quota);
    if (!Number.isInteger(quota)) {
      json(res, 400, { error: 'quota must be an integer' });
      return;
    }
    const r = await handshake.doze(quota);
    if ('applied' in r) {
      say(`not dozing: the worker's CPU quota is still ${r.applied ?? '?'}, not ${quota}`);
      json(res, DOZE_NOT_APPLIED, { applied: r.applied ?? null });
      return;
    }
    say(r.ok ? `dozing at CPU quota ${quota}` : `not dozing: busy (${[...r.status.commands, ...r.status.agents].join('; ').slice(0, 200)})`);
    json(res, r.ok ? 200 : 409, r.ok ? { dozing: true } : r.status);
    return;
  }
  res.writeHead(404).end();
}

const server = createServer((req, res) => {
  route(req, res).catch((err: Error) => {
    if (!res.headersSent) res.writeHead(500);
    res.end(`${err.message}\n`);
  });
});
server.listen(port, () => say(`listening on :${port}`));
// Warm sync agents: a failure here leaves syncs to the agent process, so the sidecar still serves.
try {
  const agents = startAgentServer({ port: AGENT_PORT, directPort: AGENT_DIRECT_PORT, keyFile: AGENT_KEY_FILE, log: say });
  agents.server.on('error', (err: Error) => say(`warm sync agents unavailable: ${err.message}`));
  agents.direct.on('error', (err: Error) => say(`direct sessions with warm sync agents unavailable: ${err.message}`));
} catch (err) {
  say(`warm sync agents unavailable: ${(err as Error).message}`);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
