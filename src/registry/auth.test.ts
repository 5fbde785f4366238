import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseTokenReply } from './auth.ts';
import { RegistryClient } from './client.ts';
import { RegistryError } from './registry-error.ts';

/*
 * The auth protocol against real HTTP peers on loopback: a token server and a
 * resource server that, like distribution with token auth, answers 401 with a
 * Bearer challenge naming the scope each request needs and checks the
 * token's scopes. The resource server serves just enough of the API (tags,
 * uploads, mounts) for every kind of request the client sends to pass
 * through the challenge; its Locations are relative, as some registries send.
 */

const USER = 'alice';
const PASS = 'wonder:land';

interface World {
  tokenRequests: { scopes: string[]; basic: string | undefined }[];
  challenges: number;
  /** Token value -> the scopes it grants; a token not here is revoked. */
  tokens: Map<string, string[]>;
  accessTokenStyle: boolean;
  mode: 'bearer' | 'basic';
  blobs: Map<string, Buffer>;
  uploads: Map<string, { repo: string; data: Buffer[]; ranges: string[] }>;
  cancelled: string[];
  mountRequests: number;
}

let world: World;
let tokenServer: Server;
let registry: Server;
let registryHost: string;
let realm: string;

function reset(): void {
  world = {
    tokenRequests: [],
    challenges: 0,
    tokens: new Map(),
    accessTokenStyle: false,
    mode: 'bearer',
    blobs: new Map(),
    uploads: new Map(),
    cancelled: [],
    mountRequests: 0,
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function basicOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString() : undefined;
}

function handleToken(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const scopes = url.searchParams.getAll('scope');
  const basic = basicOf(req);
  world.tokenRequests.push({ scopes, basic });
  if (url.searchParams.get('service') !== 'test-registry' || (basic !== undefined && basic !== `${USER}:${PASS}`)) {
    res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
    return;
  }
  const token = `t${world.tokenRequests.length}`;
  world.tokens.set(token, scopes);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(world.accessTokenStyle ? { access_token: token, expires_in: 120 } : { token, expires_in: 120 }));
}

/** The scopes a request needs, by method as distribution's access controller names them. */
function needed(method: string, url: URL): string[] {
  const m = /^\/v2\/(.+?)\/(tags\/list|blobs\/uploads\/.*|blobs\/[^/]+|manifests\/[^/]+)$/.exec(url.pathname);
  if (!m) return [];
  const repo = m[1] as string;
  const from = url.searchParams.get('from');
  const action = method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' ? 'delete' : 'pull,push';
  const own = `repository:${repo}:${action}`;
  return from ? [own, `repository:${from}:pull`] : [own];
}

function authorized(req: IncomingMessage, scopes: string[]): boolean {
  const h = req.headers.authorization ?? '';
  if (world.mode === 'basic') return basicOf(req) === `${USER}:${PASS}`;
  const granted = h.startsWith('Bearer ') ? world.tokens.get(h.slice(7)) : undefined;
  return granted !== undefined && scopes.every((s) => granted.includes(s));
}

async function handleRegistry(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const method = req.method ?? 'GET';
  const scopes = needed(method, url);
  if (!authorized(req, scopes)) {
    world.challenges++;
    const challenge = world.mode === 'basic'
      ? 'Basic realm="test"'
      : `Bearer realm="${realm}",service="test-registry"${scopes.length ? `,scope="${scopes.join(' ')}"` : ''}`;
    res.writeHead(401, { 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    return;
  }
  const body = await bodyOf(req);
  const path = url.pathname;
  let m: RegExpExecArray | null;
  if (path === '/v2/') return void res.writeHead(200).end('{}');
  if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(path))) {
    // Two pages, the second reached through a relative Link.
    const last = url.searchParams.get('last');
    if (last === null) res.setHeader('Link', `</v2/${m[1]}/tags/list?n=2&last=b>; rel="next"`);
    return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name: m[1], tags: last ? ['c'] : ['a', 'b'] }));
  }
  if ((m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(path)) && method === 'POST') {
    if (url.searchParams.has('mount')) world.mountRequests++;
    const id = `u${world.uploads.size + 1}`;
    world.uploads.set(id, { repo: m[1] as string, data: [], ranges: [] });
    // Relative, with a query whose `=` must survive.
    return void res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/${id}?_state=s%3D${id}` }).end();
  }
  if ((m = /^\/v2\/(.+)\/blobs\/uploads\/(u\d+)$/.exec(path))) {
    const upload = world.uploads.get(m[2] as string);
    if (!upload || (method !== 'DELETE' && url.searchParams.get('_state') !== `s=${m[2]}`)) return void res.writeHead(404).end();
    if (method === 'DELETE') {
      world.cancelled.push(m[2] as string);
      return void res.writeHead(204).end();
    }
    const offset = upload.data.reduce((n, b) => n + b.length, 0);
    if (method === 'PATCH') {
      const range = req.headers['content-range'] ?? '';
      upload.ranges.push(range);
      if (range !== `${offset}-${offset + body.length - 1}`) return void res.writeHead(416).end();
      upload.data.push(body);
      // Relative and without a query this time; the next request must carry the state we gave.
      return void res.writeHead(202, { Location: `/v2/${m[1]}/blobs/uploads/${m[2]}?_state=s%3D${m[2]}`, Range: `0-${offset + body.length - 1}` }).end();
    }
    if (method === 'PUT') {
      upload.data.push(body);
      const all = Buffer.concat(upload.data);
      const digest = `sha256:${createHash('sha256').update(all).digest('hex')}`;
      if (url.searchParams.get('digest') !== digest) {
        return void res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}');
      }
      world.blobs.set(`${upload.repo}@${digest}`, all);
      return void res.writeHead(201, { 'Docker-Content-Digest': digest }).end();
    }
  }
  if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path))) {
    // A registry that keeps its manifests: it names the tag's digest and refuses deletes.
    if (method === 'HEAD') return void res.writeHead(200, { 'Docker-Content-Digest': `sha256:${'1'.repeat(64)}` }).end();
    if (method === 'DELETE') {
      return void res.writeHead(405, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}');
    }
  }
  if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path))) {
    const blob = world.blobs.get(`${m[1]}@${m[2]}`);
    if (!blob) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
    return void res.writeHead(200, { 'Content-Length': blob.length, 'Docker-Content-Digest': m[2] }).end(method === 'HEAD' ? undefined : blob);
  }
  res.writeHead(404).end();
}

function client(opts: { credentials?: boolean; clock?: () => number } = {}): RegistryClient {
  return new RegistryClient({
    host: registryHost,
    ...(opts.credentials ? { credentials: { username: USER, password: PASS } } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  tokenServer = createServer(handleToken);
  registry = createServer((req, res) => {
    handleRegistry(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  realm = `http://${await listen(tokenServer)}/token`;
  registryHost = await listen(registry);
});

afterAll(async () => {
  await new Promise((r) => tokenServer.close(r));
  await new Promise((r) => registry.close(r));
});

beforeEach(reset);

describe('Bearer token flow', () => {
  it('answers a challenge anonymously, follows pagination and reuses the token', async () => {
    const c = client();
    expect(await c.listTags('team/app')).toEqual(['a', 'b', 'c']);
    expect(await c.listTags('team/app')).toEqual(['a', 'b', 'c']);
    expect(world.tokenRequests).toEqual([{ scopes: ['repository:team/app:pull'], basic: undefined }]);
    expect(world.challenges).toBe(1);
  });

  it('sends Basic credentials to the token server and takes access_token', async () => {
    world.accessTokenStyle = true;
    await client({ credentials: true }).listTags('team/app');
    expect(world.tokenRequests).toEqual([{ scopes: ['repository:team/app:pull'], basic: `${USER}:${PASS}` }]);
  });

  it('asks for new scopes before sending once it knows the realm', async () => {
    const c = client();
    await c.listTags('a/one');
    await c.listTags('a/two');
    expect(world.challenges).toBe(1);
    expect(world.tokenRequests.map((r) => r.scopes)).toEqual([['repository:a/one:pull'], ['repository:a/two:pull']]);
  });

  it('fetches a new token when the cached one expires', async () => {
    let now = 1_000_000;
    const c = client({ clock: () => now });
    await c.listTags('team/app');
    now += 100_000; // still inside 120 s less the early margin
    await c.listTags('team/app');
    expect(world.tokenRequests).toHaveLength(1);
    now += 20_000;
    await c.listTags('team/app');
    expect(world.tokenRequests).toHaveLength(2);
  });

  it('gets a fresh token when the registry stops taking the cached one', async () => {
    const c = client();
    await c.listTags('team/app');
    world.tokens.clear();
    expect(await c.listTags('team/app')).toEqual(['a', 'b', 'c']);
    expect(world.tokenRequests).toHaveLength(2);
  });

  it('names the registry, repository and operation when the token server refuses', async () => {
    const c = new RegistryClient({ host: registryHost, credentials: { username: USER, password: 'wrong' } });
    const err = await c.listTags('team/app').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).message).toMatch(new RegExp(`registry ${registryHost}: getting a token .* listing tags .* in team/app failed: bad credentials \\(UNAUTHORIZED\\), HTTP 401`));
    expect((err as RegistryError).hint).toMatch(/credentials/);
  });

  it('carries the scope of both repositories to a mount, and copies when the registry will not mount', async () => {
    const data = Buffer.from('a layer that lives in the base repository');
    world.blobs.set(`base/img@${sha(data)}`, data);
    const c = client();
    expect(await c.mountBlob('env/one', sha(data), 'base/img')).toBe('copied');
    expect(world.mountRequests).toBe(1);
    expect(world.tokenRequests[0]?.scopes).toEqual(['repository:env/one:pull,push', 'repository:base/img:pull']);
    expect(world.cancelled).toEqual(['u1']);
    expect(world.blobs.get(`env/one@${sha(data)}`)).toEqual(data);
  });
});

describe('uploads through the challenge', () => {
  it('streams in chunks with inclusive Content-Range, following relative Locations', async () => {
    const data = Buffer.from(Array.from({ length: 25 }, (_, i) => i));
    const source = Readable.from([data.subarray(0, 3), data.subarray(3, 17), data.subarray(17)]);
    const pushed = await client().uploadBlobStream('env/one', source, { chunkSize: 10 });
    expect(pushed).toEqual({ digest: sha(data), size: 25 });
    expect(world.uploads.get('u1')?.ranges).toEqual(['0-9', '10-19']);
    expect(world.blobs.get(`env/one@${sha(data)}`)).toEqual(data);
  });

  it('closes with an empty PUT when the stream ends on a chunk boundary', async () => {
    const data = Buffer.alloc(20, 7);
    const pushed = await client().uploadBlobStream('env/one', Readable.from([data]), { chunkSize: 10 });
    expect(pushed).toEqual({ digest: sha(data), size: 20 });
    expect(world.uploads.get('u1')?.ranges).toEqual(['0-9', '10-19']);
  });

  it('uploads a buffer in one PUT and abandons the session when the source fails', async () => {
    const c = client();
    expect(await c.uploadBlob('env/one', Buffer.from('{}'))).toEqual({ digest: sha(Buffer.from('{}')), size: 2 });
    async function* failing() {
      yield Buffer.alloc(10);
      throw new Error('tar broke');
    }
    await expect(c.uploadBlobStream('env/one', failing(), { chunkSize: 4 })).rejects.toThrow('tar broke');
    expect(world.cancelled).toEqual(['u2']);
  });
});

describe('deletes', () => {
  it('reports a registry that refuses deletes as an outcome, after the challenge', async () => {
    expect(await client().deleteTag('team/app', 'v1')).toEqual({
      kind: 'unsupported',
      message: `registry ${registryHost} does not allow deletes, so team/app:v1 stays`,
    });
    expect(world.tokenRequests.map((r) => r.scopes)).toEqual([
      ['repository:team/app:pull'],
      ['repository:team/app:delete'],
    ]);
    expect(world.challenges).toBe(1);
  });
});

describe('Basic auth', () => {
  it('answers a Basic challenge with the credentials and keeps sending them', async () => {
    world.mode = 'basic';
    const c = client({ credentials: true });
    await c.ping();
    await c.listTags('team/app');
    expect(world.challenges).toBe(1);
    expect(world.tokenRequests).toEqual([]);
  });

  it('says credentials are needed when it has none', async () => {
    world.mode = 'basic';
    await expect(client().listTags('team/app')).rejects.toThrow(`registry ${registryHost} requires credentials for listing tags in team/app`);
  });
});

describe('parseTokenReply', () => {
  it.each([
    ['{"token":"a","expires_in":300}', { token: 'a', expiresIn: 300 }],
    ['{"access_token":"b"}', { token: 'b' }],
    ['{"token":"","access_token":"c","expires_in":-1}', { token: 'c' }],
    ['{"nothing":1}', undefined],
    ['<html>', undefined],
  ])('%s', (body, reply) => {
    expect(parseTokenReply(body)).toEqual(reply);
  });
});
