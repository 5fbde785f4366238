import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeTarget } from './target.ts';

/*
 * For tests of list-and-watch clients (watch.ts, informer.ts): a local HTTP
 * server playing the API server for one collection. Each test scripts the
 * list and watch answers and checks what the client asked for.
 */

export type Handler = (n: number, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export const watchEvent = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
export const GONE = { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1 (9)' };

export function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Starts a watch response, so that the client sees the headers before any event. */
export function stream(res: ServerResponse): ServerResponse {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  return res;
}

export interface FakeApi {
  target: KubeTarget;
  /** Every LIST and WATCH query it saw. */
  lists: URLSearchParams[];
  watches: URLSearchParams[];
  /** How many requests are still open. */
  open(): number;
  close(): Promise<void>;
}

/** Serves `path` only: a list answered by `handlers.list`, a watch (watch=1) by `handlers.watch` (default: held open). */
export async function fakeApi(path: string, handlers: { list: Handler; watch?: Handler }): Promise<FakeApi> {
  const lists: URLSearchParams[] = [];
  const watches: URLSearchParams[] = [];
  let open = 0;
  const server: Server = createServer((req, res) => {
    open++;
    res.on('close', () => open--);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== path) return send(res, 404, { message: 'wrong path' });
    const seen = url.searchParams.get('watch') === '1' ? watches : lists;
    seen.push(url.searchParams);
    const handler = seen === watches ? (handlers.watch ?? ((_n, r) => void stream(r))) : handlers.list;
    void Promise.resolve(handler(seen.length, res, req)).catch((err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    target: { server: `http://127.0.0.1:${port}`, namespace: 'ns', context: 't', tls: {}, headers: {} },
    lists,
    watches,
    open: () => open,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
