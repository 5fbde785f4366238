import { challengeScopes, parseChallenges, type Challenge } from './challenge.ts';
import type { Credentials } from './credentials.ts';
import { RegistryError, httpFailure, transportFailure, type Operation } from './registry-error.ts';

/*
 * The registry token flow (distribution's "token authentication"): a 401
 * names a realm; we GET realm?service=...&scope=... (Basic credentials if we
 * have any, anonymous otherwise) and send the token as Bearer. Tokens are
 * cached by the scopes they grant, so a push that touches a repository many
 * times fetches one token; once a realm is known, a request with new scopes
 * gets its token before it is sent, saving the 401 round trip.
 */

export interface AuthOptions {
  /** host[:port] of the registry, for messages. */
  host: string;
  credentials?: Credentials;
  plainHttp: boolean;
  signal?: AbortSignal;
  /** Milliseconds since the epoch; injectable so expiry is testable. */
  clock?: () => number;
}

interface CachedToken {
  scopes: ReadonlySet<string>;
  header: string;
  expiresAt: number;
}

// The token spec's default lifetime when the server gives none.
const DEFAULT_LIFETIME_S = 60;
// Renew a little early, so a token does not expire between our check and the registry's.
const EARLY_S = 10;

/** `repository:<repo>:pull` or `...:pull,push`: what a request needs from a token. */
export function repoScope(repo: string, actions: 'pull' | 'pull,push' | 'delete'): string {
  return `repository:${repo}:${actions}`;
}

export class RegistryAuth {
  readonly #opts: AuthOptions;
  readonly #clock: () => number;
  #realm: { realm: string; service: string | undefined } | undefined;
  #basic = false;
  #tokens: CachedToken[] = [];

  constructor(opts: AuthOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  /** The Authorization header for a request needing `scopes`, or none before any challenge. */
  async authorization(scopes: string[], op: Operation): Promise<string | undefined> {
    if (this.#basic) return this.#basicHeader();
    const cached = this.#cached(scopes);
    if (cached) return cached;
    if (this.#realm) return this.#fetchToken(scopes, op);
    return undefined;
  }

  /** The header to retry a 401 with; throws when the challenge cannot be answered. */
  async answer(header: string | null, scopes: string[], op: Operation): Promise<string> {
    const challenges = parseChallenges(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      this.#realm = { realm: bearer.params.realm as string, service: bearer.params.service };
      // A cached token got us here: the registry no longer takes it.
      this.#tokens = [];
      return this.#fetchToken(union(scopes, challengeScopes(bearer)), op);
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!this.#opts.credentials) throw this.#needsLogin(op);
      this.#basic = true;
      return this.#basicHeader();
    }
    throw new RegistryError(
      `registry ${this.#opts.host}: ${op.doing} in ${op.repo} was refused (HTTP 401) with no usable challenge (${describe(challenges, header)})`,
      { status: 401, hint: 'runbox supports Bearer token and Basic authentication' },
    );
  }

  #cached(scopes: string[]): string | undefined {
    const now = this.#clock();
    this.#tokens = this.#tokens.filter((t) => t.expiresAt > now);
    return this.#tokens.find((t) => scopes.every((s) => t.scopes.has(s)))?.header;
  }

  #basicHeader(): string {
    const c = this.#opts.credentials as Credentials;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  async #fetchToken(scopes: string[], op: Operation): Promise<string> {
    const { realm, service } = this.#realm as { realm: string; service: string | undefined };
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new RegistryError(`registry ${this.#opts.host}: its token realm "${realm}" is not a URL`, { cause: err });
    }
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.#opts.credentials) headers.Authorization = this.#basicHeader();

    const tokenOp = { doing: `getting a token from ${url.origin} for ${op.doing}`, repo: op.repo };
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, { headers, signal: this.#opts.signal });
      body = await res.text();
    } catch (err) {
      throw transportFailure(this.#opts.host, tokenOp, err, { plainHttp: url.protocol === 'http:' });
    }
    if (res.status === 401 || res.status === 403) {
      throw this.#opts.credentials
        ? httpFailure(this.#opts.host, { ...tokenOp, doing: `${tokenOp.doing} (credentials of ${this.#opts.credentials.username})` }, res.status, body)
        : this.#needsLogin(op);
    }
    if (!res.ok) throw httpFailure(this.#opts.host, tokenOp, res.status, body);

    const reply = parseTokenReply(body);
    if (!reply) {
      throw new RegistryError(`registry ${this.#opts.host}: the token server at ${url.origin} sent no token while ${op.doing} in ${op.repo}`, {});
    }
    const header = `Bearer ${reply.token}`;
    const lifetime = Math.max(reply.expiresIn ?? DEFAULT_LIFETIME_S, EARLY_S * 2);
    this.#tokens.push({ scopes: new Set(scopes), header, expiresAt: this.#clock() + (lifetime - EARLY_S) * 1000 });
    return header;
  }

  #needsLogin(op: Operation): RegistryError {
    return new RegistryError(`registry ${this.#opts.host} requires credentials for ${op.doing} in ${op.repo}`, {
      status: 401,
      hint: 'give runbox a docker-registry Secret and name it as registry-secret in runbox-config',
    });
  }
}

/** `{token}` or `{access_token}` (OAuth2 style), with `expires_in` seconds. Pure. */
export function parseTokenReply(body: string): { token: string; expiresIn?: number } | undefined {
  let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    return undefined;
  }
  const token = typeof json.token === 'string' && json.token !== '' ? json.token : json.access_token;
  if (typeof token !== 'string' || token === '') return undefined;
  const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : undefined;
  return expiresIn === undefined ? { token } : { token, expiresIn };
}

function union(a: string[], b: string[]): string[] {
  return [...new Set([...a, ...b])];
}

function describe(challenges: Challenge[], header: string | null): string {
  if (header === null || header === '') return 'no WWW-Authenticate header';
  return `schemes: ${challenges.map((c) => c.scheme).join(', ') || header.slice(0, 80)}`;
}
