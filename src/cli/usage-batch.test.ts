import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentProgress, type EnvDeps } from '../env/deps.ts';
import { usageEntry } from '../env/usage/entry.ts';
import { LaptopCache } from './laptop-cache.ts';
import { settleUsage } from './usage-batch.ts';

// The batch against a local HTTP peer standing in for the API server: it
// refuses writes while `down`, and records the ConfigMap data it is sent.

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function apiServer(state: { down: boolean; written: string[] }): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (state.down) return res.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"etcd is down"}');
      if (req.method === 'PATCH' || req.method === 'POST') {
        const data = (JSON.parse(body) as { data?: Record<string, string> }).data ?? {};
        state.written.push(...Object.keys(data));
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { name: 'x' }, data }));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('settleUsage', () => {
  it('keeps the entries when the ledger cannot be written, says so once, and writes them all later', async () => {
    const state = { down: true, written: [] as string[] };
    const notices: string[] = [];
    const deps: EnvDeps = {
      kube: { server: await apiServer(state), namespace: 'ns', context: 't', tls: {}, headers: {} },
      clock: { now: () => new Date('2026-11-23T10:00:00Z') },
      progress: silentProgress,
      notice: (m) => notices.push(m),
      debug: () => {},
    };
    const cache = new LaptopCache(mkdtempSync(join(tmpdir(), 'runbox-batch-')), 'k', () => {});
    const entry = (n: number) => usageEntry([`cmd-${n}`], { start: new Date('2026-11-23T09:59:00Z'), durationMs: 2000, allocation: 1, exitCode: 0 });
    await settleUsage(deps, cache, 'myrb', { entry: entry(1), forced: false });
    await settleUsage(deps, cache, 'myrb', { entry: entry(2), forced: false });
    expect(cache.pending()).toHaveLength(2);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^could not write 1 usage entry of myrb to the cluster .*kept on this laptop/);
    state.down = false;
    await settleUsage(deps, cache, 'myrb', { entry: entry(3), forced: false });
    expect(cache.pending()).toEqual([]);
    expect(new Set(state.written).size).toBe(3);
    expect(notices).toHaveLength(1);
  });
});
