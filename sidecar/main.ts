// The runbox sidecar: runs beside the worker in every environment pod and
// answers the status endpoint the readiness probe and the idle controller use.
import { createServer } from 'node:http';
import { workerActivity } from './activity.ts';

const port = Number(process.env.RUNBOX_SIDECAR_PORT ?? 7717);

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    return;
  }
  if (req.url === '/status') {
    workerActivity('/proc', process.pid)
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
