import { RunboxError } from '../errors.ts';
import type { Kube } from './client.ts';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a watcher decides on each event: keep waiting, done with a value, or failed. */
export type Decision<R> = { done: R } | { fail: Error } | undefined;

export interface WaitOptions<T, R> {
  /** Collection path, e.g. /api/v1/namespaces/ns/pods */
  path: string;
  query?: Record<string, string>;
  decide: (phase: WatchPhase, obj: T) => Decision<R>;
  timeoutMs: number;
  /** The error to raise at the deadline, built from what was last seen. */
  onTimeout: () => Error;
  signal?: AbortSignal | undefined;
}

/**
 * Watches a collection until `decide` settles it. A watch without a
 * resourceVersion starts with the current objects as ADDED events, so the
 * decision is taken on observed state first, then on every change
 * (level-triggered). A watch the server closes early is reopened.
 */
export function waitFor<T, R>(kube: Kube, opts: WaitOptions<T, R>): Promise<R> {
  const watch = new kube.lib.Watch(kube.config);
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let current: AbortController | undefined;
    const finish = (result: { value: R } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      current?.abort();
      if ('value' in result) resolve(result.value);
      else reject(result.error);
    };
    const timer = setTimeout(() => finish({ error: opts.onTimeout() }), opts.timeoutMs);
    const onAbort = () => finish({ error: new RunboxError('cancelled', { cause: opts.signal?.reason }) });
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const open = () => {
      if (settled) return;
      watch
        .watch(
          opts.path,
          opts.query ?? {},
          (phase: string, obj: T) => {
            if (settled || phase === 'ERROR') return; // the stream ends next and is reopened
            const d = opts.decide(phase as WatchPhase, obj);
            if (d && 'done' in d) finish({ value: d.done });
            else if (d && 'fail' in d) finish({ error: d.fail });
          },
          (err: unknown) => {
            if (settled) return;
            const quiet = !err || (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'));
            if (!quiet) {
              finish({ error: new RunboxError(`watching ${opts.path} failed`, { cause: err }) });
            } else {
              open();
            }
          },
        )
        .then((ctrl) => {
          current = ctrl;
          if (settled) ctrl.abort();
        })
        .catch((err: unknown) => finish({ error: new RunboxError(`cannot watch ${opts.path}`, { cause: err }) }));
    };
    open();
  });
}
