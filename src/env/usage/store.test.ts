import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunboxError } from '../../errors.ts';
import type { KubeTarget } from '../../kube/target.ts';
import { restStore } from './store.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

/** An API server that answers each `METHOD path` from a table and remembers what it was sent. */
let answers = new Map<string, [number, unknown]>();
const seen: Seen[] = [];
let server: Server;
let kube: KubeTarget;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: text ? JSON.parse(text) : undefined });
      const [status, body] = answers.get(`${req.method} ${req.url}`) ?? [500, { kind: 'Status', message: 'unexpected call' }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  kube = { server: `http://127.0.0.1:${port}`, namespace: 'team-a', context: 'test', tls: {}, headers: {} };
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const CM = '/api/v1/namespaces/team-a/configmaps';
const status = (code: number, reason: string, message: string) => [code, { kind: 'Status', status: 'Failure', code, reason, message }] as [number, unknown];

function answer(table: Record<string, [number, unknown]>) {
  answers = new Map(Object.entries(table));
  seen.length = 0;
}

describe('restStore', () => {
  it("merges data with a merge patch, and reads 404 as 'missing'", async () => {
    answer({
      [`PATCH ${CM}/dev-usage-2026030110`]: status(404, 'NotFound', 'configmaps "dev-usage-2026030110" not found'),
      [`PATCH ${CM}/dev-usage-2026030111`]: [200, {}],
    });
    const store = restStore(kube);
    expect(await store.mergeData('dev-usage-2026030110', { e1: '{}' })).toBe('missing');
    expect(await store.mergeData('dev-usage-2026030111', { e1: '{}' })).toBe('ok');
    expect(seen[0]).toEqual({
      method: 'PATCH',
      url: `${CM}/dev-usage-2026030110`,
      contentType: 'application/merge-patch+json',
      body: { data: { e1: '{}' } },
    });
  });

  it("reads the API's refusal of an object over 1 MiB as 'full', and another 422 as an error", async () => {
    answer({
      [`PATCH ${CM}/dev-usage-2026030110`]: status(422, 'Invalid', 'ConfigMap "dev-usage-2026030110" is invalid: []: Too long: must have at most 1048576 bytes'),
      [`PATCH ${CM}/dev-usage-2026030111`]: status(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'),
      [`PATCH ${CM}/dev-usage-2026030112`]: status(422, 'Invalid', 'ConfigMap "dev-usage-2026030112" is invalid: data[a b]: Invalid value: "a b"'),
    });
    const store = restStore(kube);
    expect(await store.mergeData('dev-usage-2026030110', { e1: '{}' })).toBe('full');
    expect(await store.mergeData('dev-usage-2026030111', { e1: '{}' })).toBe('full');
    await expect(store.mergeData('dev-usage-2026030112', { 'a b': '{}' })).rejects.toThrow(
      /writing usage ledger dev-usage-2026030112 failed: .*Invalid value/,
    );
  });

  it("creates with a POST and reads 409 as 'exists'", async () => {
    answer({ [`POST ${CM}`]: status(409, 'AlreadyExists', 'configmaps "dev-usage-2026030110" already exists') });
    const cm = { metadata: { name: 'dev-usage-2026030110' }, data: { e1: '{}' } };
    expect(await restStore(kube).create(cm)).toBe('exists');
    expect(seen[0]).toMatchObject({ method: 'POST', url: CM, body: cm });
    answer({ [`POST ${CM}`]: [201, cm] });
    expect(await restStore(kube).create(cm)).toBe('created');
  });

  it("replaces with a PUT, and reads 409 and 404 as 'conflict'", async () => {
    const cm = { metadata: { name: 'dev-usage', resourceVersion: '7' }, data: { totals: '{}' } };
    answer({ [`PUT ${CM}/dev-usage`]: status(409, 'Conflict', 'the object has been modified') });
    expect(await restStore(kube).replace(cm)).toBe('conflict');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: `${CM}/dev-usage`, body: cm });
    answer({ [`PUT ${CM}/dev-usage`]: status(404, 'NotFound', 'not found') });
    expect(await restStore(kube).replace(cm)).toBe('conflict');
    answer({ [`PUT ${CM}/dev-usage`]: [200, cm] });
    expect(await restStore(kube).replace(cm)).toBe('ok');
  });

  it("deletes on condition of the resourceVersion: 409 is 'conflict', 404 is fine", async () => {
    answer({ [`DELETE ${CM}/dev-usage-2026030110`]: status(409, 'Conflict', 'Precondition failed: ResourceVersion in precondition: 3') });
    expect(await restStore(kube).delete('dev-usage-2026030110', '3')).toBe('conflict');
    expect(seen[0]?.body).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: '3' } });
    answer({ [`DELETE ${CM}/dev-usage-2026030110`]: status(404, 'NotFound', 'not found') });
    expect(await restStore(kube).delete('dev-usage-2026030110')).toBe('ok');
    expect(seen[0]?.body).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions' });
  });

  it('lists by label selector and gets one object, undefined when it is not there', async () => {
    const selector = 'app.kubernetes.io/managed-by=runbox,runbox.dev/env=dev';
    const item = { metadata: { name: 'dev-usage' }, data: {} };
    answer({
      [`GET ${CM}?labelSelector=${encodeURIComponent(selector)}`]: [200, { kind: 'ConfigMapList', items: [item] }],
      [`GET ${CM}/dev-usage`]: status(404, 'NotFound', 'not found'),
    });
    expect(await restStore(kube).list(selector)).toEqual([item]);
    expect(await restStore(kube).get('dev-usage')).toBeUndefined();
  });

  it('turns 403 into a RunboxError that says what was not allowed', async () => {
    const forbidden = status(403, 'Forbidden', 'configmaps is forbidden: User "dev" cannot list resource "configmaps"');
    answer({ [`GET ${CM}?labelSelector=runbox.dev%2Fenv%3Ddev`]: forbidden, [`PATCH ${CM}/dev-usage-2026030110`]: forbidden });
    const listing = restStore(kube).list('runbox.dev/env=dev');
    await expect(listing).rejects.toThrow(RunboxError);
    await expect(listing).rejects.toThrow(/not allowed while listing the usage ledger/);
    await expect(restStore(kube).mergeData('dev-usage-2026030110', {})).rejects.toThrow(/not allowed while writing usage ledger/);
  });
});
