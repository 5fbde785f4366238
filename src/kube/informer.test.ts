import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunboxError } from '../errors.ts';
import { applyChange, eventChange, keyOf, relistChanges, splitLines, startInformer, type Change, type InformerOptions } from './informer.ts';
import { GONE, fakeApi as serveFakeApi, send, stream, watchEvent, type FakeApi, type Handler } from './fake-api-server.ts';
import type { KubeTarget } from './target.ts';

type Cm = { metadata: { name: string; namespace?: string; resourceVersion: string; uid?: string }; data?: Record<string, string> };
const cm = (name: string, rv: string, uid = `uid-${name}`): Cm => ({ metadata: { name, namespace: 'ns', resourceVersion: rv, uid } });
const storeOf = (...objs: Cm[]) => new Map(objs.map((o) => [keyOf(o), o]));
/** Changes as short strings, e.g. 'update a@2<1', for readable expectations. */
const show = (changes: (Change<Cm> | undefined)[]) =>
  changes.map((c) => {
    if (!c) return 'none';
    const at = `${c.obj.metadata.name}@${c.obj.metadata.resourceVersion}`;
    return c.kind === 'update' ? `update ${at}<${c.old.metadata.resourceVersion}` : `${c.kind} ${at}`;
  });

describe('keyOf', () => {
  it('is namespace/name, or the name alone for cluster-scoped objects', () => {
    expect(keyOf(cm('a', '1'))).toBe('ns/a');
    expect(keyOf({ metadata: { name: 'node-1' } })).toBe('node-1');
  });
});

describe('splitLines', () => {
  it.each([
    { pending: '', chunk: '{"a":1}\n{"b":2}\n', lines: ['{"a":1}', '{"b":2}'], rest: '' },
    { pending: '', chunk: '{"a":1}\n{"b"', lines: ['{"a":1}'], rest: '{"b"' },
    { pending: '{"b"', chunk: ':2}\n', lines: ['{"b":2}'], rest: '' },
    { pending: '{"b"', chunk: ':2', lines: [], rest: '{"b":2' },
    { pending: '', chunk: '\n  \n{"c":3}\n', lines: ['{"c":3}'], rest: '' },
    { pending: '', chunk: '', lines: [], rest: '' },
  ])('$pending + $chunk', ({ pending, chunk, lines, rest }) => {
    expect(splitLines(pending, chunk)).toEqual({ lines, rest });
  });

  it('reassembles a stream cut at every possible byte', () => {
    const text = '{"type":"ADDED","object":{"s":"ä"}}\n{"type":"DELETED"}\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const first = splitLines('', text.slice(0, cut));
      const second = splitLines(first.rest, text.slice(cut));
      expect([...first.lines, ...second.lines]).toEqual(['{"type":"ADDED","object":{"s":"ä"}}', '{"type":"DELETED"}']);
      expect(second.rest).toBe('');
    }
  });
});

describe('eventChange', () => {
  it.each([
    { phase: 'ADDED', obj: cm('a', '2'), old: undefined, want: 'add a@2' },
    { phase: 'MODIFIED', obj: cm('a', '2'), old: undefined, want: 'add a@2' },
    { phase: 'ADDED', obj: cm('a', '2'), old: cm('a', '1'), want: 'update a@2<1' },
    { phase: 'MODIFIED', obj: cm('a', '2'), old: cm('a', '1'), want: 'update a@2<1' },
    { phase: 'MODIFIED', obj: cm('a', '1'), old: cm('a', '1'), want: 'none' },
    { phase: 'DELETED', obj: cm('a', '3'), old: cm('a', '1'), want: 'delete a@3' },
    { phase: 'DELETED', obj: cm('a', '3'), old: undefined, want: 'none' },
  ] as const)('$phase with stored $old.metadata.resourceVersion → $want', ({ phase, obj, old, want }) => {
    expect(show([eventChange<Cm>(phase, obj, old)])).toEqual([want]);
  });
});

describe('relistChanges', () => {
  it('adds everything to an empty store', () => {
    expect(show(relistChanges(new Map(), [cm('a', '1'), cm('b', '2')]))).toEqual(['add a@1', 'add b@2']);
  });

  it('reconciles after lost events: gone → delete, new → add, other version → update, same version → nothing', () => {
    const store = storeOf(cm('a', '1'), cm('b', '2'), cm('c', '3'));
    expect(show(relistChanges(store, [cm('a', '1'), cm('b', '7'), cm('d', '8')]))).toEqual(['update b@7<2', 'add d@8', 'delete c@3']);
  });

  it('deletes then adds an object re-created under the same name', () => {
    const store = storeOf(cm('a', '1', 'old-uid'));
    expect(show(relistChanges(store, [cm('a', '5', 'new-uid')]))).toEqual(['delete a@1', 'add a@5']);
  });

  it('applied to the store, leaves exactly the listed objects', () => {
    const store = storeOf(cm('a', '1'), cm('b', '2', 'old'), cm('c', '3'));
    const items = [cm('a', '1'), cm('b', '4', 'new'), cm('d', '8')];
    for (const c of relistChanges(store, items)) applyChange(store, c);
    expect(store).toEqual(storeOf(...items));
  });
});

// startInformer against a local HTTP server playing the API server, as in
// watch.test.ts: each test scripts the list and watch answers.

const PATH = '/api/v1/namespaces/ns/configmaps';
const event = watchEvent;
const gone = GONE;

const list = (res: ServerResponse, rv: string, items: Cm[]) => send(res, 200, { kind: 'ConfigMapList', metadata: { resourceVersion: rv }, items });

let api: FakeApi | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s.abort();
  await api?.close();
  api = undefined;
});

async function fakeApi(handlers: { list: Handler; watch?: Handler }): Promise<FakeApi> {
  api = await serveFakeApi(PATH, handlers);
  return api;
}

/** Starts an informer that records every handler call, error and request. */
function record(target: KubeTarget, overrides: Partial<InformerOptions<Cm>> = {}) {
  const calls: string[] = [];
  const errors: unknown[] = [];
  const requests: string[] = [];
  const stop = new AbortController();
  stops.push(stop);
  const at = (o: Cm) => `${o.metadata.name}@${o.metadata.resourceVersion}`;
  const informer = startInformer<Cm>(target, {
    path: PATH,
    query: { labelSelector: 'app=x' },
    signal: stop.signal,
    handlers: {
      onAdd: (o) => calls.push(`add ${at(o)}`),
      onUpdate: (o, old) => calls.push(`update ${at(o)}<${old.metadata.resourceVersion}`),
      onDelete: (o) => calls.push(`delete ${at(o)}`),
    },
    backoff: { initialMs: 10, maxMs: 50 },
    onError: (err) => errors.push(err),
    onRequest: (kind) => requests.push(kind),
    ...overrides,
  });
  return { informer, calls, errors, requests, stop };
}

describe('startInformer', () => {
  it('delivers the list, then watch events split across chunks, watching from the list version', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [cm('a', '1')]),
      watch: async (_n, res) => {
        const first = event('MODIFIED', cm('a', '2'));
        stream(res).write(first.slice(0, 20));
        await sleep(20);
        res.write(first.slice(20) + event('ADDED', cm('b', '3')) + event('MODIFIED', cm('b', '3')) + event('DELETED', cm('a', '4')));
      },
    });
    const { informer, calls, requests } = record(api.target);
    await informer.synced;
    expect(calls).toEqual(['add a@1']);
    await vi.waitFor(() => expect(calls).toHaveLength(4));
    expect(calls).toEqual(['add a@1', 'update a@2<1', 'add b@3', 'delete a@4']); // the MODIFIED with the same version fired nothing
    expect(informer.list()).toEqual([cm('b', '3')]);
    expect(informer.get('ns/a')).toBeUndefined();
    expect(requests).toEqual(['list', 'watch']);
    const w = api.watches[0]!;
    expect([w.get('resourceVersion'), w.get('labelSelector'), w.get('allowWatchBookmarks'), w.get('timeoutSeconds')]).toEqual(['1', 'app=x', 'true', '240']);
    expect(api.lists[0]?.get('labelSelector')).toBe('app=x');
  });

  it('re-watches from a BOOKMARK or the last event when the server ends the watch, without re-listing', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [cm('a', '1')]),
      watch: (n, res) => {
        if (n === 1) stream(res).end(event('BOOKMARK', { metadata: { resourceVersion: '7' } }));
        else if (n === 2) stream(res).end(event('MODIFIED', cm('a', '8')));
        else stream(res);
      },
    });
    const { calls } = record(api.target);
    await vi.waitFor(() => expect(api.watches).toHaveLength(3));
    expect(api.watches.map((q) => q.get('resourceVersion'))).toEqual(['1', '7', '8']);
    expect(api.lists).toHaveLength(1);
    expect(calls).toEqual(['add a@1', 'update a@8<1']);
  });

  it('re-lists after an ERROR 410 event and reconciles the store with the new list', async () => {
    const api = await fakeApi({
      list: (n, res) => (n === 1 ? list(res, '1', [cm('a', '1'), cm('b', '1'), cm('c', '1')]) : list(res, '9', [cm('a', '1'), cm('b', '5'), cm('d', '6')])),
      watch: (n, res) => void (n === 1 ? stream(res).write(event('ERROR', gone)) : stream(res)), // left open: the client must drop it
    });
    const { informer, calls, errors, requests } = record(api.target);
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(calls).toEqual(['add a@1', 'add b@1', 'add c@1', 'update b@5<1', 'add d@6', 'delete c@1']);
    expect(informer.list().map(keyOf).sort()).toEqual(['ns/a', 'ns/b', 'ns/d']);
    expect(api.watches[1]?.get('resourceVersion')).toBe('9');
    expect(requests).toEqual(['list', 'watch', 'list', 'watch']);
    expect(errors).toEqual([]); // an expired version is routine
  });

  it('re-lists when opening the watch answers 410', async () => {
    const api = await fakeApi({
      list: (n, res) => (n === 1 ? list(res, '1', [cm('a', '1')]) : list(res, '9', [])),
      watch: (n, res) => (n === 1 ? send(res, 410, gone) : void stream(res)),
    });
    const { calls } = record(api.target);
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.lists).toHaveLength(2);
    expect(calls).toEqual(['add a@1', 'delete a@1']);
  });

  it('resumes from the last version after a reset connection or a 500, reporting them', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [cm('a', '1')]),
      watch: async (n, res) => {
        if (n === 1) {
          stream(res).write(event('MODIFIED', cm('a', '3')));
          await sleep(20);
          res.socket?.destroy();
        } else if (n === 2) send(res, 500, { message: 'etcd leader changed' });
        else stream(res).write(event('MODIFIED', cm('a', '4')));
      },
    });
    const { calls, errors } = record(api.target);
    await vi.waitFor(() => expect(calls).toEqual(['add a@1', 'update a@3<1', 'update a@4<3']));
    expect(api.watches.map((q) => q.get('resourceVersion'))).toEqual(['1', '3', '3']);
    expect(api.lists).toHaveLength(1);
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof RunboxError)).toBe(true);
    expect((errors[1] as Error).message).toBe(`watching ${PATH} failed: etcd leader changed`);
  });

  it('keeps retrying a forbidden list, reporting each failure, and syncs once allowed', async () => {
    const forbidden = { kind: 'Status', code: 403, reason: 'Forbidden', message: 'configmaps is forbidden' };
    const api = await fakeApi({ list: (n, res) => (n < 3 ? send(res, 403, forbidden) : list(res, '1', [cm('a', '1')])) });
    const { informer, calls, errors } = record(api.target);
    await informer.synced;
    expect(calls).toEqual(['add a@1']);
    expect(errors.map((e) => (e as Error).message)).toEqual([
      `not allowed while listing ${PATH}: configmaps is forbidden`,
      `not allowed while listing ${PATH}: configmaps is forbidden`,
    ]);
  });

  it('survives a throwing handler and reports it', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [cm('a', '1'), cm('b', '1')]),
      watch: (_n, res) => void stream(res).write(event('ADDED', cm('c', '2'))),
    });
    const seen: string[] = [];
    const { errors } = record(api.target, {
      handlers: {
        onAdd: (o) => {
          seen.push(o.metadata.name);
          if (o.metadata.name === 'a') throw new Error('bug');
        },
      },
    });
    await vi.waitFor(() => expect(seen).toEqual(['a', 'b', 'c']));
    expect((errors[0] as Error).message).toBe(`${PATH}: onAdd(ns/a) failed: bug`);
    expect(errors).toHaveLength(1);
  });

  it('reports a rejecting async handler', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '1', [cm('a', '1')]) });
    const { errors } = record(api.target, { handlers: { onAdd: async () => Promise.reject(new Error('async bug')) } });
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect((errors[0] as Error).message).toBe(`${PATH}: onAdd(ns/a) failed: async bug`);
  });

  it('backs off when every watch ends at once with no events', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '1', []), watch: (_n, res) => void stream(res).end() });
    record(api.target, { backoff: { initialMs: 50, maxMs: 1_000 } });
    await sleep(300);
    expect(api.lists).toHaveLength(1);
    expect(api.watches.length).toBeGreaterThanOrEqual(3);
    expect(api.watches.length).toBeLessThanOrEqual(6);
  });

  it('stops on abort: done resolves, the watch is closed, no handler runs after it', async () => {
    let push!: (chunk: string) => void;
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [cm('a', '1')]),
      watch: (_n, res) => {
        push = (chunk) => res.write(chunk);
        stream(res);
      },
    });
    const { informer, calls, stop } = record(api.target);
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    await vi.waitFor(() => expect(api.open()).toBe(1));
    stop.abort();
    await informer.done;
    push(event('ADDED', cm('b', '2')));
    await vi.waitFor(() => expect(api.open()).toBe(0));
    expect(calls).toEqual(['add a@1']);
  });

  it('rejects synced when stopped before the first list', async () => {
    const api = await fakeApi({ list: () => undefined }); // never answers
    const { informer, stop } = record(api.target);
    await vi.waitFor(() => expect(api.lists).toHaveLength(1));
    stop.abort('shutting down');
    await expect(informer.synced).rejects.toThrow('cancelled');
    await informer.done;
  });
});
