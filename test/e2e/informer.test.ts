import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startInformer, type Informer } from '../../src/kube/informer.ts';
import type { Kube } from './support/cluster.ts';
import { createNamespace, deleteNamespace, devCluster } from './support/cluster.ts';

// The informer against the real API server: ConfigMaps in a fresh namespace,
// selected by label. The 410 re-list path is covered in
// src/kube/informer.test.ts: a young dev cluster still serves watches from
// resourceVersion 1, so a real expired version cannot be forced here.

const LABEL = 'runbox.test/informer';
type Cm = { metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> };

let kube: Kube;
let ns: string;
let informer: Informer<Cm>;
const stop = new AbortController();
const calls: string[] = [];
const requests: string[] = [];
const errors: unknown[] = [];

const show = (o: Cm) => `${o.metadata?.name} v=${o.data?.v ?? '-'}`;
const labelled = (name: string, v: string) => ({ metadata: { name, labels: { [LABEL]: 'yes' } }, data: { v } });
const create = (body: Cm) => kube.core.createNamespacedConfigMap({ namespace: ns, body });
async function edit(name: string, change: (cm: Cm) => void) {
  const cm = await kube.core.readNamespacedConfigMap({ name, namespace: ns });
  change(cm as Cm);
  await kube.core.replaceNamespacedConfigMap({ name, namespace: ns, body: cm });
}
/** Waits (up to a few seconds) until the handlers were called with `want`. */
const sees = (want: string) => vi.waitFor(() => expect(calls).toContain(want), { timeout: 10_000, interval: 50 });

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'informer');
  await create(labelled('pre', '1'));
  await create({ metadata: { name: 'pre-other' }, data: { v: '1' } });
  informer = startInformer<Cm>(kube.target, {
    path: `/api/v1/namespaces/${ns}/configmaps`,
    query: { labelSelector: `${LABEL}=yes` },
    signal: stop.signal,
    handlers: {
      onAdd: (o) => calls.push(`add ${show(o)}`),
      onUpdate: (o, old) => calls.push(`update ${show(o)} < ${show(old)}`),
      onDelete: (o) => calls.push(`delete ${show(o)}`),
    },
    onError: (err) => errors.push(err),
    onRequest: (kind) => requests.push(kind),
    watchSeconds: 3, // short, so the test sees the watch reopened
  });
});

afterAll(async () => {
  stop.abort();
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('informer on the dev cluster', () => {
  it('delivers the labelled objects that exist, then resolves synced', async () => {
    await informer.synced;
    expect(calls).toEqual(['add pre v=1']);
    expect(informer.get(`${ns}/pre`)?.data).toEqual({ v: '1' });
    expect(informer.get(`${ns}/pre-other`)).toBeUndefined();
    expect(informer.list()).toHaveLength(1);
  });

  it('sees create, update and delete of labelled objects, and nothing of the others', async () => {
    await create({ metadata: { name: 'other' }, data: { v: '1' } });
    await create(labelled('a', '1'));
    await sees('add a v=1');
    await edit('a', (cm) => (cm.data = { v: '2' }));
    await sees('update a v=2 < a v=1');
    expect(informer.get(`${ns}/a`)?.data).toEqual({ v: '2' });
    await kube.core.deleteNamespacedConfigMap({ name: 'a', namespace: ns });
    await sees('delete a v=2');
    expect(informer.get(`${ns}/a`)).toBeUndefined();
    // Events come in order, so `other` (created before `a`) would have shown up by now.
    expect(calls.join('\n')).not.toMatch(/other/);
  });

  it('follows objects entering and leaving the label selector', async () => {
    await edit('other', (cm) => (cm.metadata!.labels = { [LABEL]: 'yes' }));
    await sees('add other v=1');
    await edit('pre', (cm) => delete cm.metadata!.labels![LABEL]);
    await sees('delete pre v=1');
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['other']);
  });

  it('reopens ended watches from the last version, without re-listing or repeating events', async () => {
    await vi.waitFor(() => expect(requests.filter((r) => r === 'watch').length).toBeGreaterThanOrEqual(3), { timeout: 15_000, interval: 100 });
    await create(labelled('b', '1'));
    await sees('add b v=1');
    expect(requests.filter((r) => r === 'list')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('add ')).sort()).toEqual(['add a v=1', 'add b v=1', 'add other v=1', 'add pre v=1']);
    expect(errors).toEqual([]);
  });

  it('stops on abort: done resolves and no handler runs after it', async () => {
    stop.abort();
    await informer.done;
    const before = calls.length;
    await create(labelled('late', '1'));
    await edit('b', (cm) => (cm.data = { v: '2' }));
    await sleep(2_000); // proving an absence takes waiting; events arrive well within this
    expect(calls).toHaveLength(before);
    expect(errors).toEqual([]);
  });
});
