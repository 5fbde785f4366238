import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sidecarForSleep } from '../../controller/act.ts';
import { parseSamples } from '../../controller/metrics.ts';
import type { SnapshotRecord } from '../../src/contract/snapshot.ts';
import type { Kube } from './support/cluster.ts';
import { DEBIAN, createNamespace, deleteNamespace, devCluster, waitFor } from './support/cluster.ts';
import { RUNBOX, kubectl, laptopEnv, runbox, startRunbox } from './support/cli.ts';
import { buildDeb } from './support/deb.ts';

// The idle controller as the dev cluster runs it: installed from manifests/
// by cluster:up (two replicas, one leading). Every environment here sets its
// own idle policy; the dev cluster's default is never.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;
const rb = (...args: string[]) => runbox(['-n', ns, ...args], { env });
const replicas = async (name: string) => Number((await kubectl(['-n', ns, 'get', 'deploy', name, '-o', 'jsonpath={.spec.replicas}'])).stdout);
const podsOf = async (name: string) =>
  (await kubectl(['-n', ns, 'get', 'pod', '-l', `runbox.dev/env=${name}`, '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean);
const records = async (name: string) =>
  JSON.parse((await kubectl(['-n', ns, 'get', 'deploy', name, '-o', 'jsonpath={.metadata.annotations.runbox\\.dev/snapshots}'])).stdout || '[]') as SnapshotRecord[];
const create = async (name: string, ...policy: string[]) => {
  const r = await rb('create', name, '--image', DEBIAN, ...policy);
  expect(r.code, r.stderr).toBe(0);
};

/** The leading controller replica's /metrics, straight from its pod IP (the host reaches pod IPs). */
async function leaderMetrics(): Promise<Map<string, number>> {
  const holder = (await kubectl(['-n', 'runbox-system', 'get', 'lease', 'runbox-controller', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
  const ip = (await kubectl(['-n', 'runbox-system', 'get', 'pod', holder, '-o', 'jsonpath={.status.podIP}'])).stdout;
  return parseSamples(await (await fetch(`http://${ip}:8080/metrics`)).text());
}
const metric = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-idle');
  env = laptopEnv();
  const ready = await kubectl(['-n', 'runbox-system', 'rollout', 'status', 'deploy/runbox-controller', '--timeout=120s']);
  expect(ready.code, `the controller from manifests/ is not running: ${ready.stderr}`).toBe(0);
});

afterAll(async () => {
  await deleteNamespace(kube, ns);
});

describe('the idle controller', () => {
  it('puts an environment idle past sleep-after to sleep, says why, counts it, and the next command wakes it with its files and packages', async () => {
    const before = await leaderMetrics();
    await create('nap', '--sleep-after', '20s', '--doze-after', 'never');
    // A package, installed as a user would: a .deb (the dev cluster has no apt mirror), carried by sync.
    expect((await rb('sync', 'nap', buildDeb('runbox-nap', 'rested'), '--remote', 'debs')).code).toBe(0);
    const install = await rb('nap', 'sh', '-c', 'apt-get install -y /data/debs/runbox-nap.deb >/dev/null 2>&1 && echo kept > /data/note && runbox-nap');
    expect(install).toEqual({ code: 0, stdout: 'rested\n', stderr: '' });
    const lastCommand = Date.now();

    await waitFor('nap asleep', 60_000, async () => (await replicas('nap')) === 0);
    const asleepAfter = (Date.now() - lastCommand) / 1000;
    // The record and the Event come last, once no pod is left.
    await waitFor('the Slept event', 30_000, async () => /Slept/.test((await kubectl(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=nap'])).stdout));
    console.log(`asleep ${asleepAfter.toFixed(1)} s after its last command (sleep-after 20s)`);
    expect(asleepAfter).toBeLessThanOrEqual(30);
    expect(asleepAfter).toBeGreaterThanOrEqual(19);

    const describe = await kubectl(['-n', ns, 'describe', 'deployment', 'nap']);
    expect(describe.stdout).toMatch(/Slept\s+\S+\s+runbox-controller\s+slept after 2\ds idle \(sleep-after 20s\); snapshot v1/);
    expect((await rb('status', 'nap')).stdout).toMatch(/State:\s+sleeping since \d+s ago: idle for 2\ds \(sleep-after 20s\) \(controller\)/);

    const after = await leaderMetrics();
    expect(metric(after, 'runbox_idle_actions_total{action="sleep",outcome="done"}') - metric(before, 'runbox_idle_actions_total{action="sleep",outcome="done"}')).toBe(1);
    expect(metric(after, 'runbox_environments{state="sleeping"}')).toBeGreaterThanOrEqual(1);
    expect(metric(after, 'runbox_snapshot_duration_seconds_count{changed="true"}') - metric(before, 'runbox_snapshot_duration_seconds_count{changed="true"}')).toBe(1);

    const woken = await rb('nap', 'sh', '-c', "runbox-nap && cat /data/note && dpkg-query -W -f '${Status}\\n' runbox-nap");
    expect(woken).toEqual({ code: 0, stdout: 'rested\nkept\ninstall ok installed\n', stderr: '' });
    const afterWake = await leaderMetrics();
    expect(metric(afterWake, 'runbox_wakes_total') - metric(after, 'runbox_wakes_total')).toBe(1);
    expect(await replicas('nap')).toBe(1);
    await rb('idle', 'nap', '--sleep-after', 'never');
  }, 240_000);

  it('never sleeps a busy environment: a long command, an open shell, a sync --watch, a nohup process', async () => {
    const names = ['busycmd', 'busyshell', 'busywatch', 'busynohup'];
    for (const n of names) await create(n, '--sleep-after', '20s', '--doze-after', 'never');
    const started = Date.now();
    const long = startRunbox(['-n', ns, 'busycmd', 'sleep', '120'], { env });
    // A shell on a pseudo-terminal (script(1)) with nobody typing: its input stays open until the test closes it.
    const shell = spawn('script', ['-qefc', `"${process.execPath}" "${RUNBOX}" -n ${ns} shell busyshell`, '/dev/null'], { env: { ...env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const shellDone = new Promise<number>((r) => shell.on('close', (code) => r(code ?? -1)));
    const folder = mkdtempSync(join(tmpdir(), 'runbox-idle-watch-'));
    writeFileSync(join(folder, 'f'), 'x');
    const watch = startRunbox(['-n', ns, 'sync', 'busywatch', folder, '--remote', 'w', '--watch'], { env });
    await watch.output(/watching .*Ctrl-C to stop/, 'stderr');
    const bg = await rb('busynohup', 'sh', '-c', 'nohup sleep 130 >/dev/null 2>&1 &');
    expect(bg.code, bg.stderr).toBe(0);

    // Well past sleep-after, every one of them is still up.
    while (Date.now() - started < 115_000) {
      await new Promise((r) => setTimeout(r, 5_000));
      for (const n of names) expect(await replicas(n), `${n} after ${Math.round((Date.now() - started) / 1000)} s`).toBe(1);
    }
    shell.stdin.end('exit\n');
    expect(await shellDone).toBe(0);
    process.kill(watch.pid, 'SIGINT');
    expect((await watch.done).code).toBe(130);
    expect((await long.done).code).toBe(0);
    const ended = Date.now();
    for (const n of ['busycmd', 'busyshell', 'busywatch']) await waitFor(`${n} asleep`, 45_000, async () => (await replicas(n)) === 0);
    console.log(`the three slept ${((Date.now() - ended) / 1000).toFixed(1)} s after their work ended`);
    expect(Date.now() - ended).toBeLessThan(40_000);
    // The background process outlives its command: the environment sleeps only after it ended.
    expect(await replicas('busynohup')).toBe(1);
    await waitFor('busynohup asleep', 90_000, async () => (await replicas('busynohup')) === 0);
    expect(Date.now() - started).toBeGreaterThan(130_000 + 19_000);
    for (const n of names) await rb('delete', n);
  }, 420_000);

  it('dozes: lowers the worker CPU quota and, where its usage fits, its memory in place; the next command runs at the recorded allocation, same pod, no restart', async () => {
    await Promise.all([create('doze', '--doze-after', '10s', '--sleep-after', 'never'), create('dozefull', '--doze-after', '10s', '--sleep-after', 'never')]);
    expect((await rb('doze', 'true')).code).toBe(0);
    // 90 MB of page cache in a 128Mi worker: its memory cannot come down, its CPU still does.
    expect((await rb('dozefull', 'sh', '-c', 'head -c 90000000 /dev/zero > /tmp/fill')).code).toBe(0);
    const [pod] = await podsOf('doze');
    const [full] = await podsOf('dozefull');
    const quota = async () => (await kubectl(['-n', ns, 'exec', pod!, '-c', 'worker', '--', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).stdout.trim();
    const applied = async (p: string) =>
      (await kubectl(['-n', ns, 'get', 'pod', p, '-o', 'jsonpath={.status.containerStatuses[?(@.name=="worker")].resources.limits}'])).stdout;
    expect(await quota()).toBe('12500');
    await waitFor('doze dozing', 40_000, async () => (await quota()) === '2500');
    // The record is written once the sidecar has raised its flag.
    await waitFor('doze recorded', 10_000, async () => /State:\s+dozing since/.test((await rb('status', 'doze')).stdout));
    // The kubelet reports what it applied a moment after the cgroup has it.
    await waitFor('doze memory applied', 10_000, async () => (await applied(pod!)) === JSON.stringify({ cpu: '25m', memory: '32Mi' }));
    expect((await kubectl(['-n', ns, 'describe', 'deployment', 'doze'])).stdout).toMatch(/Dozed .*worker CPU 125m -> 25m, memory 128Mi -> 32Mi \(\d+ MiB in use\)/);
    await waitFor('dozefull recorded', 30_000, async () => /State:\s+dozing since/.test((await rb('status', 'dozefull')).stdout));
    await waitFor('dozefull CPU applied', 10_000, async () => (await applied(full!)) === JSON.stringify({ cpu: '25m', memory: '128Mi' }));
    expect((await kubectl(['-n', ns, 'describe', 'deployment', 'dozefull'])).stdout).toMatch(/Dozed .*worker CPU 125m -> 25m, memory stays 128Mi \((8\d|9\d|1\d\d) MiB in use\)/);

    const limits = ['/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
    const r = await rb('doze', 'cat', ...limits);
    expect(r).toEqual({ code: 0, stdout: '12500\n134217728\n', stderr: '' });
    expect((await rb('dozefull', 'cat', ...limits)).stdout).toBe('12500\n134217728\n');
    expect(await podsOf('doze')).toEqual([pod]);
    const restarts = (await kubectl(['-n', ns, 'get', 'pod', pod!, '-o', 'jsonpath={.status.containerStatuses[*].restartCount}'])).stdout;
    expect(restarts).toBe('0 0');
    const after = (await rb('status', 'doze')).stdout;
    expect(after).toMatch(/State:\s+running\n/);
    // Restoring the allocation is activity: a controller that saw the doze end with the old
    // last activity dozed it again before the command that asked for the restore had started.
    expect(after).toMatch(/Last activity:\s+[0-9]s ago/);
    await Promise.all([rb('delete', 'doze'), rb('delete', 'dozefull')]);
  }, 180_000);

  it('with boost fallback on, a boost (-a) ends when the environment dozes: the next command runs at its baseline', async () => {
    await create('boost', '--doze-after', '10s', '--sleep-after', 'never', '--boost-fallback', 'on');
    expect((await rb('idle', 'boost')).stdout).toMatch(/boost fallback on \(baseline 1 unit\)/);
    const boosted = await rb('-a', '2', 'boost', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
    expect(boosted).toEqual({ code: 0, stdout: '25000\n', stderr: '' });
    const [pod] = await podsOf('boost');
    // Watched through the record, not the worker's cgroup: a `cat` in the worker is activity, and would put the doze off.
    await waitFor('boost dozing', 60_000, async () => /State:\s+dozing since/.test((await rb('status', 'boost')).stdout));
    expect((await kubectl(['-n', ns, 'exec', pod!, '-c', 'worker', '--', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us'])).stdout.trim()).toBe('2500');
    // The Event comes just after the record.
    const event = /Dozed .*dozed after \d+s idle \(doze-after 10s\); boost to 2 units ended, back to 1/;
    await waitFor('the Dozed event', 10_000, async () => event.test((await kubectl(['-n', ns, 'describe', 'deployment', 'boost'])).stdout));
    const r = await rb('boost', 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
    expect(r).toEqual({ code: 0, stdout: '12500\n', stderr: '' });
    expect(await podsOf('boost')).toEqual([pod]);
    expect((await kubectl(['-n', ns, 'get', 'deployment', 'boost', '-o', 'jsonpath={.metadata.annotations.runbox\\.dev/allocation}'])).stdout).toBe('1');
    await rb('delete', 'boost');
  }, 180_000);

  it('commands sent in a tight loop while it goes to sleep all complete with their own exit codes', async () => {
    await create('loop', '--sleep-after', '3s', '--doze-after', 'never');
    const codes: { want: number; got: number; stderr: string }[] = [];
    let refusals = 0;
    const until = Date.now() + 75_000;
    for (let i = 0; Date.now() < until; i++) {
      const r = await rb('-v', 'loop', 'sh', '-c', `echo $0; exit ${i % 7}`, String(i));
      codes.push({ want: i % 7, got: r.code, stderr: r.stderr });
      expect(r.stdout, JSON.stringify(r)).toBe(`${i}\n`);
      if (/refused the command: draining/.test(r.stderr)) refusals++;
      // Gaps around sleep-after, so that some commands meet the drain.
      await new Promise((res) => setTimeout(res, [0, 500, 2_500, 3_200, 4_000][i % 5]));
    }
    const slept = (await kubectl(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.name=loop,reason=Slept', '-o', 'name'])).stdout.split('\n').filter(Boolean).length;
    console.log(`${codes.length} commands, ${slept} sleeps, ${refusals} commands refused by a drain and run again`);
    expect(codes.filter((c) => c.got === 137)).toEqual([]);
    expect(codes.filter((c) => c.got !== c.want)).toEqual([]);
    expect(slept).toBeGreaterThanOrEqual(2);
    await rb('delete', 'loop');
  }, 240_000);

  it('a controller killed in the middle of a sleep: the new leader finishes it, with no double snapshot and no lost version', async () => {
    await create('crash', '--sleep-after', '5s', '--doze-after', 'never');
    // Enough to snapshot for a while: 40 MB that do not compress.
    const fill = await rb('crash', 'sh', '-c', 'head -c 40000000 /dev/urandom > /opt/blob && sha256sum /opt/blob');
    expect(fill.code, fill.stderr).toBe(0);
    const [pod] = await podsOf('crash');
    // The sidecar is raised for the snapshot before a sleep: the sleep has begun. Kill the leader then.
    await waitFor('the snapshot of crash started', 60_000, async () => {
      const cpu = (await kubectl(['-n', ns, 'get', 'pod', pod!, '-o', 'jsonpath={.spec.containers[?(@.name=="sidecar")].resources.limits.cpu}'])).stdout;
      return cpu === sidecarForSleep(1) || cpu === sidecarForSleep(2);
    });
    const holder = (await kubectl(['-n', 'runbox-system', 'get', 'lease', 'runbox-controller', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
    expect((await kubectl(['-n', 'runbox-system', 'delete', 'pod', holder, '--grace-period=0', '--force'])).code).toBe(0);
    await waitFor('crash asleep', 120_000, async () => (await replicas('crash')) === 0);
    const newHolder = (await kubectl(['-n', 'runbox-system', 'get', 'lease', 'runbox-controller', '-o', 'jsonpath={.spec.holderIdentity}'])).stdout;
    expect(newHolder).not.toBe(holder);
    const versions = (await records('crash')).map((r) => r.version);
    expect(versions).toEqual([1]);
    const back = await rb('crash', 'sha256sum', '/opt/blob');
    expect(back).toEqual({ code: 0, stdout: fill.stdout, stderr: '' });
    await rb('delete', 'crash');
  }, 300_000);

  it('runbox controller runs the same controller from a laptop, through the pod proxy, and stops on Ctrl-C', async () => {
    // The installed replicas stand aside (their Lease is released as they stop), so that the laptop's leads.
    expect((await kubectl(['-n', 'runbox-system', 'scale', 'deploy/runbox-controller', '--replicas=0'])).code).toBe(0);
    try {
      await waitFor('the installed controller gone', 60_000, async () => (await kubectl(['-n', 'runbox-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=runbox-controller', '-o', 'name'])).stdout.trim() === '');
      const local = startRunbox(['-n', ns, 'controller'], { env });
      await local.output(/"msg":"leading"/, 'stderr');
      await create('laptop', '--sleep-after', '10s', '--doze-after', 'never');
      expect((await rb('laptop', 'true')).code).toBe(0);
      await waitFor('laptop asleep', 60_000, async () => (await replicas('laptop')) === 0);
      await local.output(/"msg":"slept [^"]+\/laptop"/, 'stderr');
      process.kill(local.pid, 'SIGINT');
      const ended = await local.done;
      expect(ended.code, ended.stderr).toBe(130);
      expect(ended.stderr).toMatch(/"msg":"lease released"/);
      await rb('delete', 'laptop');
    } finally {
      await kubectl(['-n', 'runbox-system', 'scale', 'deploy/runbox-controller', '--replicas=2']);
      await kubectl(['-n', 'runbox-system', 'rollout', 'status', 'deploy/runbox-controller', '--timeout=120s']);
    }
  }, 240_000);
});

