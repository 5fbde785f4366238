import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunboxError } from '../errors.ts';
import { apiError } from './api-error.ts';
import { ApiStatusError, callJson, openRequest, readBody } from './rest.ts';
import type { KubeTarget } from './target.ts';
import { WATCH_SECONDS, retriable, withQuery, type WatchPhase } from './watch.ts';

/*
 * A long-running cache of one collection, kept current like client-go's
 * reflector + store + event handlers: list, then watch from the list's
 * resourceVersion; reopen ended watches from the last version seen; when that
 * version has expired (410), events were lost, so re-list and diff the store
 * against what is there now. The pure pieces (line splitting, what an event or
 * a re-list changes) are exported for tests; startInformer holds the I/O.
 */

export type KubeObject = { metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string } };

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** Collection path, e.g. /apis/apps/v1/deployments (no query string). */
  path: string;
  /** labelSelector / fieldSelector, sent with every list and watch. */
  query?: Record<string, string>;
  /** Stops the informer: closes the open request, no handler calls after it. */
  signal: AbortSignal;
  handlers: InformerHandlers<T>;
  /** Delay after an error, doubling (defaults 200 ms to 5 s); tests shorten it. */
  backoff?: { initialMs: number; maxMs: number };
  /** Every failure the informer survived: API errors (RunboxError with the cause) and throwing handlers. Dropped without it. */
  onError?(err: unknown): void;
  /** Called before each request, e.g. to count API calls. */
  onRequest?(kind: 'list' | 'watch'): void;
  /** How long the server keeps one watch open (default 240 s); tests shorten it to see re-watches. */
  watchSeconds?: number;
}

export interface Informer<T> {
  /** The current object by namespace/name (name alone for cluster-scoped kinds). */
  get(key: string): T | undefined;
  list(): T[];
  /** Resolves after the first list has been delivered; rejects if stopped before that. */
  synced: Promise<void>;
  /** Resolves once the informer stopped (signal aborted) and its request is closed. */
  done: Promise<void>;
}

/** One change to the store, as the handlers see it. */
export type Change<T> = { kind: 'add'; obj: T } | { kind: 'update'; obj: T; old: T } | { kind: 'delete'; obj: T };

/** The store key, as client-go's MetaNamespaceKeyFunc makes it. */
export function keyOf(obj: KubeObject): string {
  const { name = '', namespace } = obj.metadata ?? {};
  return namespace ? `${namespace}/${name}` : name;
}

/** Newline-delimited JSON in arbitrary chunks: the complete non-blank lines so far, and the partial line to carry over. */
export function splitLines(pending: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (pending + chunk).split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.filter((line) => line.trim() !== ''), rest };
}

const rvOf = (obj: KubeObject) => obj.metadata?.resourceVersion;
const uidChanged = (a: KubeObject, b: KubeObject) => !!a.metadata?.uid && !!b.metadata?.uid && a.metadata.uid !== b.metadata.uid;

/** What one watch event does to the stored object `old`; undefined when nothing changed. */
export function eventChange<T extends KubeObject>(phase: WatchPhase, obj: T, old: T | undefined): Change<T> | undefined {
  switch (phase) {
    case 'ADDED':
    case 'MODIFIED':
      if (!old) return { kind: 'add', obj };
      return rvOf(old) === rvOf(obj) ? undefined : { kind: 'update', obj, old };
    case 'DELETED':
      // Deleting what we never had changes nothing (client-go's DeltaFIFO skips it too).
      return old ? { kind: 'delete', obj } : undefined;
    default:
      return ((_: never) => undefined)(phase);
  }
}

/**
 * What a fresh list means for the store when the events in between are lost:
 * gone → delete (with the last state we knew), new → add, another
 * resourceVersion → update. The same name with another uid was deleted and
 * re-created meanwhile: delete then add, so handlers never see one object turn into another.
 */
export function relistChanges<T extends KubeObject>(store: ReadonlyMap<string, T>, items: readonly T[]): Change<T>[] {
  const changes: Change<T>[] = [];
  const listed = new Set<string>();
  for (const obj of items) {
    const key = keyOf(obj);
    listed.add(key);
    const old = store.get(key);
    if (!old) changes.push({ kind: 'add', obj });
    else if (uidChanged(old, obj)) changes.push({ kind: 'delete', obj: old }, { kind: 'add', obj });
    else if (rvOf(old) !== rvOf(obj)) changes.push({ kind: 'update', obj, old });
  }
  for (const [key, old] of store) if (!listed.has(key)) changes.push({ kind: 'delete', obj: old });
  return changes;
}

export function applyChange<T extends KubeObject>(store: Map<string, T>, change: Change<T>): void {
  if (change.kind === 'delete') store.delete(keyOf(change.obj));
  else store.set(keyOf(change.obj), change.obj);
}

type EventType = WatchPhase | 'BOOKMARK' | 'ERROR';
type WatchEvent<T> = { type?: EventType; object?: T & { code?: number } };

/** A watch that stays silent this long past its own timeout is a dead connection (a peer gone without a reset). */
const SILENCE_GRACE_SECONDS = 60;

export function startInformer<T extends KubeObject>(kube: KubeTarget, opts: InformerOptions<T>): Informer<T> {
  const { path, signal, handlers } = opts;
  const query = opts.query ?? {};
  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 200, maxMs: 5_000 };
  const watchSeconds = opts.watchSeconds ?? WATCH_SECONDS;
  const store = new Map<string, T>();
  let rv: string | undefined; // the last version seen: the next watch resumes from it

  const report = (err: unknown) => {
    try {
      opts.onError?.(err);
    } catch {
      // A failing reporter must not stop the informer; there is nowhere left to report to.
    }
  };
  /** Runs a caller's callback; a throw (or an async callback's rejection) is reported, never propagated. */
  const call = (what: string, fn: () => unknown) => {
    const failed = (err: unknown) => report(new RunboxError(`${path}: ${what} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(failed);
    } catch (err) {
      failed(err);
    }
  };

  /** Updates the store first, as client-go does, so handlers that read it see the new state. */
  const deliver = (changes: Change<T>[]) => {
    for (const c of changes) applyChange(store, c);
    for (const c of changes) {
      if (signal.aborted) return;
      const key = keyOf(c.obj);
      switch (c.kind) {
        case 'add':
          call(`onAdd(${key})`, () => handlers.onAdd?.(c.obj));
          break;
        case 'update':
          call(`onUpdate(${key})`, () => handlers.onUpdate?.(c.obj, c.old));
          break;
        case 'delete':
          call(`onDelete(${key})`, () => handlers.onDelete?.(c.obj));
          break;
        default:
          ((_: never) => undefined)(c);
      }
    }
  };

  let delay = initialMs;
  const pause = async () => {
    const ms = delay;
    delay = Math.min(delay * 2, maxMs);
    // An abort only ends the sleep early; the loop then sees signal.aborted.
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  };

  let markSynced!: () => void;
  let failSync!: (err: Error) => void;
  const synced = new Promise<void>((resolve, reject) => {
    markSynced = resolve;
    failSync = reject;
  });
  synced.catch(() => undefined); // stopping before the first list must not be an unhandled rejection for callers that ignore synced

  const relist = async () => {
    call('onRequest', () => opts.onRequest?.('list'));
    const body = await callJson<{ metadata?: { resourceVersion?: string }; items?: T[] }>(kube, {
      method: 'GET',
      path: withQuery(path, query),
      signal,
    });
    deliver(relistChanges(store, body.items ?? []));
    rv = body.metadata?.resourceVersion;
    markSynced();
  };

  /** Applies one event line; 'expired' when the server says our version is gone and only a re-list helps. */
  const onLine = (line: string): 'expired' | undefined => {
    const ev = JSON.parse(line) as WatchEvent<T>;
    const obj = ev.object;
    if (!obj) return undefined;
    if (ev.type === 'ERROR') {
      if (obj.code === 410) return 'expired';
      throw new ApiStatusError(obj.code ?? 500, obj);
    }
    rv = rvOf(obj) ?? rv;
    delay = initialMs; // the watch is healthy again
    switch (ev.type) {
      case 'BOOKMARK':
        return undefined;
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const change = eventChange(ev.type, obj, store.get(keyOf(obj)));
        if (change) deliver([change]);
        return undefined;
      }
      case undefined:
        return undefined; // not an event kind we know; its version still counts
      default:
        return ((_: never) => undefined)(ev.type);
    }
  };

  /** One watch from `rv`, read until the server ends it: how many events came, and whether `rv` expired. */
  const watch = async (): Promise<{ events: number; expired: boolean }> => {
    const ctrl = new AbortController();
    const stop = () => ctrl.abort();
    signal.addEventListener('abort', stop, { once: true });
    let silent = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => {
          silent = true;
          ctrl.abort();
        },
        (watchSeconds + SILENCE_GRACE_SECONDS) * 1000,
      );
    };
    try {
      arm();
      call('onRequest', () => opts.onRequest?.('watch'));
      const params = { ...query, watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: String(watchSeconds) };
      const res = await openRequest(kube, {
        method: 'GET',
        path: withQuery(path, rv === undefined ? params : { ...params, resourceVersion: rv }),
        signal: ctrl.signal,
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw new ApiStatusError(status, await readBody(res));
      res.setEncoding('utf8');
      let pending = '';
      let events = 0;
      for await (const chunk of res as IncomingMessage & AsyncIterable<string>) {
        arm();
        const { lines, rest } = splitLines(pending, chunk);
        pending = rest;
        for (const line of lines) {
          if (signal.aborted) return { events, expired: false };
          if (onLine(line) === 'expired') return { events, expired: true }; // leaving the loop destroys res
          events++;
        }
      }
      // A partial last line is an event cut off: `rv` has not passed it, so the next watch sends it again.
      return { events, expired: false };
    } catch (err) {
      if (silent) throw Object.assign(new Error(`no data for ${watchSeconds + SILENCE_GRACE_SECONDS} s`, { cause: err }), { code: 'ETIMEDOUT' });
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      ctrl.abort(); // whatever ended the watch, its connection must not linger
    }
  };

  const run = async () => {
    let needList = true;
    let quietWatches = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await relist();
          needList = false;
        }
        const end = await watch();
        if (end.expired) {
          needList = true;
          await pause();
        } else if (end.events > 0) {
          quietWatches = 0;
        } else if (quietWatches++ > 0) {
          await pause(); // a watch that keeps ending at once must not spin
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ApiStatusError && err.code === 410) {
          needList = true; // expired is routine after a long disconnect, not an error
        } else {
          report(apiError(err, `${needList ? 'listing' : 'watching'} ${path}`, kube.server));
          // Transient: resume the watch from `rv`. Anything else: start over from a list.
          if (!retriable(err)) needList = true;
        }
        await pause();
      }
    }
  };

  const done = run().finally(() => failSync(new RunboxError('cancelled', { cause: signal.reason })));
  return { get: (key) => store.get(key), list: () => [...store.values()], synced, done };
}
