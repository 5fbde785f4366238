import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EntryType, FileMeta } from './entries.ts';
import { buildIndex } from './image-index.ts';
import { writeLayer, type LayerRecord } from './layer.ts';
import { readLayer } from './read-layer.ts';
import { squashLayers } from './squash.ts';
import { describeTree, extractLayer, testMeta } from './tree-fixture.ts';

const meta = (type: EntryType, extra: Partial<FileMeta> = {}): FileMeta => testMeta(type, 1_700_000_000, extra);
const dir = (path: string): LayerRecord => ({ kind: 'entry', path, meta: meta('dir') });
const file = (path: string, text: string): LayerRecord => ({
  kind: 'entry',
  path,
  meta: meta('file', { size: Buffer.byteLength(text) }),
  content: [Buffer.from(text)],
});
const link = (path: string, target: string, text: string): LayerRecord => ({
  kind: 'entry',
  path,
  meta: meta('hardlink', { size: Buffer.byteLength(text), linkname: target }),
});

/** A layer blob in memory. */
async function blob(records: LayerRecord[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
  await writeLayer(records, out);
  return Buffer.concat(chunks);
}

const opener = (bytes: Buffer) => () => {
  const s = new PassThrough();
  s.end(bytes);
  return s;
};

async function squash(layers: Buffer[], base: Buffer) {
  const chunks: Buffer[] = [];
  const out = new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) });
  const result = await squashLayers({ layers: layers.map(opener), base: await buildIndex([opener(base)()]), out });
  return { result, bytes: Buffer.concat(chunks) };
}

async function changesOf(bytes: Buffer): Promise<string[]> {
  const seen: string[] = [];
  for await (const item of readLayer(opener(bytes)())) seen.push(`${item.kind} ${item.path}${item.kind === 'entry' && item.meta.type === 'hardlink' ? ` -> ${item.meta.linkname}` : ''}`);
  return seen;
}

describe('squashLayers', () => {
  let work: string;
  let base: Buffer;
  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'runbox-squash-'));
    base = await blob([dir('etc'), file('etc/base.conf', 'base'), dir('opt'), dir('opt/app'), file('opt/app/old', 'old')]);
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** Applying the squashed layer must equal applying the layers one by one. */
  async function expectEquivalent(layers: Buffer[]) {
    const { bytes, result } = await squash(layers, base);
    const [oneByOne, squashed] = ['one-by-one', 'squashed'].map((name) => join(work, name)) as [string, string];
    mkdirSync(oneByOne);
    mkdirSync(squashed);
    for (const layer of [base, ...layers]) await extractLayer(opener(layer)(), oneByOne);
    for (const layer of [base, bytes]) await extractLayer(opener(layer)(), squashed);
    expect(describeTree(squashed)).toEqual(describeTree(oneByOne));
    expect(result.diffId).toBe(`sha256:${createHash('sha256').update(gunzipSync(bytes)).digest('hex')}`);
    expect(result.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    // The index over the squashed layer equals the index over the separate ones (which name of an
    // inode carries the content may differ: hardlinks compare as the files they are).
    const asFiles = (index: Map<string, FileMeta>) =>
      new Map([...index].map(([p, m]) => [p, m.type === 'hardlink' ? { ...m, type: 'file', linkname: '' } : m]));
    const squashedIndex = await buildIndex([base, bytes].map((b) => opener(b)()));
    expect(asFiles(squashedIndex)).toEqual(asFiles(await buildIndex([base, ...layers].map((b) => opener(b)()))));
    return changesOf(bytes);
  }

  it('drops a file added in one layer and deleted in the next, leaving no whiteout', async () => {
    const l1 = await blob([dir('tmp'), file('tmp/scratch', 'x'), dir('etc'), file('etc/new', 'new')]);
    const l2 = await blob([dir('tmp'), { kind: 'whiteout', path: 'tmp/scratch' }]);
    const members = await expectEquivalent([l1, l2]);
    expect(members).toEqual(['entry etc', 'entry tmp', 'entry etc/new']);
  });

  it('keeps a whiteout for what the base image has', async () => {
    const l1 = await blob([dir('etc'), { kind: 'whiteout', path: 'etc/base.conf' }]);
    const l2 = await blob([dir('etc'), file('etc/other', 'o')]);
    expect(await expectEquivalent([l1, l2])).toEqual(['entry etc', 'whiteout etc/base.conf', 'entry etc/other']);
  });

  it('lets later content win, and keeps a deleted-then-recreated base file with its whiteout', async () => {
    const l1 = await blob([dir('etc'), file('etc/a', 'first'), { kind: 'whiteout', path: 'etc/base.conf' }]);
    const l2 = await blob([dir('etc'), file('etc/a', 'second, longer'), file('etc/base.conf', 'back again')]);
    expect(await expectEquivalent([l1, l2])).toEqual(['entry etc', 'whiteout etc/base.conf', 'entry etc/a', 'entry etc/base.conf']);
  });

  it('carries opaque directories over the base, and forgets earlier layers beneath them', async () => {
    const l1 = await blob([dir('opt'), dir('opt/app'), file('opt/app/mid', 'mid')]);
    const l2 = await blob([dir('opt'), dir('opt/app'), { kind: 'opaque', path: 'opt/app' }, file('opt/app/new', 'new')]);
    expect(await expectEquivalent([l1, l2])).toEqual(['entry opt', 'entry opt/app', 'opaque opt/app', 'entry opt/app/new']);
  });

  it('keeps hardlinks as links, and gives a link its own content once its target is replaced', async () => {
    const l1 = await blob([dir('bin'), file('bin/a', 'shared'), link('bin/b', 'bin/a', 'shared'), link('bin/c', 'bin/a', 'shared')]);
    const l2 = await blob([dir('bin'), file('bin/a', 'replaced')]);
    const members = await expectEquivalent([l1, l2]);
    expect(members).toEqual(['entry bin', 'entry bin/b', 'entry bin/a', 'entry bin/c -> bin/b']);
  });

  it('removes a whited-out directory with everything earlier layers put in it', async () => {
    const l1 = await blob([dir('work'), dir('work/deep'), file('work/deep/f', 'f'), dir('opt'), dir('opt/app'), file('opt/app/x', 'x')]);
    const l2 = await blob([{ kind: 'whiteout', path: 'work' }, dir('opt'), { kind: 'whiteout', path: 'opt/app' }]);
    expect(await expectEquivalent([l1, l2])).toEqual(['entry opt', 'whiteout opt/app']);
  });

  it('makes an empty layer of no layers', async () => {
    expect((await squash([], base)).result.entries).toBe(0);
  });

  it('keeps a same-layer hardlink pair as one file and a link', async () => {
    const l1 = await blob([dir('bin'), file('bin/a', 'shared'), link('bin/b', 'bin/a', 'shared')]);
    expect(await expectEquivalent([l1])).toEqual(['entry bin', 'entry bin/a', 'entry bin/b -> bin/a']);
  });
});
