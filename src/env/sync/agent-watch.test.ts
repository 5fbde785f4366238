import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { serveSync, type SyncRequest } from './agent.ts';
import { changeFlag } from './change-flag.ts';
import { frameChannel } from './frames.ts';

// The agent's watch requests, against a real folder and fs.watch, over in-memory streams.

function pair(root: string) {
  const up = new PassThrough();
  const down = new PassThrough();
  const agent = serveSync(frameChannel(up, down), root);
  const chan = frameChannel(down, up);
  const ask = async <T>(req: SyncRequest) => {
    await chan.sendJson(req);
    return chan.nextJson<T>();
  };
  return { chan, agent, ask };
}

describe('the agent watching its folder', () => {
  it('answers a wait when the folder changes, a cancel at once, and silence after the timeout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-agent-watch-'));
    mkdirSync(join(root, '.runbox'));
    const { chan, agent, ask } = pair(root);
    expect(await ask({ op: 'watch' })).toEqual({ ok: true });
    await ask({ op: 'manifest' });

    const t0 = Date.now();
    await chan.sendJson({ op: 'wait', timeoutMs: 10_000 });
    setTimeout(() => writeFileSync(join(root, 'new.txt'), 'x'), 50);
    expect(await chan.nextJson()).toEqual({ changed: true });
    expect(Date.now() - t0).toBeLessThan(2000);

    await ask({ op: 'manifest' }); // lowers the flag
    await chan.sendJson({ op: 'wait', timeoutMs: 10_000 });
    await chan.sendJson({ op: 'cancel' });
    expect(await chan.nextJson()).toEqual({ changed: false });

    // A cancel that arrives after its wait was answered is dropped, never answered.
    expect(await ask({ op: 'wait', timeoutMs: 50 })).toEqual({ changed: false });
    await chan.sendJson({ op: 'cancel' });
    const manifest = await ask<{ manifest: string }>({ op: 'manifest' });
    expect(manifest.manifest).toContain('new.txt');

    // Files under .runbox (runbox's own shell state) do not count as changes.
    await chan.sendJson({ op: 'wait', timeoutMs: 400 });
    setTimeout(() => writeFileSync(join(root, '.runbox', 'cwd'), '/data'), 10);
    expect(await chan.nextJson()).toEqual({ changed: false });
    expect(await ask({ op: 'bye' })).toEqual({ ok: true });
    await agent;
  });
});

describe('a change flag', () => {
  it('settles once events stop for the quiet time, or at the most after maxMs', async () => {
    const flag = changeFlag();
    const t0 = Date.now();
    const timer = setInterval(() => flag.raise(), 20);
    await flag.settled(100, 300);
    clearInterval(timer);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(600);
    flag.lower();
    expect(flag.raised).toBe(false);
  });
});
