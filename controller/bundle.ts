// The controller as it runs in the cluster (manifests/): `node controller.mjs`
// on the official Node image, with its service account's credentials.
import { readFileSync } from 'node:fs';
import type { KubeTarget } from '../src/kube/target.ts';
import { runController } from './main.ts';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';

function inCluster(): KubeTarget {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('not in a cluster (KUBERNETES_SERVICE_HOST is unset); run `runbox controller` instead');
  const target: KubeTarget = {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace: readFileSync(`${SA}/namespace`, 'utf8').trim(),
    context: 'in-cluster',
    tls: { ca: readFileSync(`${SA}/ca.crt`) },
    headers: {},
  };
  // Bound service-account tokens rotate: read it again now and then (requests read the headers each time).
  const token = () => (target.headers.authorization = `Bearer ${readFileSync(`${SA}/token`, 'utf8').trim()}`);
  token();
  setInterval(token, 60_000).unref();
  return target;
}

const stop = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
try {
  await runController({
    kube: inCluster(),
    namespace: process.env.RUNBOX_WATCH_NAMESPACE || undefined,
    sidecarRoute: 'pod-ip',
    metricsPort: Number(process.env.RUNBOX_METRICS_PORT ?? 8080),
    identity: process.env.POD_NAME,
    signal: stop.signal,
  });
} catch (err) {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: (err as Error).message })}\n`);
  process.exit(1);
}
