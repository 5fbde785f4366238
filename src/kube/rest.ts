import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { KubeTarget } from './target.ts';

// Loaded with require, not import: the ESM view of node:http enumerates its
// lazy exports, which loads undici (~18 ms on every runbox command).
const require = createRequire(import.meta.url);
const { request: httpRequest } = require('node:http') as typeof import('node:http');
const { request: httpsRequest } = require('node:https') as typeof import('node:https');

/*
 * Plain JSON calls to the API server over node:http(s) with the target's
 * credentials. Every product call goes through here: the typed client is too
 * heavy to load on the hot path, and one transport is one place to get auth,
 * cancellation and errors right.
 */

export interface RequestOptions {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal | undefined;
}

/** The patch flavours the API server takes, by content type. */
export const PATCH = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

/** Opens one request and resolves to the response, unread (watches stream it). */
export function openRequest(target: KubeTarget, opts: RequestOptions): Promise<IncomingMessage> {
  target.onRequest?.(opts.method, opts.path);
  const url = new URL(opts.path, target.server);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: opts.method,
        ...target.tls,
        signal: opts.signal,
        headers: {
          ...target.headers,
          accept: 'application/json',
          ...(payload ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length } : {}),
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Reads a whole response as JSON (or its text when it is not JSON). */
export function readBody(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
  });
}

export async function requestJson(target: KubeTarget, opts: RequestOptions): Promise<{ status: number; body: unknown }> {
  const res = await openRequest(target, opts);
  return { status: res.statusCode ?? 0, body: await readBody(res) };
}

/** A non-2xx answer: the HTTP status and the Status object the server sent. */
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
export async function callJson<T>(target: KubeTarget, opts: RequestOptions): Promise<T> {
  const res = await requestJson(target, opts);
  if (res.status < 200 || res.status >= 300) throw new ApiStatusError(res.status, res.body);
  return res.body as T;
}

/** The object, or undefined when the server says 404. */
export async function getIfExists<T>(target: KubeTarget, path: string, signal?: AbortSignal): Promise<T | undefined> {
  const res = await requestJson(target, { method: 'GET', path, signal });
  if (res.status === 404) return undefined;
  if (res.status < 200 || res.status >= 300) throw new ApiStatusError(res.status, res.body);
  return res.body as T;
}
