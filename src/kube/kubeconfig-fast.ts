import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve, delimiter } from 'node:path';
import { load } from 'js-yaml';
import { RunboxError } from '../errors.ts';
import type { KubeSelection, KubeTarget } from './target.ts';

/*
 * A small kubeconfig reader for the hot path (`runbox NAME CMD` on a warm
 * environment): loading @kubernetes/client-node's KubeConfig pulls in every
 * generated API model and costs most of a second. This handles the static
 * credentials (client certificates, bearer tokens) with kubectl's merge rules
 * and returns undefined for anything else (exec plugins, auth providers,
 * proxies, in-cluster config), which then goes through client-node.
 */

type Entry = Record<string, unknown>;

interface Loaded {
  file: string;
  doc: Entry;
}

export function kubeconfigFiles(sel: KubeSelection, env: NodeJS.ProcessEnv): string[] {
  if (sel.kubeconfig) return [sel.kubeconfig];
  const list = env.KUBECONFIG?.split(delimiter).filter((p) => p.length > 0);
  if (list && list.length > 0) return list;
  return [resolve(homedir(), '.kube', 'config')];
}

function readConfigs(files: string[], explicit: boolean): Loaded[] {
  const out: Loaded[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // kubectl ignores missing files in KUBECONFIG but not an explicit --kubeconfig.
      if (explicit) throw new RunboxError(`cannot read kubeconfig ${file}`, { cause: err, hint: 'check --kubeconfig' });
      continue;
    }
    const doc = load(text);
    if (doc && typeof doc === 'object') out.push({ file, doc: doc as Entry });
  }
  return out;
}

/** First definition of a name wins, as in kubectl's merge. */
function findNamed(configs: Loaded[], section: string, name: string): { entry: Entry; file: string } | undefined {
  for (const { file, doc } of configs) {
    const list = doc[section];
    if (!Array.isArray(list)) continue;
    for (const item of list as Entry[]) {
      if (item?.name === name) {
        const key = section.slice(0, -1); // clusters -> cluster
        const entry = item[key];
        if (entry && typeof entry === 'object') return { entry: entry as Entry, file };
      }
    }
  }
  return undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function fileOrData(entry: Entry, fileKey: string, dataKey: string, baseFile: string): Buffer | undefined {
  const data = str(entry[dataKey]);
  if (data) return Buffer.from(data, 'base64');
  const path = str(entry[fileKey]);
  if (path) return readFileSync(resolve(dirname(baseFile), path));
  return undefined;
}

const FAST_USER_KEYS = new Set([
  'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'token', 'tokenFile',
]);
const FAST_CLUSTER_KEYS = new Set([
  'server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name',
  'extensions',
]);

/**
 * Resolves the target from static credentials, or undefined when the
 * kubeconfig needs client-node's full machinery.
 */
export function resolveFast(sel: KubeSelection, env: NodeJS.ProcessEnv): KubeTarget | undefined {
  const files = kubeconfigFiles(sel, env);
  const configs = readConfigs(files, Boolean(sel.kubeconfig));
  if (configs.length === 0) return undefined;
  const contextName = sel.context ?? configs.map((c) => str(c.doc['current-context'])).find(Boolean);
  if (!contextName) return undefined;
  const ctx = findNamed(configs, 'contexts', contextName);
  if (!ctx) return undefined;
  const clusterName = str(ctx.entry.cluster);
  const userName = str(ctx.entry.user);
  const cluster = clusterName ? findNamed(configs, 'clusters', clusterName) : undefined;
  const user = userName ? findNamed(configs, 'users', userName) : { entry: {}, file: files[0] ?? '' };
  if (!cluster || !user) return undefined;
  if (Object.keys(cluster.entry).some((k) => !FAST_CLUSTER_KEYS.has(k))) return undefined;
  if (Object.keys(user.entry).some((k) => !FAST_USER_KEYS.has(k))) return undefined;
  const server = str(cluster.entry.server);
  if (!server?.startsWith('https://')) return undefined;

  const tls: KubeTarget['tls'] = {};
  const ca = fileOrData(cluster.entry, 'certificate-authority', 'certificate-authority-data', cluster.file);
  if (ca) tls.ca = ca;
  if (cluster.entry['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  const serverName = str(cluster.entry['tls-server-name']);
  if (serverName) tls.servername = serverName;
  const cert = fileOrData(user.entry, 'client-certificate', 'client-certificate-data', user.file);
  const key = fileOrData(user.entry, 'client-key', 'client-key-data', user.file);
  if (cert && key) {
    tls.cert = cert;
    tls.key = key;
  }
  const headers: Record<string, string> = {};
  const tokenFile = str(user.entry.tokenFile);
  const token = str(user.entry.token) ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (token) headers.Authorization = `Bearer ${token}`;

  return {
    server: server.replace(/\/+$/, ''),
    namespace: sel.namespace ?? str(ctx.entry.namespace) ?? 'default',
    context: contextName,
    tls,
    headers,
    user: userName,
  };
}
