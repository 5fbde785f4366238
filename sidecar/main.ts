// The runbox sidecar: runs beside the worker in every environment pod and
// answers the endpoints the readiness probe, the CLI and the controller use.
// Exec'd as `node sidecar.mjs runbox-agent sync ROOT` (or `... snapshot`), it is
// instead the agent of one `runbox sync` (or snapshot), speaking the framed
// protocol on stdin/stdout.
import { createServer } from 'node:http';
import { AGENT_MARKER, SIDECAR_ENDPOINT, SIDECAR_PORT, SIDECAR_PORT_VARIABLE } from '../src/contract/sidecar.ts';
import { podActivity } from './activity.ts';

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

const server = createServer((req, res) => {
  if (req.url === SIDECAR_ENDPOINT.health) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.url === SIDECAR_ENDPOINT.status) {
    podActivity('/proc', process.pid)
      .then((status) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status)))
      .catch((err: Error) => res.writeHead(500).end(`${err.message}\n`));
    return;
  }
  res.writeHead(404).end();
});
server.listen(port, () => console.error(`runbox sidecar listening on :${port}`));

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
