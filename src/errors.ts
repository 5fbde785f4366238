/** Exit code for runbox's own failures, as docker uses for its own. */
export const RUNBOX_FAILURE = 125;

/**
 * The one error type runbox shows to users: what failed, what to do about it,
 * and the underlying cause (printed only with -v).
 */
export class RunboxError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, opts: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'RunboxError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? RUNBOX_FAILURE;
  }
}

/** The HTTP status of a failed Kubernetes call, if the error carries one. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  for (const v of [e.code, e.statusCode, e.status]) if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}
