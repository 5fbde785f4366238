import { RunboxError } from '../errors.ts';

/*
 * A failed registry call as one line naming the registry, the repository and
 * what we were doing, with the registry's own error codes kept for callers
 * that branch on them (NAME_UNKNOWN, MANIFEST_UNKNOWN, UNSUPPORTED...).
 */

/** What a request was for: the words of every message about it. */
export interface Operation {
  /** e.g. `uploading blob sha256:0123456789ab`, `fetching manifest bookworm`. */
  doing: string;
  repo: string;
}

/** One entry of a distribution error body, `{"errors": [{code, message, detail}]}`. */
export interface RegistryErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryError extends RunboxError {
  readonly status: number | undefined;
  readonly codes: string[];

  constructor(message: string, opts: { status?: number; codes?: string[]; hint?: string; cause?: unknown }) {
    super(message, { hint: opts.hint, cause: opts.cause });
    this.name = 'RegistryError';
    this.status = opts.status;
    this.codes = opts.codes ?? [];
  }
}

/** Whether a failure carries the registry error code `code` (NAME_UNKNOWN, UNSUPPORTED...). */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof RegistryError && err.codes.includes(code);
}

export function parseErrorBody(text: string): RegistryErrorEntry[] {
  try {
    const errors = (JSON.parse(text) as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    return errors.filter((e): e is RegistryErrorEntry => typeof e === 'object' && e !== null && typeof e.code === 'string');
  } catch {
    // Not JSON (a proxy's HTML page, an empty HEAD reply): the caller shows the text itself.
    return [];
  }
}

const HINTS: Record<number, string> = {
  401: 'check the registry credentials (the Secret named by registry-secret in runbox-config)',
  403: 'the registry credentials lack permission for this repository',
  429: 'the registry is rate-limiting; try again later or use credentials with a higher limit',
};

/** The error for a reply with an unexpected HTTP status. Pure. */
export function httpFailure(host: string, op: Operation, status: number, body: string): RegistryError {
  const entries = parseErrorBody(body);
  const details = entries.length > 0
    ? entries.map((e) => `${e.message || e.code.toLowerCase().replace(/_/g, ' ')} (${e.code}${detailText(e.detail)})`).join('; ')
    : (body.trim().replace(/\s+/g, ' ').slice(0, 200) || 'no details');
  return new RegistryError(`registry ${host}: ${op.doing} in ${op.repo} failed: ${details}, HTTP ${status}`, {
    status,
    codes: entries.map((e) => e.code),
    hint: HINTS[status],
  });
}

function detailText(detail: unknown): string {
  if (typeof detail === 'string' && detail !== '') return `: ${detail.slice(0, 120)}`;
  return '';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The error for a request that got no reply: unreachable, TLS, or aborted. */
export function transportFailure(host: string, op: Operation, err: unknown, opts: { plainHttp: boolean }): RunboxError {
  if (err instanceof RunboxError) return err;
  if ((err as { name?: unknown })?.name === 'AbortError') {
    return new RegistryError(`registry ${host}: ${op.doing} in ${op.repo} was cancelled`, { cause: err });
  }
  const codes = causeCodes(err);
  const tls = codes.find((c) => /SSL|TLS|CERT|VERIFY|SELF_SIGNED|EPROTO/.test(c));
  if (tls) {
    const plainServer = /WRONG_VERSION_NUMBER|EPROTO/.test(tls);
    return new RegistryError(`registry ${host}: TLS failed while ${op.doing} in ${op.repo} (${tls})`, {
      cause: err,
      hint: plainServer
        ? `the registry seems to serve plain HTTP: configure it as http://${host}`
        : 'the registry certificate is not trusted here; use a trusted certificate, or http:// for a registry without TLS',
    });
  }
  const net = codes.find((c) => UNREACHABLE.has(c)) ?? innermostMessage(err);
  return new RegistryError(`cannot reach registry ${host} while ${op.doing} in ${op.repo} (${net})`, {
    cause: err,
    hint: opts.plainHttp
      ? 'check the registry address and that it listens there (from a pod, 127.0.0.1 is the pod itself)'
      : 'check the registry address, or configure http://HOST for a registry without TLS',
  });
}

function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof Error && /wrong version number/i.test(e.message)) codes.push('ERR_SSL_WRONG_VERSION_NUMBER');
  }
  return codes;
}

function innermostMessage(err: unknown): string {
  let message = String(err);
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) message = e.message;
  }
  return message;
}
