import { request } from 'node:https';
import type { KubeTarget } from './target.ts';

/**
 * One JSON request to the API server over node:https with the target's
 * credentials: for the few calls on the hot path, where loading the typed
 * client would cost more than the call.
 */
export function requestJson(
  target: KubeTarget,
  opts: { method: string; path: string; body?: unknown; contentType?: string },
): Promise<{ status: number; body: unknown }> {
  const url = new URL(opts.path, target.server);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method,
        ...target.tls,
        headers: {
          ...target.headers,
          accept: 'application/json',
          ...(payload ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A non-2xx answer, shaped like client-node's errors (code, body) so apiError reads both. */
export class ApiStatusError extends Error {
  readonly code: number;
  readonly body: unknown;
  constructor(code: number, body: unknown) {
    super((body as { message?: string } | undefined)?.message ?? `HTTP ${code}`);
    this.code = code;
    this.body = body;
  }
}

/** A JSON call that resolves to the body of a 2xx answer and throws ApiStatusError otherwise. */
export async function callJson<T>(
  target: KubeTarget,
  opts: { method: string; path: string; body?: unknown; contentType?: string },
): Promise<T> {
  const res = await requestJson(target, opts);
  if (res.status < 200 || res.status >= 300) throw new ApiStatusError(res.status, res.body);
  return res.body as T;
}
