import { existsSync } from 'node:fs';
import { RunboxError } from '../errors.ts';
import { kubeconfigFiles, resolveFast } from './kubeconfig-fast.ts';
import type { KubeSelection, KubeTarget } from './target.ts';

/**
 * Resolves where and as whom to talk to the cluster. Static credentials are
 * read by our own small reader; anything else (exec plugins, auth providers,
 * in-cluster config) goes through client-node's KubeConfig, loaded only then.
 */
export async function connectKube(sel: KubeSelection, env: NodeJS.ProcessEnv): Promise<KubeTarget> {
  return resolveFast(sel, env) ?? (await connectSlow(sel, env));
}

/** client-node's KubeConfig: every kind of kubeconfig credential. */
export async function connectSlow(sel: KubeSelection, env: NodeJS.ProcessEnv): Promise<KubeTarget> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const files = kubeconfigFiles(sel, env).filter((f) => sel.kubeconfig || existsSync(f));
  if (files.length === 0 && !env.KUBERNETES_SERVICE_HOST) {
    throw new RunboxError(`no kubeconfig found (looked in ${kubeconfigFiles(sel, env).join(', ')})`, {
      hint: 'set KUBECONFIG, pass --kubeconfig, or create a context with your cluster tool (kind, k3d, gcloud, aws eks)',
    });
  }
  try {
    if (files.length === 0) kc.loadFromCluster();
    for (const [i, file] of files.entries()) {
      if (i === 0) {
        kc.loadFromFile(file);
        continue;
      }
      // As kubectl: with several KUBECONFIG files the first current-context wins.
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more, true);
    }
  } catch (err) {
    throw new RunboxError('cannot load kubeconfig', { cause: err, hint: 'check KUBECONFIG or --kubeconfig' });
  }
  if (sel.context) {
    if (!kc.getContextObject(sel.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new RunboxError(`context "${sel.context}" is not in your kubeconfig`, {
        hint: `known contexts: ${known}`,
      });
    }
    kc.setCurrentContext(sel.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new RunboxError('no cluster is configured', {
      hint: 'set a current context (kubectl config use-context) or pass --context',
    });
  }
  const current = kc.getContextObject(kc.getCurrentContext());
  const opts: { ca?: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string>; rejectUnauthorized?: boolean; servername?: string } = {};
  await kc.applyToHTTPSOptions(opts as Parameters<typeof kc.applyToHTTPSOptions>[0]);
  const tls: KubeTarget['tls'] = {};
  if (opts.ca) tls.ca = opts.ca;
  if (opts.cert) tls.cert = opts.cert;
  if (opts.key) tls.key = opts.key;
  if (opts.rejectUnauthorized === false) tls.rejectUnauthorized = false;
  if (opts.servername) tls.servername = opts.servername;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    namespace: sel.namespace ?? current?.namespace ?? 'default',
    context: kc.getCurrentContext(),
    tls,
    headers: { ...(opts.headers ?? {}) },
    user: kc.getCurrentUser()?.name,
  };
}
