import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { CONTROLLER_LEASE, SYSTEM_NAMESPACE } from '../src/contract/config.ts';
import { LABEL_ENV, LABEL_MANAGED_BY, MANAGED_BY } from '../src/contract/names.ts';
import { readClusterConfig } from '../src/env/config/cluster-config.ts';
import { idleRecord } from '../src/env/idle/policy.ts';
import { startInformer, type Informer } from '../src/kube/informer.ts';
import { collectionPath } from '../src/kube/paths.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment, Pod } from '../src/kube/types.ts';
import { runLeaderElection } from './lease.ts';
import { METRICS_CONTENT_TYPE, createRegistry } from './metrics.ts';
import { SLEEPS_AT_ONCE } from './act.ts';
import { atMost, workQueue } from './queue.ts';
import { envKey, reconcile, type NamespaceSettings, type Observer } from './reconciler.ts';
import { sidecarClient, type SidecarRoute } from './sidecar-client.ts';

/*
 * The idle controller: watches every runbox environment (informers on their
 * Deployments and pods, no polling), and dozes or sleeps the idle ones
 * (reconciler.ts). One replica leads at a time (a Lease); all of them serve
 * /healthz and /metrics.
 */

export interface ControllerOptions {
  kube: KubeTarget;
  /** Watch this namespace only (default: all). */
  namespace?: string | undefined;
  sidecarRoute: SidecarRoute;
  /** 0: no HTTP server. */
  metricsPort: number;
  leaseNamespace?: string;
  identity?: string;
  signal: AbortSignal;
  /** Where the JSON log lines go (stderr). */
  write?: (line: string) => void;
}

const SETTINGS_TTL_MS = 60_000;
const CONCURRENCY = 4;

export async function runController(o: ControllerOptions): Promise<void> {
  const write = o.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log: Observer['log'] = (level, msg, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  const identity = o.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`;

  const registry = createRegistry();
  const apiRequests = registry.counter('runbox_controller_api_requests_total', 'Requests to the Kubernetes API server, by verb.', ['verb']);
  const kube: KubeTarget = { ...o.kube, onRequest: (method) => apiRequests.inc({ verb: method }) };
  const wakes = registry.counter('runbox_wakes_total', 'Environments seen going from asleep to running.');
  const actions = registry.counter('runbox_idle_actions_total', 'Dozes and sleeps, by outcome (done, busy: something started, failed).', ['action', 'outcome']);
  const actionSeconds = registry.histogram('runbox_idle_action_duration_seconds', 'How long a doze or a sleep took.', ['action'], [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  const snapshotSeconds = registry.histogram('runbox_snapshot_duration_seconds', 'Snapshots taken before a sleep, by whether the root filesystem had changed.', ['changed'], [0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  const errors = registry.counter('runbox_reconcile_errors_total', 'Reconciles that failed unexpectedly.');
  let leading = false;
  registry.gauge('runbox_controller_leader', 'Whether this replica leads (1) or stands by (0).', [], () => [{ labels: {}, value: leading ? 1 : 0 }]);
  let deployments: Informer<Deployment> | undefined;
  registry.gauge('runbox_environments', 'Environments by state.', ['state'], () => {
    const counts: Record<string, number> = { running: 0, dozing: 0, sleeping: 0 };
    for (const d of deployments?.list() ?? []) {
      const state = (d.spec?.replicas ?? 1) === 0 ? 'sleeping' : idleRecord(d)?.state === 'dozing' ? 'dozing' : 'running';
      counts[state]!++;
    }
    return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
  });
  const observe: Observer = {
    log,
    acted: (action, outcome, seconds) => {
      actions.inc({ action, outcome });
      actionSeconds.observe({ action }, seconds);
    },
    snapshot: (seconds, changed) => snapshotSeconds.observe({ changed: String(changed) }, seconds),
  };

  const server = o.metricsPort > 0 ? await serve(o.metricsPort, () => registry.render()) : undefined;
  if (server) log('info', 'serving /metrics and /healthz', { port: o.metricsPort });

  const settingsCache = new Map<string, { at: number; value: Promise<NamespaceSettings> }>();
  const settings = (namespace: string): Promise<NamespaceSettings> => {
    const hit = settingsCache.get(namespace);
    if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.value;
    const value = readClusterConfig({ ...kube, namespace }, {}).then((c) => ({
      defaults: { dozeAfter: c.dozeAfter.value ?? 'never', sleepAfter: c.sleepAfter.value ?? 'never', boostFallback: c.boostFallback.value ?? 'off' },
      registry: c.registryPush.value ? { push: c.registryPush.value, pull: c.registryPull.value ?? c.registryPush.value } : undefined,
    }));
    value.catch(() => settingsCache.delete(namespace));
    settingsCache.set(namespace, { at: Date.now(), value });
    return value;
  };
  const sidecar = sidecarClient(kube, o.sidecarRoute);
  const snapshotGate = atMost(SLEEPS_AT_ONCE);

  async function lead(signal: AbortSignal): Promise<void> {
    leading = true;
    log('info', 'leading', { identity });
    const queue = workQueue(
      async (key) => {
        await reconcile(
          {
            kube,
            deployment: (k) => deployments?.get(k),
            podsOf: (namespace, env) => pods.list().filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[LABEL_ENV] === env),
            settings,
            sidecar,
            queue,
            observe,
            identity,
            snapshotGate,
            now: () => new Date(),
            signal,
          },
          key,
        );
      },
      {
        concurrency: CONCURRENCY,
        onError: (key, err) => {
          errors.inc();
          log('error', 'reconcile failed', { env: key, error: (err as Error).message });
          queue.addAt(key, new Date(Date.now() + 30_000));
        },
      },
    );
    const key = (d: { metadata?: { namespace?: string; name?: string } }) => envKey(d.metadata?.namespace ?? '', d.metadata?.name ?? '');
    const onError = (err: unknown) => log('warn', 'watch error', { error: (err as Error).message });
    deployments = startInformer<Deployment>(kube, {
      path: collectionPath('deployments', o.namespace),
      query: { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_ENV}` },
      signal,
      onError,
      handlers: {
        onAdd: (d) => queue.add(key(d)),
        onUpdate: (d, old) => {
          if ((old.spec?.replicas ?? 1) === 0 && (d.spec?.replicas ?? 1) > 0) wakes.inc();
          queue.add(key(d));
        },
        onDelete: (d) => queue.forget(key(d)),
      },
    });
    // A pod that comes to serve (or goes) changes what its environment's reconcile sees.
    const podEnv = (p: Pod) => envKey(p.metadata?.namespace ?? '', p.metadata?.labels?.[LABEL_ENV] ?? '');
    const pods: Informer<Pod> = startInformer<Pod>(kube, {
      path: collectionPath('pods', o.namespace),
      query: { labelSelector: LABEL_ENV },
      signal,
      onError,
      handlers: { onAdd: (p) => queue.add(podEnv(p)), onUpdate: (p) => queue.add(podEnv(p)), onDelete: (p) => queue.add(podEnv(p)) },
    });
    signal.addEventListener('abort', () => queue.stop(), { once: true });
    await Promise.all([deployments.done, pods.done]);
  }

  let work: Promise<void> = Promise.resolve();
  await runLeaderElection(kube, {
    namespace: o.leaseNamespace ?? SYSTEM_NAMESPACE,
    name: CONTROLLER_LEASE,
    identity,
    signal: o.signal,
    onStartedLeading: (signal) => {
      work = lead(signal).catch((err: unknown) => log('error', 'leading failed', { error: (err as Error).message }));
    },
    onStoppedLeading: () => {
      leading = false;
      log('info', 'stopped leading', { identity });
    },
    log: (msg, fields) => log('info', msg, fields),
  });
  await work;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
}

function serve(port: number, metrics: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(metrics());
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
