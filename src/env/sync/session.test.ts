import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { serveSync } from './agent.ts';
import { frameChannel } from './frames.ts';
import { endSync, syncOnce, type Direction } from './session.ts';
import type { Manifest } from './types.ts';

// The real client session against the real agent, paired over in-memory streams.

function pair(remoteRoot: string) {
  const up = new PassThrough();
  const down = new PassThrough();
  const agent = serveSync(frameChannel(up, down), remoteRoot);
  return { chan: frameChannel(down, up), agent };
}

async function sync(local: string, remote: string, base: Manifest | undefined, direction: Direction = 'both') {
  const { chan, agent } = pair(remote);
  const report = await syncOnce(chan, { localRoot: local, base, direction, dryRun: false, now: new Date('2026-11-23T10:00:00Z') });
  await endSync(chan);
  await agent;
  return report;
}

const dirs = () => [mkdtempSync(join(tmpdir(), 'rb-local-')), mkdtempSync(join(tmpdir(), 'rb-remote-'))] as const;
const tree = (root: string) => readdirSync(root, { recursive: true }).map(String).sort();

describe('a sync session against the agent', () => {
  it('first sync copies each side to the other and deletes nothing; the next one sees nothing to do', async () => {
    const [l, r] = dirs();
    writeFileSync(join(l, 'my_file'), 'laptop');
    mkdirSync(join(r, 'out/empty'), { recursive: true });
    writeFileSync(join(r, 'out/result.txt'), 'remote');
    const first = await sync(l, r, undefined);
    expect(tree(l)).toEqual(tree(r));
    expect(readFileSync(join(r, 'my_file'), 'utf8')).toBe('laptop');
    expect(readFileSync(join(l, 'out/result.txt'), 'utf8')).toBe('remote');
    expect(existsSync(join(l, 'out/empty'))).toBe(true);
    const again = await sync(l, r, first.state);
    expect(again.actions).toEqual([]);
  });

  it('propagates deletions both ways with a base, and keeps both versions of a conflict', async () => {
    const [l, r] = dirs();
    for (const f of ['a', 'b', 'c']) writeFileSync(join(l, f), f);
    const base = (await sync(l, r, undefined)).state;
    rmSync(join(l, 'a'));
    rmSync(join(r, 'b'));
    writeFileSync(join(l, 'c'), 'laptop edit, longer');
    writeFileSync(join(r, 'c'), 'remote edit');
    utimesSync(join(r, 'c'), new Date(), new Date(Date.now() + 5000));
    const report = await sync(l, r, base);
    expect(existsSync(join(r, 'a'))).toBe(false);
    expect(existsSync(join(l, 'b'))).toBe(false);
    expect(report.conflicts).toHaveLength(1);
    expect(readFileSync(join(l, 'c'), 'utf8')).toBe('laptop edit, longer');
    expect(readFileSync(join(r, 'c'), 'utf8')).toBe('laptop edit, longer');
    const kept = report.conflicts[0]!.keptAs;
    expect(readFileSync(join(l, kept), 'utf8')).toBe('remote edit');
    expect(readFileSync(join(r, kept), 'utf8')).toBe('remote edit');
    expect(tree(l)).toEqual(tree(r));
  });
});
