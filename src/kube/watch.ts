import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunboxError } from '../errors.ts';
import { apiError } from './api-error.ts';
import { ApiStatusError, callJson, openRequest, readBody } from './rest.ts';
import type { KubeTarget } from './target.ts';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a watcher decides on each object: keep waiting, done with a value, or failed. */
export type Decision<R> = { done: R } | { fail: Error } | undefined;

export interface WaitOptions<T, R> {
  /** Collection path, e.g. /api/v1/namespaces/ns/pods (no query string) */
  path: string;
  /** labelSelector / fieldSelector etc. */
  query?: Record<string, string>;
  /** Called for every object of each (re)list as 'ADDED', then for every watch event. */
  decide: (phase: WatchPhase, obj: T) => Decision<R>;
  /** Called after each (re)list with all listed items, after decide ran on them (e.g. "done when the list is empty"). */
  decideList?: (items: T[]) => Decision<R>;
  timeoutMs: number;
  /** The error to raise at the deadline. */
  onTimeout: () => Error;
  signal?: AbortSignal | undefined;
  /** Backoff bounds for re-lists/re-watches after errors (defaults 200 ms doubling to 5 s); tests shorten them. */
  backoff?: { initialMs: number; maxMs: number };
}

type Meta = { metadata?: { resourceVersion?: string } };
type EventType = WatchPhase | 'BOOKMARK' | 'ERROR';

/** The server closes a watch after this long; we simply reopen it. */
export const WATCH_SECONDS = 240;

/** Transport failures a flapping API server causes; anything else (TLS, DNS) will not heal by retrying. */
const TRANSIENT = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function retriable(err: unknown): boolean {
  if (err instanceof ApiStatusError) return err.code === 410 || err.code === 429 || err.code >= 500;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT.has(code);
}

export const withQuery = (path: string, query: Record<string, string>) => {
  const qs = new URLSearchParams(query).toString();
  return qs ? `${path}?${qs}` : path;
};

/**
 * Waits until `decide` settles on a collection, level-triggered like
 * client-go's reflector: list the current objects, then watch from the list's
 * resourceVersion. A watch the server ends is reopened from the last version
 * seen; an expired version (410, ERROR event) means re-listing, because events
 * in between are lost and only the current state can be trusted.
 */
export function waitFor<T, R>(target: KubeTarget, opts: WaitOptions<T, R>): Promise<R> {
  const { initialMs, maxMs } = opts.backoff ?? { initialMs: 200, maxMs: 5_000 };
  const doing = `watching ${opts.path}`;
  const query = opts.query ?? {};
  const ctrl = new AbortController();

  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (result: { value: R } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      opts.signal?.removeEventListener('abort', onAbort);
      ctrl.abort(); // ends the in-flight request and any backoff sleep
      if ('value' in result) resolve(result.value);
      else reject(result.error);
    };
    const onAbort = () => finish({ error: new RunboxError('cancelled', { cause: opts.signal?.reason }) });
    const deadline = setTimeout(() => finish({ error: opts.onTimeout() }), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    /** Applies a decision; true when the wait is over. */
    const settleOn = (decide: () => Decision<R>): boolean => {
      let d: Decision<R>;
      try {
        d = decide();
      } catch (err) {
        d = { fail: err instanceof Error ? err : new Error(String(err)) };
      }
      if (d && 'done' in d) finish({ value: d.done });
      else if (d && 'fail' in d) finish({ error: d.fail });
      return settled;
    };

    let delay = initialMs;
    const backoff = () => {
      const ms = delay;
      delay = Math.min(delay * 2, maxMs);
      return sleep(ms, undefined, { signal: ctrl.signal });
    };

    /** Lists the collection and decides on it; resolves to the list's resourceVersion. */
    const list = async (): Promise<string | undefined> => {
      const body = await callJson<Meta & { items?: T[] }>(target, { method: 'GET', path: withQuery(opts.path, query), signal: ctrl.signal });
      const items = body.items ?? [];
      for (const item of items) if (settleOn(() => opts.decide('ADDED', item))) return undefined;
      if (opts.decideList && settleOn(() => opts.decideList!(items))) return undefined;
      return body.metadata?.resourceVersion;
    };

    // The last version seen, kept across a broken stream so the next watch resumes from it.
    let rv: string | undefined;

    /** One watch request from `rv`, read to its end: how many events came, and whether to re-list. */
    const watch = async (): Promise<{ events: number; relist: boolean }> => {
      const params = { ...query, watch: '1', allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_SECONDS) };
      const res = await openRequest(target, {
        method: 'GET',
        path: withQuery(opts.path, rv === undefined ? params : { ...params, resourceVersion: rv }),
        signal: ctrl.signal,
      });
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw new ApiStatusError(status, await readBody(res));
      let events = 0;
      // false: stop reading (settled, or the watch is no longer valid and we must re-list)
      const handle = (line: string): boolean => {
        let ev: { type?: EventType; object?: T & Meta };
        try {
          ev = JSON.parse(line) as typeof ev;
        } catch {
          return false;
        }
        if (ev.type === 'ERROR' || !ev.object) return false;
        rv = ev.object.metadata?.resourceVersion ?? rv;
        events++;
        delay = initialMs; // the watch is healthy again
        switch (ev.type) {
          case 'BOOKMARK':
            return true;
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            return !settleOn(() => opts.decide(ev.type as WatchPhase, ev.object!));
          case undefined:
            return true; // not an event kind we know; its version still counts
          default:
            return ((_: never) => true)(ev.type);
        }
      };
      let pending = '';
      res.setEncoding('utf8');
      for await (const chunk of res as IncomingMessage & AsyncIterable<string>) {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() && !handle(line)) return { events, relist: !settled }; // leaving the loop destroys res
        }
      }
      const relist = pending.trim() !== '' && !handle(pending) && !settled;
      return { events, relist };
    };

    const run = async () => {
      let needList = true;
      let quietWatches = 0;
      while (!settled) {
        try {
          if (needList) {
            rv = await list();
            needList = false;
            if (settled) return;
          }
          const end = await watch();
          if (end.relist) {
            needList = true;
            await backoff();
          } else if (end.events > 0) {
            quietWatches = 0;
          } else if (quietWatches++ > 0) {
            await backoff(); // a watch that keeps ending at once must not spin
          }
        } catch (err) {
          if (settled) return;
          if (!retriable(err)) throw apiError(err, doing, target.server);
          if (err instanceof ApiStatusError && err.code === 410) needList = true;
          await backoff();
        }
      }
    };
    run().catch((err: unknown) => finish({ error: err instanceof Error ? err : new Error(String(err)) }));
  });
}
