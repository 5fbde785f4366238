import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIDECAR_BUNDLE_FILE, SIDECAR_MOUNT } from '../../src/contract/sidecar.ts';
import { execCapture } from './support/capture.ts';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, createNamespace, deleteNamespace, devCluster } from './support/cluster.ts';
import { laptopEnv, runProgram, runbox } from './support/cli.ts';
import type { AgentConversation } from './support/hostile.ts';
import { POD_SNAPSHOT, T, craftTar, file, fileEntry, hostileAgent, link, linkEntry, manifestOf, openAgent, runboxWithBundlePrefix, snapshot, tarNames } from './support/hostile.ts';

// Sync across a trust boundary, end to end (issue #11): a hostile environment
// (its sidecar bundle replaced) serves crafted manifests and tar streams to
// the real CLI, and a hostile laptop (this test) sends crafted requests to the
// real sync agent. Neither may write, move, delete or read anything outside
// the synced folder, and each refusal is reported.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });

// ---------------------------------------------------------------- the laptop's side of things

/** Temp dirs of the laptop: local folders live in `arena`, beside `outside`, which no sync may touch. */
const arena = mkdtempSync(join(tmpdir(), 'runbox-hostile-'));
const outside = join(arena, 'outside');
const victimTarget = join(outside, 'target');
const absEscape = join(tmpdir(), `runbox-hostile-abs-${process.pid}`);

const scenarios = async () => ({
  // Promises a harmless file, and files under links it promises too; sends escapes besides.
  escape: {
    manifest: manifestOf(
      fileEntry('a.txt', 'hello'),
      linkEntry('link', outside),
      fileEntry('link/pwned', 'x'),
      fileEntry('link/deeper/pwned', 'x'),
      { path: 'link/newdir', type: 'dir', size: 0, mode: 0o755, mtimeMs: T.getTime() },
      linkEntry('up', '..'),
      fileEntry('up/escaped-up', 'x'),
      fileEntry('hard', 'x'),
    ),
    tar: (
      await craftTar([
        file('../escaped', 'x'),
        file('a/../../escaped2', 'x'),
        file('./../escaped3', 'x'),
        file(`${outside}/escaped-abs`, 'x'),
        file(absEscape, 'x'),
        link('link', outside),
        file('link/pwned', 'x'),
        file('link/deeper/pwned', 'x'),
        { header: { name: 'link/newdir', type: 'directory', mode: 0o755, mtime: T } },
        link('up', '..'),
        file('up/escaped-up', 'x'),
        { header: { name: 'hard', type: 'link', linkname: victimTarget, mtime: T } },
        file('a.txt', 'hello'),
      ])
    ).toString('base64'),
  },
  // A manifest naming paths outside the folder.
  'manifest-dotdot': { manifest: manifestOf(fileEntry('../escaped-m', 'x')), tar: (await craftTar([file('../escaped-m', 'x')])).toString('base64') },
  'manifest-abs': { manifest: manifestOf(fileEntry(`${outside}/escaped-m`, 'x')), tar: (await craftTar([file(`${outside}/escaped-m`, 'x')])).toString('base64') },
  // Promises one file, sends others besides: into an ignored folder, and over a file only the laptop has.
  unasked: {
    manifest: manifestOf(fileEntry('a.txt', 'asked')),
    tar: (await craftTar([file('a.txt', 'asked'), { header: { name: '.git/hooks/post-checkout', type: 'file', mode: 0o755, mtime: T }, data: 'evil' }, file('mine.txt', 'overwritten by the environment')])).toString('base64'),
  },
  // First session: plants links (plain data) pointing out of the folder...
  'later#0': {
    manifest: manifestOf(linkEntry('link', outside), linkEntry('up', '..'), linkEntry('victim', victimTarget)),
    tar: (await craftTar([link('link', outside), link('up', '..'), link('victim', victimTarget)])).toString('base64'),
  },
  // ...the next one writes through them, as promised and unasked.
  'later#1': {
    manifest: manifestOf(
      linkEntry('link', outside),
      linkEntry('up', '..'),
      fileEntry('victim', 'PWNED'),
      fileEntry('link/pwned', 'PWNED'),
      fileEntry('up/escaped-later', 'PWNED'),
    ),
    tar: (
      await craftTar([file('victim', 'PWNED'), file('link/pwned', 'PWNED'), file('up/escaped-later', 'PWNED'), file('link/unasked', 'PWNED')])
    ).toString('base64'),
  },
});

// ---------------------------------------------------------------- setup

let realPod: string;
/** The copy of runbox whose sidecar's agent is hostile (it only creates `evil`: the syncs use the real CLI). */
let hostileCli: string | undefined;

async function podOf(name: string): Promise<string> {
  const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: `runbox.dev/env=${name}` });
  return pods.items.find((p) => !p.metadata?.deletionTimestamp)!.metadata!.name!;
}

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-hostile');
  kube = await devCluster(ns); // exec goes to the target's namespace
  env = laptopEnv();
  mkdirSync(outside);
  writeFileSync(victimTarget, 'untouched');
  writeFileSync(join(arena, 'sibling.txt'), 'sibling of the local folders');
  const cli = (hostileCli = runboxWithBundlePrefix(hostileAgent(await scenarios())));
  const hostile = (...args: string[]) => runProgram(process.execPath, [join(cli, 'bin/runbox.js'), '-n', ns, ...args], { env });
  const [h, r] = await Promise.all([hostile('create', 'evil', '--image', BUSYBOX), rb('create', 'real', '--image', BUSYBOX)]);
  expect(h.code, h.stderr).toBe(0);
  expect(r.code, r.stderr).toBe(0);
  realPod = await podOf('real');
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
  rmSync(arena, { recursive: true, force: true });
  rmSync(absEscape, { force: true });
  if (hostileCli) rmSync(hostileCli, { recursive: true, force: true });
});

// ---------------------------------------------------------------- A: a hostile environment

describe('a hostile environment cannot write outside the local folder', () => {
  /** Syncs `local` (a fresh folder in the arena) with the hostile scenario `remote`; the rest of the arena must not change. */
  async function hostileSync(local: string, remote: string) {
    const before = { arena: snapshot(arena, [local]), absolute: existsSync(absEscape) };
    const r = await rb('sync', 'evil', local, '--remote', remote);
    expect({ arena: snapshot(arena, [local]), absolute: existsSync(absEscape) }).toEqual(before);
    return r;
  }

  it('entries named with "..", absolute names, and files under a link it sends are refused and reported; the file it promised arrives', async () => {
    const local = join(arena, 'local-escape');
    mkdirSync(local);
    const r = await hostileSync(local, 'escape');
    expect(r.code, r.stderr).toBe(1);
    const refused = ['../escaped', 'a/../../escaped2', './../escaped3', `${outside}/escaped-abs`, absEscape, 'link/pwned', 'link/deeper/pwned', 'link/newdir', 'up/escaped-up', 'hard'];
    expect(r.stderr).toMatch(new RegExp(`\\b${refused.length} refused: `));
    for (const p of refused) expect(r.stderr).toContain(`${p} (`);
    expect(r.stderr).toContain('link/pwned ("link" is a symbolic link)');
    expect(r.stderr).toContain('up/escaped-up ("up" is a symbolic link)');
    // Inside the folder: what a sync may hold (links are data, kept as links), nothing more.
    expect(snapshot(local)).toEqual({
      'a.txt': expect.stringMatching(/^file 644 5 /),
      link: `link ${outside}`,
      up: 'link ..',
    });
    expect(readFileSync(join(local, 'a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(outside)).toEqual(['target']);
    expect(readFileSync(victimTarget, 'utf8')).toBe('untouched');
  });

  it('a manifest naming paths outside the folder fails the sync before anything is written', async () => {
    for (const [scenario, bad] of [
      ['manifest-dotdot', '../escaped-m'],
      ['manifest-abs', `${outside}/escaped-m`],
    ] as const) {
      const local = join(arena, `local-${scenario}`);
      mkdirSync(local);
      const r = await hostileSync(local, scenario);
      expect(r.code, r.stderr).toBe(125);
      expect(r.stderr).toContain("The manifest the environment's sync agent sent is damaged");
      expect(r.stderr).toContain(`bad path ${JSON.stringify(bad)}`);
      expect(readdirSync(local)).toEqual([]);
    }
  });

  it('entries it was not asked for are refused: nothing lands in an ignored folder or over a file only the laptop has', async () => {
    const local = join(arena, 'local-unasked');
    mkdirSync(join(local, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(local, '.runboxignore'), '.git/\n');
    writeFileSync(join(local, 'mine.txt'), 'my local edit');
    const r = await hostileSync(local, 'unasked');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('.git/hooks/post-checkout (not asked for)');
    expect(r.stderr).toContain('mine.txt (not asked for)');
    expect(readdirSync(join(local, '.git', 'hooks'))).toEqual([]);
    expect(readFileSync(join(local, 'mine.txt'), 'utf8')).toBe('my local edit');
    expect(readFileSync(join(local, 'a.txt'), 'utf8')).toBe('asked');
  });

  it('links it planted in an earlier sync are not followed by later writes, asked for or not', async () => {
    const local = join(arena, 'local-later');
    mkdirSync(local);
    const first = await hostileSync(local, 'later');
    expect(first.code, first.stderr).toBe(0); // links pointing anywhere are plain data
    expect(snapshot(local)).toEqual({ link: `link ${outside}`, up: 'link ..', victim: `link ${victimTarget}` });

    const second = await hostileSync(local, 'later');
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toMatch(/\b3 refused: /);
    expect(second.stderr).toContain('link/pwned ("link" is a symbolic link)');
    expect(second.stderr).toContain('up/escaped-later ("up" is a symbolic link)');
    expect(second.stderr).toContain('link/unasked (not asked for)');
    // The link `victim` was replaced by a file, not written through.
    expect(readFileSync(victimTarget, 'utf8')).toBe('untouched');
    expect(lstatSync(join(local, 'victim')).isFile()).toBe(true);
    expect(readFileSync(join(local, 'victim'), 'utf8')).toBe('PWNED');
    expect(Object.keys(snapshot(local)).sort()).toEqual(['link', 'up', 'victim']);
  });
});

// ---------------------------------------------------------------- B: a hostile laptop

describe('a hostile laptop cannot make the agent touch anything outside the synced folder', () => {
  const root = '/data/synced';
  const inSidecar = (...command: string[]) => execCapture(kube, realPod, 'sidecar', command);
  const podSnapshot = async () => {
    const r = await inSidecar('node', '-e', POD_SNAPSHOT, JSON.stringify([root]));
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, string>;
  };
  let before: Record<string, string>;
  let agent: AgentConversation;

  beforeAll(async () => {
    const setup = await inSidecar(
      'sh',
      '-c',
      `mkdir -p ${root} && echo victim > /data/victim && echo victim > /etc/rb-victim && echo victim > /tmp/rb-victim && id -u`,
    );
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout.trim()).toBe('0'); // the sidecar runs as root: /etc is writable, so only the agent's checks protect it
    before = await podSnapshot();
    expect(before['/data/victim']).toMatch(/^file /);
    agent = await openAgent(kube, realPod, root, { warm: true });
  });

  afterAll(async () => {
    await agent?.end(); // closes its stdin: the agent ends (a no-op once the last test has ended it)
  });

  it('receive: "..", absolute names, files under links it sends, hard links and devices are refused; the rest is written', async () => {
    const tar = await craftTar([
      file('../escaped', 'x'),
      file('a/../../escaped2', 'x'),
      file('./../escaped3', 'x'),
      file('/tmp/escaped-abs', 'x'),
      file('/etc/escaped-abs', 'x'),
      file('/escaped-abs', 'x'),
      link('etc-link', '/etc'),
      file('etc-link/pwned', 'x'),
      file('etc-link/rb-victim', 'PWNED'),
      { header: { name: 'etc-link/newdir', type: 'directory', mode: 0o755, mtime: T } },
      link('up', '..'),
      file('up/victim', 'PWNED'),
      file('up/escaped-up', 'x'),
      link('tmp-link', '/tmp'),
      file('tmp-link/rb-victim', 'PWNED'),
      { header: { name: 'hard', type: 'link', linkname: '/etc/rb-victim', mtime: T } },
      { header: { name: 'null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime: T } },
      // Last but one: without the checks, writing into the read-only mount would end the whole receive.
      link('rb-link', SIDECAR_MOUNT),
      file(`rb-link/${SIDECAR_BUNDLE_FILE}`, 'PWNED'),
      file('ok.txt', 'fine'),
    ]);
    await agent.chan.sendJson({ op: 'receive' });
    await agent.chan.sendStream(Readable.from([tar]));
    const answer = await agent.chan.nextJson<{ written: number; refused: { path: string; why: string }[]; error?: string }>();
    expect(answer.error).toBeUndefined();
    expect(answer.refused).toEqual([
      { path: '../escaped', why: expect.stringMatching(/^not a safe relative path/) },
      { path: 'a/../../escaped2', why: expect.stringMatching(/^not a safe relative path/) },
      { path: './../escaped3', why: expect.stringMatching(/^not a safe relative path/) },
      { path: '/tmp/escaped-abs', why: expect.stringMatching(/^not a safe relative path/) },
      { path: '/etc/escaped-abs', why: expect.stringMatching(/^not a safe relative path/) },
      { path: '/escaped-abs', why: expect.stringMatching(/^not a safe relative path/) },
      { path: 'etc-link/pwned', why: '"etc-link" is a symbolic link' },
      { path: 'etc-link/rb-victim', why: '"etc-link" is a symbolic link' },
      { path: 'etc-link/newdir', why: '"etc-link" is a symbolic link' },
      { path: 'up/victim', why: '"up" is a symbolic link' },
      { path: 'up/escaped-up', why: '"up" is a symbolic link' },
      { path: 'tmp-link/rb-victim', why: '"tmp-link" is a symbolic link' },
      { path: 'hard', why: 'hard links are not supported' },
      { path: 'null', why: 'character-device entries are not supported' },
      { path: `rb-link/${SIDECAR_BUNDLE_FILE}`, why: '"rb-link" is a symbolic link' },
    ]);
    expect(answer.written).toBe(5); // the four links (data) and ok.txt
  });

  it('send: paths outside the folder or under a link are skipped, nothing of them is read', async () => {
    const asked = ['../victim', 'a/../../victim', '/data/victim', '/etc/rb-victim', 'up/victim', 'etc-link/rb-victim', 'tmp-link/rb-victim'];
    // Sizes and mtimes as they are now, so that only the path checks keep them out.
    const now = await podSnapshot();
    const entries = asked.map((p) => {
      const abs = p.startsWith('/') ? p : p.startsWith('etc-link/') ? `/etc/${p.slice(9)}` : p.startsWith('tmp-link/') ? `/tmp/${p.slice(9)}` : '/data/victim';
      const [, , size, mtime] = now[abs]!.split(' ');
      return { path: p, type: 'file', size: Number(size), mode: 0o644, mtimeMs: Math.floor(Number(mtime)) };
    });
    await agent.chan.sendJson({ op: 'send', entries });
    const chunks: Buffer[] = [];
    for await (const c of agent.chan.receiveStream()) chunks.push(c as Buffer);
    const answer = await agent.chan.nextJson<{ skipped: { path: string; why: string }[] }>();
    expect(await tarNames(Buffer.concat(chunks))).toEqual([]);
    expect(answer.skipped.map((p) => p.path).sort()).toEqual([...asked].sort());
  });

  it('remove: paths outside the folder or under a link are refused, nothing is deleted', async () => {
    const paths = ['../victim', 'a/../../victim', '/data/victim', '/etc/rb-victim', 'up/victim', 'etc-link/rb-victim', 'tmp-link/rb-victim'];
    const answer = await agent.ask<{ removed: string[]; refused: { path: string; why: string }[] }>({ op: 'remove', paths });
    expect(answer.removed).toEqual([]);
    expect(answer.refused.map((p) => p.path).sort()).toEqual([...paths].sort());
  });

  it('rename: from or to a path outside the folder or under a link is refused', async () => {
    const pairs: [string, string][] = [
      ['../victim', 'stolen'],
      ['/etc/rb-victim', 'stolen'],
      ['etc-link/rb-victim', 'stolen'],
      ['up/victim', 'stolen'],
      ['ok.txt', '../moved'],
      ['ok.txt', '/tmp/moved'],
      ['ok.txt', 'etc-link/moved'],
      ['ok.txt', 'up/moved'],
      ['ok.txt', 'tmp-link/rb-victim'],
    ];
    for (const [from, to] of pairs) {
      const answer = await agent.ask<{ ok?: boolean; error?: string }>({ op: 'rename', from, to });
      expect(answer, `${from} -> ${to}`).toEqual({ error: expect.stringMatching(/^refusing /) });
    }
  });

  it('afterwards only the synced folder has changed, and the agent exits 0', async () => {
    expect(await agent.ask({ op: 'bye' })).toEqual({ ok: true });
    const { code, stderr } = await agent.end();
    expect(code, stderr).toBe(0);
    expect(await podSnapshot()).toEqual(before);
    const inside = await rb('real', 'sh', '-c', `cd ${root} && ls -A && cat ok.txt && echo && cat /data/victim`);
    expect(inside).toEqual({ code: 0, stdout: 'etc-link\nok.txt\nrb-link\ntmp-link\nup\nfine\nvictim\n', stderr: '' });
  });
});
