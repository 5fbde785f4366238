import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { serveSync } from './agent.ts';
import { FrameDecoder, FrameKind, encodeFrame, frameChannel } from './frames.ts';
import { liveManifests, type LiveManifests } from './live-manifest.ts';
import { endSync, syncOnce, type Direction, type RemoteTree, type SyncedFolders } from './session.ts';
import type { Manifest } from './types.ts';

// The real client session against the real agent, paired over in-memory streams.

function pair(remoteRoot: string, live?: LiveManifests) {
  const up = new PassThrough();
  const down = new PassThrough();
  const agent = serveSync(frameChannel(up, down), remoteRoot, live);
  return { chan: frameChannel(down, up), agent };
}

async function sync(local: string, remote: string, last: { state: Manifest; folders: SyncedFolders } | undefined, direction: Direction = 'both', warm?: { live: LiveManifests; held: RemoteTree | undefined; prepared?: string[] }) {
  const { chan, agent } = pair(remote, warm?.live);
  const report = await syncOnce(chan, {
    localRoot: local,
    base: last?.state,
    folders: last?.folders,
    remote: warm?.held,
    prepare: async (work) => void warm?.prepared?.push(work),
    direction,
    dryRun: false,
    now: new Date('2026-11-23T10:00:00Z'),
  });
  await endSync(chan);
  await agent;
  return report;
}

/** The real agent, the ops of the requests sent to it noted; `older`: its answers without the tree after a change, as an older agent's. */
function tappedPair(remoteRoot: string, live: LiveManifests, opts: { older: boolean }) {
  const up = new PassThrough();
  const down = new PassThrough();
  const ops: string[] = [];
  const requests = new FrameDecoder();
  up.on('data', (c: Buffer) => {
    for (const f of requests.push(c)) if (f.kind === FrameKind.json) ops.push((JSON.parse(f.payload.toString()) as { op: string }).op);
  });
  const answers = new FrameDecoder();
  const older = new Transform({
    transform(c: Buffer, _e, done) {
      const out = answers.push(c).map((f) => {
        if (f.kind !== FrameKind.json) return encodeFrame(f.kind, f.payload);
        const { tree: _tree, ...rest } = JSON.parse(f.payload.toString()) as Record<string, unknown>;
        return encodeFrame(f.kind, Buffer.from(JSON.stringify(rest)));
      });
      done(null, Buffer.concat(out));
    },
  });
  if (opts.older) older.pipe(down);
  const agent = serveSync(frameChannel(up, opts.older ? older : down), remoteRoot, live);
  return { chan: frameChannel(down, up), agent, ops };
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
    const again = await sync(l, r, first);
    expect(again.actions).toEqual([]);
  });

  it('propagates deletions both ways with a base, and keeps both versions of a conflict', async () => {
    const [l, r] = dirs();
    for (const f of ['a', 'b', 'c']) writeFileSync(join(l, f), f);
    const base = await sync(l, r, undefined);
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

  it('against a warm agent: walks once, then reads only what changed, and the result is the same', async () => {
    const [l, r] = dirs();
    const live = liveManifests();
    for (const f of ['a', 'b']) writeFileSync(join(l, f), f);
    const prepared: string[] = [];
    const first = await sync(l, r, undefined, 'both', { live, held: undefined, prepared });
    expect(first.remoteRead).toBe('walked');
    expect(prepared).toEqual(['walk']);

    const quiet = await sync(l, r, first, 'both', { live, held: first.remote, prepared: [] });
    expect(quiet.remoteRead).toBe('changes');
    expect(quiet.actions).toEqual([]);

    writeFileSync(join(r, 'made-there'), 'by a command');
    rmSync(join(r, 'a'));
    writeFileSync(join(l, 'b'), 'edited here, longer');
    const changed = await sync(l, r, quiet, 'both', { live, held: quiet.remote, prepared: [] });
    expect(changed.remoteRead).toBe('changes');
    expect(tree(l)).toEqual(tree(r));
    expect(readFileSync(join(l, 'made-there'), 'utf8')).toBe('by a command');
    expect(readFileSync(join(r, 'b'), 'utf8')).toBe('edited here, longer');
    expect(existsSync(join(l, 'a'))).toBe(false);

    // The tree the laptop holds after it is the agent's own, so the next sync again has nothing to do.
    const after = await sync(l, r, changed, 'both', { live, held: changed.remote, prepared: [] });
    expect(after.actions).toEqual([]);
    expect(after.remoteRead).toBe('changes');
    live.close();
  });

  it('a token the agent does not know (its sidecar restarted) gets the whole tree', async () => {
    const [l, r] = dirs();
    writeFileSync(join(l, 'a'), 'a');
    const live = liveManifests();
    const first = await sync(l, r, undefined, 'both', { live, held: undefined });
    live.close();
    const again = await sync(l, r, first, 'both', { live: liveManifests(), held: first.remote });
    expect(again.remoteRead).toBe('walked');
    expect(again.actions).toEqual([]);
  });

  it('deletes nothing when either folder was made again since the last sync: its state is set aside', async () => {
    const [l, r] = dirs();
    for (const f of ['a', 'b']) writeFileSync(join(l, f), f);
    const first = await sync(l, r, undefined);
    // The environment recreated under the same name: an empty folder where the files were.
    rmSync(r, { recursive: true });
    mkdirSync(r);
    const notices: string[] = [];
    const { chan, agent } = pair(r);
    const again = await syncOnce(chan, { localRoot: l, base: first.state, folders: first.folders, notice: (m) => notices.push(m), direction: 'both', dryRun: false, now: new Date() });
    await endSync(chan);
    await agent;
    expect(again.deletedLocal).toBe(0);
    expect(tree(l)).toEqual(['a', 'b']);
    expect(tree(r)).toEqual(['a', 'b']);
    expect(notices).toEqual([expect.stringContaining("the environment's folder is not the one last synced")]);
  });

  it('a heavy transfer goes to an agent of its own, after the sidecar is prepared; the warm one reads the result', async () => {
    const [l, r] = dirs();
    for (let i = 0; i < 600; i++) writeFileSync(join(l, `f${i}`), String(i));
    const live = liveManifests();
    const { chan, agent } = pair(r, live);
    const events: string[] = [];
    const report = await syncOnce(chan, {
      localRoot: l,
      base: undefined,
      direction: 'both',
      dryRun: false,
      now: new Date(),
      prepare: async (work) => void events.push(`prepare ${work}`),
      transferAgent: async () => {
        events.push('transfer agent');
        const own = pair(r);
        return { chan: own.chan, done: async () => void (await own.agent), failed: async (err) => err as Error };
      },
    });
    await endSync(chan);
    await agent;
    live.close();
    expect(events).toEqual(['prepare walk', 'prepare transfer', 'transfer agent']);
    expect(report.uploaded).toBe(600);
    expect(tree(r)).toEqual(tree(l));
    expect(report.state.size).toBe(600);
  });

  it("takes the warm agent's tree after a change from the change's answer, and asks nothing where this sync changed nothing there", async () => {
    const [l, r] = dirs();
    for (const f of ['a', 'b']) writeFileSync(join(l, f), f);
    const live = liveManifests();
    let last = await sync(l, r, undefined, 'both', { live, held: undefined });
    const noted = async (opts: { older: boolean }) => {
      const p = tappedPair(r, live, opts);
      const report = await syncOnce(p.chan, { localRoot: l, base: last.state, folders: last.folders, remote: last.remote, direction: 'both', dryRun: false, now: new Date() });
      await endSync(p.chan);
      await p.agent;
      // What the laptop stores: the state, and the remote tree as its difference from it.
      const rebuilt = new Map(report.state);
      for (const e of report.remoteDiff ?? []) rebuilt.set(e.path, e);
      expect(rebuilt).toEqual(report.remote?.manifest);
      last = report;
      return p.ops;
    };
    writeFileSync(join(l, 'a'), 'a2');
    expect(await noted({ older: false })).toEqual(['manifest', 'receive', 'bye']);
    writeFileSync(join(r, 'b'), 'b2');
    expect(await noted({ older: false })).toEqual(['manifest', 'send', 'bye']);
    // An older agent's answers carry no tree: the session asks for it.
    writeFileSync(join(l, 'a'), 'a3');
    expect(await noted({ older: true })).toEqual(['manifest', 'receive', 'manifest', 'bye']);
    // Each time the laptop held the agent's tree as it was: the next sync finds nothing to do.
    const again = await sync(l, r, last, 'both', { live, held: last.remote });
    expect(again.actions).toEqual([]);
    expect(again.remoteRead).toBe('changes');
    expect(readFileSync(join(l, 'b'), 'utf8')).toBe('b2');
    expect(readFileSync(join(r, 'a'), 'utf8')).toBe('a3');
    live.close();
  });
});
