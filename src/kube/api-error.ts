import { RunboxError, httpStatusOf } from '../errors.ts';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

const TLS_CODES = /CERT|VERIFY|SELF_SIGNED|ERR_TLS|ERR_SSL/;

/** The TLS verification failure behind an error, if that is what happened. */
function tlsCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODES.test(code)) return code;
  }
  return undefined;
}

/** Why the server could not be reached, if that is what happened. */
function networkCode(err: unknown): string | undefined {
  let fetchFailed = false;
  let innermost: string | undefined;
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return code;
    if (e instanceof Error) {
      if (e.message === 'fetch failed') fetchFailed = true;
      innermost = e.message;
    }
  }
  // fetch reports any transport failure as "fetch failed", the reason in its causes.
  return fetchFailed ? innermost : undefined;
}

/** The Status message the API server sent, if the error carries one. */
export function statusMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? undefined;
    } catch {
      return body || undefined;
    }
  }
  if (body && typeof body === 'object') return (body as { message?: string }).message;
  return undefined;
}

/** Turns a failed API call into the one line the user sees. */
export function apiError(err: unknown, doing: string, server?: string): RunboxError {
  if (err instanceof RunboxError) return err;
  const tls = tlsCode(err);
  if (tls) {
    return new RunboxError(`cannot verify the API server's certificate${server ? ` at ${server}` : ''} while ${doing} (${tls})`, {
      cause: err,
      hint: "the kubeconfig's certificate-authority does not match the cluster; fetch a current kubeconfig",
    });
  }
  const net = networkCode(err);
  if (net) {
    return new RunboxError(`cannot reach the API server${server ? ` at ${server}` : ''} while ${doing} (${net})`, {
      cause: err,
      hint: 'check that the cluster is running and that --context/KUBECONFIG point at it',
    });
  }
  const status = httpStatusOf(err);
  const message = statusMessage(err) ?? (err instanceof Error ? err.message : String(err));
  if (status === 401) {
    return new RunboxError(`the cluster did not accept your credentials while ${doing}`, {
      cause: err,
      hint: 'log in again or check the user of your kubeconfig context',
    });
  }
  if (status === 403) {
    return new RunboxError(`not allowed while ${doing}: ${message}`, {
      cause: err,
      hint: 'ask a cluster admin for the RBAC permission (see manifests/ for the role runbox needs)',
    });
  }
  return new RunboxError(`${doing} failed: ${message}`, { cause: err });
}
