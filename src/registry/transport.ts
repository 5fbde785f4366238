import type { RegistryAuth } from './auth.ts';
import type { RegistryEndpoint } from './endpoint.ts';
import { httpFailure, transportFailure, type Operation } from './registry-error.ts';

/*
 * One HTTP exchange with a registry: the right Authorization, one retry after
 * a 401 challenge (the only retry: a registry that fails otherwise has told
 * us something the caller should hear), and failures turned into messages
 * that name the registry, the repository and the operation.
 */

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: Method;
  /** `/v2/...` on this registry, or an absolute URL it gave us (an upload Location). */
  target: string | URL;
  headers?: Record<string, string>;
  /** Bytes only: a body must be resendable after a challenge. */
  body?: Uint8Array;
  /** The token scopes the request needs. */
  scopes: string[];
  op: Operation;
}

export class Transport {
  readonly endpoint: RegistryEndpoint;
  readonly #auth: RegistryAuth;
  readonly #signal: AbortSignal | undefined;

  constructor(endpoint: RegistryEndpoint, auth: RegistryAuth, signal?: AbortSignal) {
    this.endpoint = endpoint;
    this.#auth = auth;
    this.#signal = signal;
  }

  /** Resolves a path or a Location (absolute, or relative with or without a query) against the registry. */
  url(target: string | URL): URL {
    return target instanceof URL ? target : new URL(target, this.endpoint.origin);
  }

  /** Sends the request and returns whatever the registry answered, after at most one challenge. */
  async send(req: RegistryRequest): Promise<Response> {
    const url = this.url(req.target);
    let authorization = await this.#auth.authorization(req.scopes, req.op);
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...req.headers };
      if (authorization) headers.Authorization = authorization;
      let res: Response;
      try {
        res = await fetch(url, { method: req.method, headers, body: req.body as Uint8Array<ArrayBuffer> | undefined, signal: this.#signal, redirect: 'follow' });
      } catch (err) {
        throw transportFailure(this.endpoint.host, req.op, err, { plainHttp: this.endpoint.plainHttp });
      }
      if (res.status !== 401 || attempt === 2) return res;
      const challenge = res.headers.get('www-authenticate');
      await discard(res);
      authorization = await this.#auth.answer(challenge, req.scopes, req.op);
    }
  }

  /** Sends, and throws the registry's error unless the status is one of `ok`. */
  async expect(req: RegistryRequest, ok: number[]): Promise<Response> {
    const res = await this.send(req);
    if (!ok.includes(res.status)) throw await this.failure(res, req.op);
    return res;
  }

  /** The error for a reply the caller did not expect (reads and closes its body). */
  async failure(res: Response, op: Operation): Promise<Error> {
    let body = '';
    try {
      body = await res.text();
    } catch (err) {
      return transportFailure(this.endpoint.host, op, err, { plainHttp: this.endpoint.plainHttp });
    }
    return httpFailure(this.endpoint.host, op, res.status, body);
  }
}

/** Lets go of a reply whose body we do not need, so its connection can be reused. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel();
}
