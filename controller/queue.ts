/*
 * A work queue in the manner of client-go's: a key is queued at most once,
 * never worked on by two workers at once (added while being worked on, it is
 * worked on again afterwards), and may be put off until a time. The queue
 * holds keys, not objects: a worker reads the current state when it starts.
 */

export interface WorkQueue {
  add(key: string): void;
  /** Adds the key at `at`, unless it is due earlier already. */
  addAt(key: string, at: Date): void;
  /** Forgets a key's timer (its object is gone). */
  forget(key: string): void;
  /** When each key's timer fires, for metrics and tests. */
  pending(): Map<string, Date>;
  stop(): void;
}

export function workQueue(work: (key: string) => Promise<void>, opts: { concurrency: number; onError: (key: string, err: unknown) => void; now?: () => number }): WorkQueue {
  const now = opts.now ?? Date.now;
  const queue: string[] = [];
  const queued = new Set<string>();
  const active = new Set<string>();
  const again = new Set<string>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  let running = 0;
  let stopped = false;

  const pump = () => {
    while (!stopped && running < opts.concurrency && queue.length > 0) {
      const key = queue.shift()!;
      queued.delete(key);
      active.add(key);
      running++;
      work(key)
        .catch((err: unknown) => opts.onError(key, err))
        .finally(() => {
          active.delete(key);
          running--;
          if (again.delete(key)) add(key);
          pump();
        });
    }
  };

  function add(key: string): void {
    if (stopped) return;
    if (active.has(key)) {
      again.add(key);
      return;
    }
    if (queued.has(key)) return;
    queued.add(key);
    queue.push(key);
    pump();
  }

  return {
    add,
    addAt(key, at) {
      const t = at.getTime();
      const existing = timers.get(key);
      if (existing && existing.at <= t && existing.at > now()) return;
      if (existing) clearTimeout(existing.timer);
      // setTimeout's limit is ~24.8 days; a later time is simply looked at again then.
      const delay = Math.min(Math.max(0, t - now()), 2 ** 31 - 1);
      const timer = setTimeout(() => {
        timers.delete(key);
        add(key);
      }, delay);
      timer.unref();
      timers.set(key, { at: t, timer });
    },
    forget(key) {
      const existing = timers.get(key);
      if (existing) clearTimeout(existing.timer);
      timers.delete(key);
    },
    pending: () => new Map([...timers].map(([k, v]) => [k, new Date(v.at)])),
    stop() {
      stopped = true;
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}

/**
 * Runs at most `n` of the works given to it at once, starting them in the order given, and tells
 * each how many run as it starts, itself included; one failing does not stop the next.
 */
export function atMost(n: number): <T>(work: (running: number) => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= n) await new Promise<void>((r) => waiting.push(r));
    else running++;
    try {
      return await work(running);
    } finally {
      // The slot goes straight to the next in line, so that no newcomer overtakes it.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
