// The runbox sidecar: runs beside the worker in every environment pod and
// answers the endpoints the readiness probe, the CLI and the controller use.
import { createServer } from 'node:http';
import { SIDECAR_ENDPOINT, SIDECAR_PORT, SIDECAR_PORT_VARIABLE } from '../src/contract/sidecar.ts';
import { podActivity } from './activity.ts';

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
