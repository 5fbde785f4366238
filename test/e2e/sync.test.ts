import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { BUSYBOX, KUBECONFIG, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { RUNBOX, kubectl, laptopEnv, runProgram, runbox, startRunbox } from './support/cli.ts';

// runbox sync through the sidecar's agent over the exec websocket, on the
// dev cluster: the seed's flags, three-way deletes and conflicts, what a
// round trip keeps, and a sync killed midway.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const folder = () => mkdtempSync(join(tmpdir(), 'runbox-sync-'));
const inFolder = (cwd: string, ...args: string[]) =>
  runProgram('/bin/sh', ['-c', 'cd "$0" && shift && exec "$@"', cwd, process.execPath, RUNBOX, '-n', ns, ...args], { env });
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-sync');
  env = laptopEnv();
  const r = await rb('create', 'myrb', '--image', BUSYBOX);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('the seed', () => {
  it('runbox --sync_before --localpath . myrb ls /data shows my_file; --sync_after brings results back', async () => {
    const here = folder();
    writeFileSync(join(here, 'my_file'), 'from the laptop\n');
    const r = await inFolder(here, '--sync_before', '--localpath', '.', 'myrb', 'ls', '/data');
    expect(r).toEqual({ code: 0, stdout: 'my_file\n', stderr: '' });
    const after = await inFolder(here, '--sync_after', '--localpath', '.', 'myrb', 'sh', '-c', 'echo 42 > /data/result.txt');
    expect(after.code, after.stderr).toBe(0);
    expect(readFileSync(join(here, 'result.txt'), 'utf8')).toBe('42\n');
    expect(existsSync(join(here, '.runbox'))).toBe(false); // runbox's shell state stays in the environment
  });
});

describe('three-way', () => {
  let here: string;
  const sync = () => rb('sync', 'myrb', here, '--remote', 'tw');

  it('propagates deletions both ways; a file deleted on one side and changed on the other is kept', async () => {
    here = folder();
    for (const f of ['gone-here', 'gone-there', 'changed-there', 'changed-here']) writeFileSync(join(here, f), f);
    expect((await sync()).code).toBe(0);
    rmSync(join(here, 'gone-here'));
    expect((await rb('myrb', 'rm', '/data/tw/gone-there')).code).toBe(0);
    rmSync(join(here, 'changed-there'));
    expect((await rb('myrb', 'sh', '-c', 'echo new > /data/tw/changed-there')).code).toBe(0);
    writeFileSync(join(here, 'changed-here'), 'new here');
    expect((await rb('myrb', 'rm', '/data/tw/changed-here')).code).toBe(0);
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(here).sort()).toEqual(['changed-here', 'changed-there']);
    expect((await rb('myrb', 'ls', '/data/tw')).stdout).toBe('changed-here\nchanged-there\n');
    expect(readFileSync(join(here, 'changed-there'), 'utf8')).toBe('new\n');
  });

  it('a file changed on both sides keeps both versions, reports the conflict and exits 1', async () => {
    writeFileSync(join(here, 'changed-here'), 'laptop version, which is longer');
    expect((await rb('myrb', 'sh', '-c', 'echo remote version > /data/tw/changed-here')).code).toBe(0);
    const r = await sync();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 conflict, both versions kept: changed-here \(theirs as changed-here\.runbox-conflict-remote-\d{8}-\d{6}\)/);
    const kept = readdirSync(here).find((f) => f.startsWith('changed-here.runbox-conflict-remote-'))!;
    expect(readFileSync(join(here, kept), 'utf8')).toBe('remote version\n');
    expect(readFileSync(join(here, 'changed-here'), 'utf8')).toBe('laptop version, which is longer');
    expect((await rb('myrb', 'cat', `/data/tw/${kept}`)).stdout).toBe('remote version\n');
  });
});

describe('the warm agent', () => {
  const json = async (...args: string[]) => {
    const r = await rb('sync', 'myrb', ...args, '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { uploaded: number; downloaded: number; remoteRead: string };
  };
  /** The pod's generation: every resize of a container moves it. */
  const podGeneration = async () => (await kubectl(['-n', ns, 'get', 'pod', '-l', 'runbox.dev/env=myrb', '-o', 'jsonpath={.items[0].metadata.generation}'])).stdout;

  it('walks a folder once; later syncs are sent only what changed there, and leave the sidecar at rest', async () => {
    const here = folder();
    for (let i = 0; i < 50; i++) writeFileSync(join(here, `f${i}`), `file ${i}`);
    const first = await json(here, '--remote', 'warm');
    expect(first).toMatchObject({ uploaded: 50, remoteRead: 'walked' });
    const generation = await podGeneration();
    const quiet = await json(here, '--remote', 'warm');
    expect(quiet).toMatchObject({ uploaded: 0, downloaded: 0, remoteRead: 'changes' });
    expect((await rb('myrb', 'sh', '-c', 'echo made there > /data/warm/new && rm /data/warm/f3 && mkdir -p /data/warm/d/e && echo deep > /data/warm/d/e/f')).code).toBe(0);
    writeFileSync(join(here, 'f7'), 'edited on the laptop');
    const changed = await json(here, '--remote', 'warm');
    expect(changed).toMatchObject({ uploaded: 1, downloaded: 4, remoteRead: 'changes' }); // new, d, d/e, d/e/f
    expect(readFileSync(join(here, 'd/e/f'), 'utf8')).toBe('deep\n');
    expect(existsSync(join(here, 'f3'))).toBe(false);
    expect((await rb('myrb', 'cat', '/data/warm/f7')).stdout).toBe('edited on the laptop');
    // A small sync is not worth a resize: the sidecar kept its resting CPU throughout.
    expect(await podGeneration()).toBe(generation);
  });

  it('an environment made again under the same name deletes nothing on the laptop', async () => {
    const here = folder();
    for (const f of ['mine', 'also-mine']) writeFileSync(join(here, f), f);
    expect((await rb('create', 'again', '--image', BUSYBOX)).code).toBe(0);
    expect((await rb('sync', 'again', here)).code).toBe(0);
    expect((await rb('delete', 'again', '-y')).code).toBe(0);
    expect((await rb('create', 'again', '--image', BUSYBOX)).code).toBe(0);
    const r = await rb('sync', 'again', here);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the environment's folder is not the one last synced \(made again since\?\): this sync compares the two sides afresh and deletes nothing/);
    expect(readdirSync(here).sort()).toEqual(['also-mine', 'mine']);
    expect((await rb('again', 'ls', '/data')).stdout).toBe('also-mine\nmine\n');
  });
});

describe('a round trip keeps', () => {
  it('a 100 MB file (same sha256), unicode and 200-character names, empty files and folders, modes, mtimes, symlinks', async () => {
    const up = folder();
    const big = randomBytes(100 * 1024 * 1024);
    writeFileSync(join(up, 'big.bin'), big);
    const long = `${'n'.repeat(196)}.txt`;
    writeFileSync(join(up, long), 'long');
    writeFileSync(join(up, 'naïve ünïcødé 文件.txt'), 'unicode');
    writeFileSync(join(up, 'empty'), '');
    mkdirSync(join(up, 'empty-dir'));
    writeFileSync(join(up, 'script.sh'), '#!/bin/sh\necho ok\n');
    chmodSync(join(up, 'script.sh'), 0o750);
    utimesSync(join(up, 'script.sh'), new Date('2020-01-02T03:04:05.678Z'), new Date('2020-01-02T03:04:05.678Z'));
    symlinkSync('script.sh', join(up, 'link'));
    expect((await rb('sync', 'myrb', up, '--remote', 'rt', '--direction', 'up')).code).toBe(0);
    expect((await rb('myrb', 'sha256sum', '/data/rt/big.bin')).stdout.split(' ')[0]).toBe(sha(big));
    expect((await rb('myrb', '/data/rt/link')).stdout).toBe('ok\n');

    const down = folder();
    const r = await rb('sync', 'myrb', down, '--remote', 'rt', '--direction', 'down');
    expect(r.code, r.stderr).toBe(0);
    expect(sha(readFileSync(join(down, 'big.bin')))).toBe(sha(big));
    expect(readFileSync(join(down, long), 'utf8')).toBe('long');
    expect(readFileSync(join(down, 'naïve ünïcødé 文件.txt'), 'utf8')).toBe('unicode');
    expect(statSync(join(down, 'empty')).size).toBe(0);
    expect(statSync(join(down, 'empty-dir')).isDirectory()).toBe(true);
    expect(statSync(join(down, 'script.sh')).mode & 0o7777).toBe(0o750);
    expect(statSync(join(down, 'script.sh')).mtime.toISOString()).toBe('2020-01-02T03:04:05.678Z');
    expect(lstatSync(join(down, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(down, 'link'))).toBe('script.sh');
  });
});

describe('a sync killed midway', () => {
  it('run again, ends with both sides identical', async () => {
    const here = folder();
    for (let i = 0; i < 20; i++) writeFileSync(join(here, `part-${i}.bin`), randomBytes(10 * 1024 * 1024));
    const run = startRunbox(['-n', ns, 'sync', 'myrb', here, '--remote', 'killed'], { env });
    // Kill it once the upload is under way: some files have arrived, not all.
    const arrived = async () => Number((await rb('myrb', 'sh', '-c', 'ls /data/killed 2>/dev/null | grep -c part-')).stdout.trim() || 0);
    await waitFor('the upload under way', 60_000, async () => (await arrived()) > 0);
    process.kill(run.pid, 'SIGKILL');
    await run.done;
    const before = await arrived();
    console.log(`killed with ${before} of 20 files arrived`);
    expect(before).toBeLessThan(20);
    const again = await rb('sync', 'myrb', here, '--remote', 'killed');
    expect(again.code, again.stderr).toBe(0);
    const local = readdirSync(here).sort().map((f) => `${sha(readFileSync(join(here, f)))}  /data/killed/${f}`);
    const remote = await rb('myrb', 'sh', '-c', 'cd /data/killed && ls -A && sha256sum /data/killed/*');
    expect(remote.stdout.split('\n').filter((l) => l.includes('  /')).sort()).toEqual(local.sort());
    expect(remote.stdout).not.toContain('.runbox-tmp-');
  });
});

describe('an agent killed midway', () => {
  it('ends the sync with one line and exit 125, and the next sync finishes the job', async () => {
    const here = folder();
    for (let i = 0; i < 20; i++) writeFileSync(join(here, `part-${i}.bin`), randomBytes(10 * 1024 * 1024));
    const run = startRunbox(['-n', ns, 'sync', 'myrb', here, '--remote', 'agent-killed'], { env });
    const pod = (await kubectl(['-n', ns, 'get', 'pod', '-l', 'runbox.dev/env=myrb', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    // A transfer this big runs in an agent process of its own (the warm agent in the sidecar's server keeps to small ones).
    const killAgent = 'for p in /proc/[0-9]*; do [ "${p#/proc/}" = "$$" ] && continue; case "$(tr "\\0" " " < $p/cmdline)" in *"sidecar.mjs runbox-agent"*) kill -9 ${p#/proc/}; echo killed;; esac; done';
    await waitFor('the upload under way', 60_000, async () => (await kubectl(['-n', ns, 'exec', pod, '-c', 'sidecar', '--', 'sh', '-c', 'ls -A /data/agent-killed 2>/dev/null | grep -q . && ' + killAgent])).stdout.includes('killed') || undefined);
    const t0 = Date.now();
    const end = await run.done;
    console.log(`agent killed: the sync ended ${Date.now() - t0} ms later: ${end.stderr.trim()}`);
    expect(end.code).toBe(125);
    expect(end.stderr.trim().split('\n').at(-1)).toMatch(/^runbox: (the sync agent in myrb's sidecar (ended with exit code 137|has not answered for \d+ s)|lost the connection to the sync agent in myrb's sidecar) .*run the sync again: it picks up where this one stopped$/);
    expect(Date.now() - t0).toBeLessThan(30_000);
    const again = await rb('sync', 'myrb', here, '--remote', 'agent-killed');
    expect(again.code, again.stderr).toBe(0);
    const remote = await rb('myrb', 'sh', '-c', 'ls -A /data/agent-killed | wc -l');
    expect(remote.stdout.trim()).toBe('20');
  });
});

describe('runbox sync --watch', () => {
  const agents = async () => {
    const pod = (await kubectl(['-n', ns, 'get', 'pod', '-l', 'runbox.dev/env=myrb', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    const procs = await kubectl(['-n', ns, 'exec', pod, '-c', 'sidecar', '--', 'sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done']);
    return procs.stdout.split('\n').filter((l) => l.includes('runbox-agent sync')).length;
  };
  /** Milliseconds until `check` holds, polling; fails past `ms`. */
  const within = async (ms: number, what: string, check: () => Promise<boolean> | boolean) => {
    const t0 = Date.now();
    await waitFor(what, ms, async () => (await check()) || undefined);
    return Date.now() - t0;
  };

  it('carries a local edit up and a remote one down within 2 s, waits through a stop, catches up after a wake, stops on Ctrl-C', async () => {
    const here = folder();
    writeFileSync(join(here, 'start.txt'), 'start');
    const watch = startRunbox(['-n', ns, 'sync', 'myrb', here, '--remote', 'watched', '--watch'], { env });
    await watch.output(/watching .*Ctrl-C to stop/, 'stderr');
    expect((await rb('myrb', 'cat', '/data/watched/start.txt')).stdout).toBe('start');
    expect(await agents()).toBe(1);

    writeFileSync(join(here, 'up.txt'), 'edited on the laptop');
    const up = await within(2000, 'the local edit in the environment', async () => (await rb('myrb', 'cat', '/data/watched/up.txt')).stdout === 'edited on the laptop');
    expect((await rb('myrb', 'sh', '-c', 'echo edited in the environment > /data/watched/down.txt')).code).toBe(0);
    const down = await within(2000, 'the remote edit on the laptop', () => existsSync(join(here, 'down.txt')) && readFileSync(join(here, 'down.txt'), 'utf8') === 'edited in the environment\n');
    console.log(`watch: local edit up in ${up} ms (as seen by polling runbox cat), remote edit down in ${down} ms`);

    expect((await rb('stop', 'myrb')).code).toBe(0);
    await watch.output(/myrb is asleep; the watch resumes when a command wakes it/, 'stderr');
    writeFileSync(join(here, 'while-asleep.txt'), 'written while it slept');
    await new Promise((r) => setTimeout(r, 3000));
    const replicas = await kubectl(['-n', ns, 'get', 'deployment', 'myrb', '-o', 'jsonpath={.spec.replicas}']);
    expect(replicas.stdout).toBe('0'); // the watch did not wake it

    expect((await rb('myrb', 'true')).code).toBe(0); // the next command wakes it
    await watch.output(/myrb is back; caught up/, 'stderr');
    expect((await rb('myrb', 'cat', '/data/watched/while-asleep.txt')).stdout).toBe('written while it slept');

    process.kill(watch.pid, 'SIGINT');
    const end = await watch.done;
    expect(end.code).toBe(130);
    expect(end.stderr).toMatch(/watch stopped after \d+ rounds: \d+ up, \d+ down/);
    expect(end.stderr).not.toContain('runbox: interrupted');
    await within(5000, 'the agent gone from the sidecar', async () => (await agents()) === 0);
  });

  it('rides out a network drop: reconnects and catches up with what changed meanwhile', async () => {
    // The laptop reaches the API server through a TCP relay that the test cuts: a real drop, as the laptop sees it.
    const upstream = new URL(readFileSync(KUBECONFIG, 'utf8').match(/server: (\S+)/)![1]!);
    const sockets = new Set<Socket>();
    const relay = createServer((client) => {
      const server = connect(Number(upstream.port), upstream.hostname);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(server).pipe(client);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as AddressInfo).port;
    const relayed = join(folder(), 'kubeconfig');
    writeFileSync(relayed, readFileSync(KUBECONFIG, 'utf8').replace(/server: \S+/, `server: https://127.0.0.1:${port}`));
    const relayEnv = { ...env, KUBECONFIG: relayed };

    const here = folder();
    const watch = startRunbox(['-n', ns, 'sync', 'myrb', here, '--remote', 'dropped', '--watch'], { env: relayEnv });
    await watch.output(/watching .*Ctrl-C to stop/, 'stderr');
    relay.close();
    for (const s of sockets) s.destroy();
    await watch.output(/lost the connection to myrb/, 'stderr');
    writeFileSync(join(here, 'during-the-drop.txt'), 'written while the network was down');
    expect((await rb('myrb', 'sh', '-c', 'echo remote during the drop > /data/dropped/remote.txt')).code).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    await new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
    await within(30_000, 'the local change in the environment after the drop', async () => (await rb('myrb', 'cat', '/data/dropped/during-the-drop.txt')).stdout === 'written while the network was down');
    await within(5000, 'the remote change on the laptop after the drop', () => existsSync(join(here, 'remote.txt')));
    process.kill(watch.pid, 'SIGINT');
    expect((await watch.done).code).toBe(130);
    relay.close();
    for (const s of sockets) s.destroy();
  });
});
