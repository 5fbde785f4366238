import type { Progress } from '../env/deps.ts';
import { colorEnabled, type CliIo } from './io.ts';

export interface ClosableProgress extends Progress {
  /** A figure that changes fast (bytes moved): redrawn on a terminal, left out elsewhere. */
  meter(text: string): void;
  /** Waits until anything drawn is cleared away. */
  close(): Promise<void>;
}

/**
 * Progress for long operations: an ink spinner when stderr is a terminal, plain
 * lines otherwise. `quiet` prints nothing unless stderr is a terminal (for
 * `run`, whose stderr belongs to the command). ink is loaded only when the
 * first step is shown, so a command that needs no progress never pays for it.
 */
export function makeProgress(io: CliIo, opts: { quiet: boolean }): ClosableProgress {
  if (!io.stderr.isTTY) {
    return {
      step: (text) => {
        if (!opts.quiet) io.stderr.write(`... ${text}\n`);
      },
      done: (text) => {
        if (!opts.quiet && text) io.stderr.write(`${text}\n`);
      },
      fail() {},
      meter() {},
      close: async () => {},
    };
  }
  let text = '';
  let finished = false;
  let view: Promise<{ update(t: string): void; stop(final?: string): void } | undefined> | undefined;
  const load = () =>
    (view ??= import('./progress-view.ts')
      .then((m) => (finished ? undefined : m.showSpinner(io.stderr, text, colorEnabled(io))))
      .catch(() => undefined));
  let final: string | undefined;
  return {
    step(t) {
      text = t;
      void load().then((v) => v?.update(t));
    },
    done(t) {
      finished = true;
      final = t;
      if (view) void view.then((v) => v?.stop(t));
      else if (t) io.stderr.write(`${t}\n`);
    },
    meter(t) {
      if (!finished) this.step(t);
    },
    fail() {
      finished = true;
      if (view) void view.then((v) => v?.stop());
    },
    async close() {
      finished = true;
      const v = await view;
      v?.stop(final);
    },
  };
}
