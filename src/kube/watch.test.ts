import type { ServerResponse } from 'node:http';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunboxError } from '../errors.ts';
import { GONE, fakeApi as serveFakeApi, send, stream, watchEvent, type FakeApi, type Handler } from './fake-api-server.ts';
import { waitFor, type Decision, type WaitOptions, type WatchPhase } from './watch.ts';

// waitFor against a local HTTP server playing the API server: each test
// scripts the list and watch answers and checks what the client asked for.

type Pod = { metadata: { name: string; resourceVersion: string }; phase?: string };
const pod = (name: string, rv: string, phase = 'Pending'): Pod => ({ metadata: { name, resourceVersion: rv }, phase });
const event = watchEvent;
const gone = GONE;
const PODS = '/api/v1/namespaces/ns/pods';

const list = (res: ServerResponse, rv: string, items: Pod[]) => send(res, 200, { kind: 'PodList', metadata: { resourceVersion: rv }, items });

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The fake API server: every LIST and WATCH query it saw, and how many requests are still open. */
async function fakeApi(handlers: { list: Handler; watch?: Handler }): Promise<FakeApi> {
  api = await serveFakeApi(PODS, handlers);
  return api;
}

/** Options that settle when a pod is Ready, recording every decide call. */
function until(overrides: Partial<WaitOptions<Pod, string>> = {}) {
  const calls: [WatchPhase, string][] = [];
  const opts: WaitOptions<Pod, string> = {
    path: PODS,
    query: { labelSelector: 'app=x' },
    decide: (phase, p): Decision<string> => {
      calls.push([phase, p.metadata.name]);
      return p.phase === 'Ready' ? { done: p.metadata.name } : undefined;
    },
    timeoutMs: 3_000,
    onTimeout: () => new Error('timed out'),
    backoff: { initialMs: 10, maxMs: 50 },
    ...overrides,
  };
  return { opts, calls };
}

describe('waitFor', () => {
  it('settles on the listed state without watching', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '5', [pod('a', '4'), pod('b', '5', 'Ready')]) });
    const { opts, calls } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('b');
    expect(calls).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
    ]);
    expect(api.lists[0]?.get('labelSelector')).toBe('app=x');
    expect(api.watches).toHaveLength(0);
  });

  it('decideList settles on an empty list', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '5', []) });
    const { opts } = until({ decideList: (items) => (items.length === 0 ? { done: 'gone' } : undefined) });
    await expect(waitFor(api.target, opts)).resolves.toBe('gone');
    expect(api.watches).toHaveLength(0);
  });

  it('reads events split across chunks and several in one chunk, watching from the list version', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: async (_n, res) => {
        const first = event('MODIFIED', pod('a', '2'));
        stream(res).write(first.slice(0, 20));
        await sleep(30);
        res.write(first.slice(20) + event('ADDED', pod('b', '3')) + event('MODIFIED', pod('b', '4', 'Ready')));
      },
    });
    const { opts, calls } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('b');
    expect(calls).toEqual([
      ['ADDED', 'a'],
      ['MODIFIED', 'a'],
      ['ADDED', 'b'],
      ['MODIFIED', 'b'],
    ]);
    expect(api.lists).toHaveLength(1);
    expect(api.watches[0]?.get('resourceVersion')).toBe('1');
    expect(api.watches[0]?.get('labelSelector')).toBe('app=x');
    expect(api.watches[0]?.get('allowWatchBookmarks')).toBe('true');
  });

  it('takes the version from a BOOKMARK without passing it to decide', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (n, res) => {
        if (n === 1) stream(res).end(event('BOOKMARK', { metadata: { resourceVersion: '7' } }));
        else stream(res).write(event('MODIFIED', pod('a', '8', 'Ready')));
      },
    });
    const { opts, calls } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(calls).toEqual([
      ['ADDED', 'a'],
      ['MODIFIED', 'a'],
    ]);
    expect(api.watches.map((q) => q.get('resourceVersion'))).toEqual(['1', '7']);
  });

  it('re-watches from the last version seen when the server ends the stream, without re-listing', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (n, res) => {
        if (n === 1) stream(res).end(event('MODIFIED', pod('a', '5')));
        else stream(res).write(event('MODIFIED', pod('a', '6', 'Ready')));
      },
    });
    const { opts } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(api.watches.map((q) => q.get('resourceVersion'))).toEqual(['1', '5']);
    expect(api.lists).toHaveLength(1);
  });

  it('re-lists after an ERROR 410 event and settles from the re-listed state', async () => {
    const api = await fakeApi({
      list: (n, res) => (n === 1 ? list(res, '1', [pod('a', '1')]) : list(res, '9', [pod('a', '9', 'Ready')])),
      watch: (n, res) => void (n === 1 ? stream(res).write(event('ERROR', gone)) : stream(res)), // left open: the client must drop it
    });
    const { opts, calls } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(api.lists).toHaveLength(2);
    expect(calls.map(([phase]) => phase)).toEqual(['ADDED', 'ADDED']);
  });

  it('re-lists when opening the watch answers 410', async () => {
    const api = await fakeApi({
      list: (n, res) => (n === 1 ? list(res, '1', [pod('a', '1')]) : list(res, '9', [pod('a', '9', 'Ready')])),
      watch: (_n, res) => send(res, 410, gone),
    });
    const { opts } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(api.lists).toHaveLength(2);
    expect(api.watches).toHaveLength(1);
  });

  it('fails at once when the list is forbidden', async () => {
    const api = await fakeApi({
      list: (_n, res) => send(res, 403, { kind: 'Status', code: 403, reason: 'Forbidden', message: 'pods is forbidden: User "u" cannot list pods' }),
    });
    const { opts } = until({ timeoutMs: 10_000 });
    const err = await waitFor(api.target, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunboxError);
    expect((err as Error).message).toMatch(`not allowed while watching ${PODS}: pods is forbidden`);
    expect(api.lists).toHaveLength(1);
  });

  it('retries a list that answers 500 or 429, or drops the connection', async () => {
    const api = await fakeApi({
      list: (n, res, req) => {
        if (n === 1) send(res, 500, { message: 'etcd leader changed' });
        else if (n === 2) send(res, 429, { message: 'slow down' });
        else if (n === 3) req.socket.destroy(); // socket hang up
        else list(res, '4', [pod('a', '4', 'Ready')]);
      },
    });
    const { opts } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(api.lists).toHaveLength(4);
  });

  it('retries when the watch connection is reset, from the last version seen', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: async (n, res) => {
        if (n === 1) {
          stream(res).write(event('MODIFIED', pod('a', '3')));
          await sleep(20);
          res.socket?.destroy();
        } else stream(res).write(event('MODIFIED', pod('a', '4', 'Ready')));
      },
    });
    const { opts } = until();
    await expect(waitFor(api.target, opts)).resolves.toBe('a');
    expect(api.watches.map((q) => q.get('resourceVersion'))).toEqual(['1', '3']);
  });

  it('backs off when every watch ends in ERROR 410', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (_n, res) => void stream(res).end(event('ERROR', gone)),
    });
    const { opts } = until({ timeoutMs: 300, backoff: { initialMs: 50, maxMs: 1_000 } });
    await expect(waitFor(api.target, opts)).rejects.toThrow('timed out');
    const requests = api.lists.length + api.watches.length;
    expect(requests).toBeGreaterThanOrEqual(4); // it did re-list
    expect(requests).toBeLessThanOrEqual(10); // but did not spin
  });

  it('backs off when every watch ends at once with no events', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (_n, res) => void stream(res).end(),
    });
    const { opts } = until({ timeoutMs: 300, backoff: { initialMs: 50, maxMs: 1_000 } });
    await expect(waitFor(api.target, opts)).rejects.toThrow('timed out');
    expect(api.lists).toHaveLength(1);
    expect(api.watches.length).toBeGreaterThanOrEqual(3);
    expect(api.watches.length).toBeLessThanOrEqual(6);
  });

  it('rejects with the decide error when decide fails or throws', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '1', [pod('a', '1')]) });
    const boom = new Error('crash loop');
    await expect(waitFor(api.target, until({ decide: () => ({ fail: boom }) }).opts)).rejects.toBe(boom);
    const thrown = new Error('bug');
    const throwing = () => {
      throw thrown;
    };
    await expect(waitFor(api.target, until({ decide: throwing }).opts)).rejects.toBe(thrown);
  });

  it('rejects with onTimeout at the deadline and closes the open watch', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '1', [pod('a', '1')]) });
    const late = new Error('a is not ready after 150 ms');
    await expect(waitFor(api.target, until({ timeoutMs: 150, onTimeout: () => late }).opts)).rejects.toBe(late);
    expect(api.watches).toHaveLength(1);
    await vi.waitFor(() => expect(api.open()).toBe(0), { timeout: 1_000 });
  });

  it('rejects with cancelled on abort and closes the open watch', async () => {
    let watching!: () => void;
    const watched = new Promise<void>((r) => (watching = r));
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (_n, res) => {
        stream(res);
        watching();
      },
    });
    const ctrl = new AbortController();
    const wait = waitFor(api.target, until({ signal: ctrl.signal }).opts);
    await watched;
    ctrl.abort('user pressed ^C');
    const err = await wait.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunboxError);
    expect((err as Error).message).toBe('cancelled');
    expect((err as Error).cause).toBe('user pressed ^C');
    await vi.waitFor(() => expect(api.open()).toBe(0), { timeout: 1_000 });
  });

  it('rejects at once with an already aborted signal', async () => {
    const api = await fakeApi({ list: (_n, res) => list(res, '1', [pod('a', '1', 'Ready')]) });
    await expect(waitFor(api.target, until({ signal: AbortSignal.abort() }).opts)).rejects.toThrow('cancelled');
    expect(api.lists).toHaveLength(0);
  });

  it('leaves no request or abort listener behind after settling on a watch event', async () => {
    const api = await fakeApi({
      list: (_n, res) => list(res, '1', [pod('a', '1')]),
      watch: (_n, res) => void stream(res).write(event('MODIFIED', pod('a', '2', 'Ready'))), // never ended by the server
    });
    const signal = new AbortController().signal;
    await expect(waitFor(api.target, until({ signal }).opts)).resolves.toBe('a');
    await vi.waitFor(() => expect(api.open()).toBe(0), { timeout: 1_000 });
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
