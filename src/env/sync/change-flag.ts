/*
 * "Something changed since I last looked": what a watch round waits on, on
 * either side. A watcher (fs.watch in the agent, chokidar on the laptop) only
 * raises the flag; the round that reads a manifest lowers it first, so an
 * event during the read costs one extra, empty round and is never lost.
 */

export interface ChangeFlag {
  readonly raised: boolean;
  raise(): void;
  lower(): void;
  /** Resolves once the flag is up and no event came for `quietMs` (at most `maxMs` after the first). */
  settled(quietMs: number, maxMs: number): Promise<void>;
}

export function changeFlag(): ChangeFlag {
  let raised = false;
  let last = 0;
  let first = 0;
  let wake: (() => void) | undefined;
  return {
    get raised() {
      return raised;
    },
    raise() {
      last = Date.now();
      if (!raised) first = last;
      raised = true;
      wake?.();
    },
    lower() {
      raised = false;
    },
    async settled(quietMs, maxMs) {
      while (!raised) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      for (;;) {
        const now = Date.now();
        const due = Math.min(last + quietMs, first + maxMs);
        if (now >= due) return;
        await new Promise((r) => setTimeout(r, due - now));
      }
    },
  };
}
