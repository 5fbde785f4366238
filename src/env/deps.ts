import type { KubeTarget } from '../kube/target.ts';

/** Progress of a long operation, shown by the CLI (ink on a TTY, plain lines otherwise). */
export interface Progress {
  step(text: string): void;
  /** The operation succeeded; `text` is its last word. */
  done(text?: string): void;
  /** The operation failed; the error is reported separately. */
  fail(): void;
}

export const silentProgress: Progress = { step() {}, done() {}, fail() {} };

export interface Clock {
  now(): Date;
}

/**
 * What an operation on an environment works with, handed in by its caller
 * (the CLI or the controller): a connected cluster, a clock, and where to say
 * what happens. Operations keep no state of their own and touch nothing else.
 */
export interface EnvDeps {
  kube: KubeTarget;
  clock: Clock;
  progress: Progress;
  signal?: AbortSignal | undefined;
  /** A one-line notice the user always sees (on stderr), e.g. a slower path taken. */
  notice: (message: string) => void;
  /** Diagnostics shown only with -v. */
  debug: (message: string) => void;
}
