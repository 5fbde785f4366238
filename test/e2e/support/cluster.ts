import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { connectKube } from '../../../src/kube/client.ts';
import type { KubeTarget } from '../../../src/kube/target.ts';

/** The typed client, for tests only: they check the objects runbox left, as kubectl would. */
export interface Kube {
  target: KubeTarget;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  config: k8s.KubeConfig;
  lib: typeof k8s;
}

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const KUBECONFIG = `${REPO_ROOT}.runbox-dev/kubeconfig`;
export const REGISTRY = '127.0.0.1:5000';
export const BUSYBOX = `${REGISTRY}/runbox-test/busybox:1.35`;
export const DEBIAN = `${REGISTRY}/runbox-test/debian:bookworm`;

/** The dev cluster's Node 24 image (the cluster config names it; tests rarely need it). */
export function nodeImage(): string {
  return readFileSync(`${REPO_ROOT}.runbox-dev/node-image`, 'utf8').trim();
}

/** The dev cluster must be up (npm run cluster:up, or npm test which brings it up). */
export async function devCluster(namespace?: string): Promise<Kube> {
  if (!existsSync(KUBECONFIG)) {
    throw new Error(`no dev cluster: ${KUBECONFIG} is missing; run npm run cluster:up`);
  }
  const config = new k8s.KubeConfig();
  config.loadFromFile(KUBECONFIG);
  if (namespace) config.contexts = config.contexts.map((c) => ({ ...c, namespace }));
  return {
    target: await connectKube({ kubeconfig: KUBECONFIG, namespace }, process.env),
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    config,
    lib: k8s,
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A fresh namespace per test file, deleted afterwards. */
export async function createNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.core.createNamespace({ body: { metadata: { name } } });
  // The service-account controller must have made `default` before pods can be created.
  await waitFor(`service account in ${name}`, 30_000, async () => {
    await kube.core.readNamespacedServiceAccount({ name: 'default', namespace: name });
    return true;
  });
  return name;
}

export async function deleteNamespace(kube: Kube, name: string): Promise<void> {
  await kube.core.deleteNamespace({ name }).catch(() => undefined);
}

/**
 * Re-checks a condition until it holds. Tests only: product code watches.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A kubeconfig for a service account's token, against the dev cluster. */
export async function serviceAccountKubeconfig(kube: Kube, namespace: string, account: string): Promise<string> {
  const token = await kube.core.createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: { spec: { expirationSeconds: 3600 } },
  });
  const admin = readFileSync(KUBECONFIG, 'utf8');
  const server = /server: (.*)/.exec(admin)![1];
  const ca = /certificate-authority-data: (.*)/.exec(admin)![1];
  const file = join(mkdtempSync(join(tmpdir(), 'runbox-kc-')), 'config');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: dev, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]
users: [{name: ${account}, user: {token: ${token.status?.token}}}]
contexts: [{name: ${account}, context: {cluster: dev, user: ${account}, namespace: ${namespace}}}]
current-context: ${account}
`,
  );
  return file;
}
