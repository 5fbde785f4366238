import type { KubeSelection } from '../kube/target.ts';

/** Progress of a long operation, shown by the CLI (ink on a TTY, plain lines otherwise). */
export interface Progress {
  step(text: string): void;
  /** The operation succeeded; `text` is its last word. */
  done(text?: string): void;
  /** The operation failed; the error is reported separately. */
  fail(): void;
}

export const silentProgress: Progress = { step() {}, done() {}, fail() {} };

/** The side effects an operation may use, handed in by the CLI. */
export interface EnvDeps {
  sel: KubeSelection;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  progress: Progress;
  /** Where runbox keeps its laptop-side cache (remembered pod names). */
  cacheDir: string;
  signal?: AbortSignal | undefined;
  /** A one-line notice the user always sees (on stderr), e.g. a slower path taken. */
  notice: (message: string) => void;
  /** Diagnostics shown only with -v. */
  debug: (message: string) => void;
}
