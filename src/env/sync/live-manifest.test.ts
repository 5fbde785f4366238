import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readIgnoreRules } from './ignore-rules.ts';
import { startLiveManifest, type LiveManifest, type ManifestRead } from './live-manifest.ts';
import { readManifest } from './manifest.ts';
import type { Manifest } from './types.ts';

// A live manifest against a real folder and real inotify: after any mix of changes, what a
// reader holding the last token rebuilds from the delta is exactly what a fresh walk reads.

const open: LiveManifest[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});

async function start(root: string): Promise<LiveManifest> {
  const m = await startLiveManifest(root);
  open.push(m);
  return m;
}

function apply(held: Manifest, read: ManifestRead): Manifest {
  if (read.manifest) return new Map(read.manifest);
  const next = new Map(held);
  for (const p of read.delta!.removed) next.delete(p);
  for (const e of read.delta!.changed) next.set(e.path, e);
  return next;
}

const walk = async (root: string) => readManifest(root, { ignore: await readIgnoreRules(root) });
/** Stat data only: a live manifest hashes where its last read cannot decide, as a walk given that read would. */
const stat = (m: Manifest) => new Map([...m].map(([p, { hash: _hash, ...e }]) => [p, e]));
/** Lets inotify's events reach the watch (they come in the next turns of the event loop). */
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('a live manifest', () => {
  it('sends all of it first, then only what changed, and the result is what a walk reads', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-live-'));
    mkdirSync(join(root, 'a/b'), { recursive: true });
    writeFileSync(join(root, 'a/b/one'), '1');
    writeFileSync(join(root, 'top'), 'top');
    const live = await start(root);
    const first = await live.read(undefined);
    expect(first.manifest).toEqual(await walk(root));
    let held = apply(new Map(), first);
    let token = first.token;

    const nothing = await live.read(token);
    expect(nothing.delta).toEqual({ changed: [], removed: [] });
    expect(nothing.token).toBe(token);

    const steps: (() => void)[] = [
      () => writeFileSync(join(root, 'a/b/one'), 'one, longer'),
      () => mkdirSync(join(root, 'new/deep/er'), { recursive: true }),
      () => writeFileSync(join(root, 'new/deep/er/file'), 'x'),
      () => chmodSync(join(root, 'top'), 0o700),
      () => utimesSync(join(root, 'top'), new Date(2020, 1, 1), new Date(2020, 1, 1)),
      () => symlinkSync('../top', join(root, 'a/link')),
      () => renameSync(join(root, 'a'), join(root, 'moved')),
      () => writeFileSync(join(root, 'moved/b/two'), '2'),
      () => rmSync(join(root, 'new'), { recursive: true }),
      () => mkdirSync(join(root, 'new')),
      () => writeFileSync(join(root, 'new/again'), 'again'),
    ];
    for (const step of steps) {
      step();
      await settle();
      const read = await live.read(token);
      expect(read.delta, 'a delta, not the whole tree').toBeDefined();
      held = apply(held, read);
      token = read.token;
      expect(stat(held)).toEqual(stat(await walk(root)));
    }
  });

  it('gives a reader many generations behind what changed since its token: removed, made again, and after the change log was rebuilt', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-live-behind-'));
    writeFileSync(join(root, 'kept'), 'k');
    writeFileSync(join(root, 'gone'), 'g');
    writeFileSync(join(root, 'back'), 'b');
    const live = await start(root);
    const first = await live.read(undefined);
    const behind = apply(new Map(), first);
    rmSync(join(root, 'gone'));
    rmSync(join(root, 'back'));
    live.touched(['gone', 'back']);
    await live.read(first.token);
    writeFileSync(join(root, 'back'), 'back again');
    live.touched(['back']);
    // Far more generations than paths: the log of changes is rebuilt on the way.
    for (let i = 0; i < 1500; i++) {
      writeFileSync(join(root, 'busy'), 'x'.repeat(1 + (i % 2))); // a new size each time: stat data alone tells
      live.touched(['busy']);
      await live.read(first.token);
    }
    const read = await live.read(first.token);
    expect(read.delta, 'a delta, not the whole tree').toBeDefined();
    expect(read.delta!.removed).toEqual(['gone']);
    expect(read.delta!.changed.map((e) => e.path).sort()).toEqual(['back', 'busy']);
    expect(stat(apply(behind, read))).toEqual(stat(await walk(root)));
  });

  it('catches changes made in quick succession, without waiting between them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-live-burst-'));
    const live = await start(root);
    const first = await live.read(undefined);
    let held = apply(new Map(), first);
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(root, `d${i}/sub`), { recursive: true });
      writeFileSync(join(root, `d${i}/sub/f`), String(i));
      if (i % 3 === 0) rmSync(join(root, `d${i}`), { recursive: true });
    }
    await settle();
    held = apply(held, await live.read(first.token));
    expect(held).toEqual(await walk(root));
  });

  it('sends the whole tree for a token of another instance, and walks again when .runboxignore changes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-live-ignore-'));
    mkdirSync(join(root, 'build'));
    writeFileSync(join(root, 'build/out.o'), 'o');
    writeFileSync(join(root, 'src.c'), 'c');
    const live = await start(root);
    const first = await live.read('0123456789ab.7');
    expect(first.manifest?.has('build/out.o')).toBe(true);
    writeFileSync(join(root, '.runboxignore'), 'build/\n');
    await settle();
    const read = await live.read(first.token);
    expect(read.delta?.removed.sort()).toEqual(['build', 'build/out.o']);
    expect(apply(first.manifest!, read)).toEqual(await walk(root));
  });

  it('reads again the paths it is told this process wrote, even before their events come', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rb-live-touched-'));
    const live = await start(root);
    const first = await live.read(undefined);
    writeFileSync(join(root, 'written'), 'by the agent');
    live.touched(['written']);
    const read = await live.read(first.token);
    expect(read.delta?.changed.map((e) => e.path)).toEqual(['written']);
  });
});
