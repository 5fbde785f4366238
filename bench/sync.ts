// Benchmark: `runbox sync NAME LOCAL --remote PATH` against what a kubectl user
// has: `kubectl cp` for a first copy and rsync over `kubectl exec` for the
// copies after it, on a generated tree of 10,000 files / 100 MiB, and the
// laptop's peak RSS of a sync of 1,000 MiB (20 files of 50 MiB). Every sample
// is checked in the pod afterwards (file count, bytes, and a hash of every
// file's content), and the sides of each sample alternate who goes first.
//   npm run bench            (SYNC_RUNS=N, at least 5; RSS_RUNS=N, at least 3)
// Needs rsync on the laptop and in the image: bench/sync-setup.sh (run below)
// installs the first with apt-get and builds the second, for this bench only.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECONFIG, KUBECTL, NS, ROOT, RUNBOX, TABLE_HEAD, containerCpuMs, ensureEnv, kubectl, machine, podOf, row, runbox, stats, timed, writeSection } from './dev-env.ts';
import { content, makeTree, remoteCheck, sha256, type Tree } from './tree.ts';

const RUNS = Math.max(5, Number(process.env.SYNC_RUNS ?? 5));
const RSS_RUNS = Math.max(3, Number(process.env.RSS_RUNS ?? 5));
const ENV = 'benchsync';
// The default allocation (1 unit: 125m CPU, 128 MiB), what `runbox create` gives: tar and rsync
// run in the worker at that size, runbox's agent in the sidecar, which a sync with real work (a
// walk, a big transfer) raises to SIDECAR_WORKING (1 CPU) when the node has room. (With an
// 8-unit worker the raise does not fit a 2-core node, stays Deferred, and the agent crawls at
// the sidecar's resting 50m.)
const MiB = 1024 * 1024;

const setup = spawnSync('bash', [join(ROOT, 'bench/sync-setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (setup.status !== 0) throw new Error('bench/sync-setup.sh failed');
const IMAGE = setup.stdout.trim().split('\n').at(-1)!;
const load0 = loadavg();
ensureEnv(ENV, IMAGE);
const pod = podOf(ENV);
const limits = (c: string) => kubectl('get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${c}")].resources.limits}`).stdout;
const WORKER_LIMITS = limits('worker');
/** Pod conditions that say a resize is pending or failed (the sidecar's raise and lowering). */
const resizeTrouble = new Set<string>();
const noteResize = () => {
  const out = kubectl('get', 'pod', pod, '-o', 'jsonpath={range .status.conditions[*]}{.type}: {.reason} {.message}{"\\n"}{end}').stdout;
  for (const l of out.split('\n')) if (l.startsWith('PodResize')) resizeTrouble.add(l.replace(/\d{6,}/g, 'N'));
};

const inPod = (script: string) => kubectl('exec', pod, '-c', 'worker', '--', 'sh', '-c', script).stdout;
/** Only ever folders this bench made, under /data: never an empty or computed root. */
const clear = (...dirs: string[]) => {
  for (const d of dirs) if (!/^\/data\/(bench|cp|rs|big)[-a-z0-9]*$/.test(d)) throw new Error(`refusing to remove ${d}`);
  inPod(`rm -rf ${dirs.join(' ')}`);
};
clear('/data/bench-resync', '/data/rs');
inPod('rm -rf /data/bench-[0-9]* /data/cp-[0-9]* /data/big-[0-9]* /data/cpbig-[0-9]*');

/** Checks that the pod's folder holds exactly the tree: file count, bytes, the hash of every file's content. */
function check(dir: string, tree: Tree, hash = tree.hash): void {
  const got = inPod(remoteCheck(dir)).trim();
  const want = `${tree.files.length} ${tree.bytes} ${hash}`;
  if (got !== want) throw new Error(`${dir} in the pod holds "${got}" (files bytes hash), not "${want}"`);
}

/** Wall time and peak RSS (GNU time's %M, KiB) of one program run to exit 0. */
function timedRss(file: string, args: string[]): { ms: number; stdout: string; rssMiB: number } {
  const out = join(work, 'rss');
  const r = timed('/usr/bin/time', ['-f', '%M', '-o', out, file, ...args]);
  return { ...r, rssMiB: Number(readFileSync(out, 'utf8').trim().split('\n').at(-1)) / 1024 };
}
/** Why a sync failed or hung, read off the pod: resize conditions and OOM kills in the sidecar. */
const diagnose = () =>
  kubectl('get', 'pod', pod, '-o', 'jsonpath={range .status.conditions[*]}{.type}: {.reason} {.message}{"\\n"}{end}').stdout.trim() +
  `\nsidecar memory.oom_control: ${kubectl('exec', pod, '-c', 'sidecar', '--', 'cat', '/sys/fs/cgroup/memory/memory.oom_control').stdout.replace(/\n/g, ' ')}`;
// A sync whose agent dies (e.g. OOM-killed in the sidecar when the node had no room to
// raise it) can hang the laptop side: coreutils timeout ends it, and the error says why.
const TIMEOUT_S = Number(process.env.SYNC_TIMEOUT_S ?? 600);
const runboxSync = (local: string, remote: string, rss = false) => {
  const args = ['-k', '5', String(TIMEOUT_S), process.execPath, RUNBOX, '-n', NS, 'sync', '-o', 'json', ENV, local, '--remote', remote];
  let r: { ms: number; stdout: string; rssMiB: number };
  try {
    r = rss ? timedRss('timeout', args) : { ...timed('timeout', args), rssMiB: 0 };
  } catch (err) {
    throw new Error(`runbox sync ${local} --remote ${remote} failed or took over ${TIMEOUT_S} s:\n${(err as Error).message}\n${diagnose()}`);
  }
  return { ...r, report: JSON.parse(r.stdout) as { uploaded: number; downloaded: number; deletedLocal: number; deletedRemote: number; remoteRead: string } };
};
/** The sidecar's CPU time so far (ms), from its cgroup on the node. */
const sidecarCpu = containerCpuMs(pod, 'sidecar');
if (!sidecarCpu) throw new Error("the sidecar's cgroup (cpuacct.usage) was not found on this machine");
/** A sync timed, with the sidecar's CPU time it took; the warm agent must have sent only what changed. */
const generation = () => kubectl('get', 'pod', pod, '-o', 'jsonpath={.metadata.generation}').stdout;
const warmSync = (local: string, remote: string, cpu: number[]) => {
  const [gen, before] = [generation(), sidecarCpu()];
  const r = runboxSync(local, remote);
  cpu.push(sidecarCpu() - before);
  if (r.report.remoteRead !== 'changes') throw new Error(`the agent did not send only what changed (${r.report.remoteRead}): ${r.stdout}`);
  if (generation() !== gen) throw new Error('a small sync resized the pod (its generation moved)');
  return r;
};

const work = mkdtempSync(join(tmpdir(), 'runbox-bench-sync-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// rsync -e runs `RSH HOST rsync --server ...`: this wrapper takes HOST as the pod and
// runs the rest in its worker. (Not `--rsync-path=` with `-e 'kubectl exec ... --'`:
// rsync 3.5 passes the empty path as an argument and the server then syncs into `/`.)
const krsync = join(work, 'krsync');
writeFileSync(krsync, `#!/bin/sh\npod=$1; shift\nexec '${KUBECTL}' --kubeconfig '${KUBECONFIG}' -n '${NS}' exec -i "$pod" -c worker -- "$@"\n`);
chmodSync(krsync, 0o755);
const rsync = (local: string, remote: string) => timed('rsync', ['-a', '--delete', '--itemize-changes', '--blocking-io', '-e', krsync, `${local}/`, `${pod}:${remote}/`]);

const tree = makeTree(join(work, 'tree'), {
  seed: 2019,
  bytes: 100 * MiB,
  classes: [
    { files: 9950, minSize: 100, maxSize: 32 * 1024 }, // sources
    { files: 50, minSize: 256 * 1024, maxSize: 2 * MiB }, // assets
  ],
  folders: 10,
});
console.log(`tree: ${tree.files.length} files, ${tree.bytes} bytes in ${tree.root}`);

// 1. First sync into a fresh folder (a new --remote, so no sync state) vs kubectl cp.
const first = { runbox: [] as number[], cp: [] as number[], runboxRss: [] as number[], cpRss: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const legs = [
    () => {
      const r = runboxSync(tree.root, `bench-${i}`, true);
      noteResize();
      if (r.report.uploaded < tree.files.length || r.report.downloaded + r.report.deletedLocal + r.report.deletedRemote > 0) throw new Error(`first sync: ${r.stdout}`);
      check(`/data/bench-${i}`, tree);
      clear(`/data/bench-${i}`);
      first.runbox.push(r.ms);
      first.runboxRss.push(r.rssMiB);
    },
    () => {
      const r = timedRss(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'cp', tree.root, `${pod}:/data/cp-${i}`, '-c', 'worker']);
      check(`/data/cp-${i}`, tree);
      clear(`/data/cp-${i}`);
      first.cp.push(r.ms);
      first.cpRss.push(r.rssMiB);
    },
  ];
  for (const leg of i % 2 === 0 ? legs : legs.reverse()) leg();
  console.log(`first sync ${i}: runbox ${first.runbox.at(-1)!.toFixed(0)} ms, kubectl cp ${first.cp.at(-1)!.toFixed(0)} ms`);
}

// 2. No-change re-sync of a synced folder vs rsync of an rsynced copy; floors beside them.
runboxSync(tree.root, 'bench-resync');
check('/data/bench-resync', tree);
rsync(tree.root, '/data/rs');
check('/data/rs', tree);
const same = { runbox: [] as number[], rsync: [] as number[], warm: [] as number[], node: [] as number[], cpu: [] as number[], execCpu: [] as number[] };
const sameLegs = [
  () => {
    const r = warmSync(tree.root, 'bench-resync', same.cpu);
    const moved = r.report.uploaded + r.report.downloaded + r.report.deletedLocal + r.report.deletedRemote;
    if (moved > 0) throw new Error(`a no-change sync changed something: ${r.stdout}`);
    same.runbox.push(r.ms);
  },
  () => {
    const r = rsync(tree.root, '/data/rs');
    if (r.stdout.trim() !== '') throw new Error(`a no-change rsync changed something:\n${r.stdout}`);
    same.rsync.push(r.ms);
  },
  () => same.warm.push(runbox(ENV, 'true').ms),
  () => same.node.push(timed(process.execPath, ['-e', '0']).ms),
  () => {
    const before = sidecarCpu();
    kubectl('exec', pod, '-c', 'sidecar', '--', 'true');
    same.execCpu.push(sidecarCpu() - before);
  },
];
sameLegs.forEach((leg) => leg()); // warm-up, not counted
for (const xs of Object.values(same)) xs.length = 0;
for (let i = 0; i < RUNS; i++) for (const leg of i % 2 === 0 ? sameLegs : [...sameLegs].reverse()) leg();
check('/data/bench-resync', tree);
check('/data/rs', tree);

// 3. One file changed (new content, same size) before each sample: both sides carry it.
const changed = [...tree.files].sort((a, b) => a.size - b.size)[Math.floor(tree.files.length / 2)]!;
const one = { runbox: [] as number[], rsync: [] as number[], warm: [] as number[], cpu: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const bytes = content(2019, `${changed.path} version ${i}`, changed.size);
  writeFileSync(join(tree.root, changed.path), bytes);
  const legs = [
    () => {
      const r = warmSync(tree.root, 'bench-resync', one.cpu);
      if (r.report.uploaded !== 1 || r.report.downloaded + r.report.deletedLocal + r.report.deletedRemote > 0) throw new Error(`one-file sync: ${r.stdout}`);
      one.runbox.push(r.ms);
    },
    () => {
      const r = rsync(tree.root, '/data/rs');
      if (!r.stdout.includes(changed.path)) throw new Error(`rsync did not send ${changed.path}:\n${r.stdout}`);
      one.rsync.push(r.ms);
    },
    () => one.warm.push(runbox(ENV, 'true').ms),
  ];
  for (const leg of i % 2 === 0 ? legs : legs.reverse()) leg();
  const want = sha256(bytes);
  for (const dir of ['/data/bench-resync', '/data/rs']) {
    const got = inPod(`sha256sum '${dir}/${changed.path}'`).split(' ')[0];
    if (got !== want) throw new Error(`${dir}/${changed.path} has sha256 ${got}, not the new ${want}`);
  }
}

// 4. Peak RSS on the laptop for a 1,000 MiB tree, with kubectl cp's beside it.
rmSync(tree.root, { recursive: true, force: true });
const big = makeTree(join(work, 'big'), { seed: 2019, bytes: 20 * 50 * MiB, classes: [{ files: 20, minSize: 1, maxSize: 1 }], folders: 1 });
const rss = { runbox: [] as number[], cp: [] as number[], runboxMs: [] as number[], cpMs: [] as number[] };
for (let i = 0; i < RSS_RUNS; i++) {
  const legs = [
    () => {
      const r = runboxSync(big.root, `big-${i}`, true);
      noteResize();
      check(`/data/big-${i}`, big);
      clear(`/data/big-${i}`);
      rss.runbox.push(r.rssMiB);
      rss.runboxMs.push(r.ms);
    },
    () => {
      const r = timedRss(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'cp', big.root, `${pod}:/data/cpbig-${i}`, '-c', 'worker']);
      check(`/data/cpbig-${i}`, big);
      inPod(`rm -rf /data/cpbig-${i}`);
      rss.cp.push(r.rssMiB);
      rss.cpMs.push(r.ms);
    },
  ];
  for (const leg of i % 2 === 0 ? legs : legs.reverse()) leg();
  console.log(`1000 MiB: runbox ${rss.runbox.at(-1)!.toFixed(0)} MiB ${rss.runboxMs.at(-1)!.toFixed(0)} ms, kubectl cp ${rss.cp.at(-1)!.toFixed(0)} MiB ${rss.cpMs.at(-1)!.toFixed(0)} ms`);
}
rmSync(work, { recursive: true, force: true });
if (podOf(ENV) !== pod) throw new Error('the pod changed during the benchmark; the samples are not comparable');
const load1 = loadavg();

const s = {
  first: stats(first.runbox), cp: stats(first.cp), firstRss: stats(first.runboxRss), cpRss: stats(first.cpRss),
  same: stats(same.runbox), sameRsync: stats(same.rsync), warm: stats([...same.warm, ...one.warm]), node: stats(same.node),
  one: stats(one.runbox), oneRsync: stats(one.rsync),
  sameCpu: stats(same.cpu), oneCpu: stats(one.cpu), execCpu: stats(same.execCpu),
  rss: stats(rss.runbox), rssCp: stats(rss.cp), rssMs: stats(rss.runboxMs), rssCpMs: stats(rss.cpMs),
};
const mibRow = (what: string, x: ReturnType<typeof stats>) => `| ${what} | ${x.median.toFixed(0)} MiB | ${x.min.toFixed(0)} MiB | ${x.max.toFixed(0)} MiB | ${x.runs} |`;
const unitRow = (what: string, x: ReturnType<typeof stats>) => `| ${what} | ${x.median.toFixed(1)} ms | ${x.min.toFixed(1)} ms | ${x.max.toFixed(1)} ms | ${x.runs} |`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const firstRatio = s.first.median / s.cp.median;
const oneRatio = s.one.median / s.warm.median;
console.log(`sync: first ${firstRatio.toFixed(2)}x kubectl cp, no-change ${s.same.median.toFixed(0)} ms (rsync ${s.sameRsync.median.toFixed(0)} ms), one file ${oneRatio.toFixed(2)}x warm true, peak RSS ${s.rss.max.toFixed(0)} MiB`);

writeSection(
  '## Sync',
  `## Sync: \`runbox sync NAME LOCAL --remote PATH\` vs \`kubectl cp\` and rsync over \`kubectl exec\`

\`npm run bench\` (bench/sync.ts) on ${new Date().toISOString().slice(0, 10)}: ${machine()}; rsync ${/version (\S+)/.exec(timed('rsync', ['--version']).stdout)?.[1]} on both sides.
Image \`${IMAGE}\` (bench/sync-setup.sh: Debian bookworm + rsync), default allocation: tar and rsync run in the
worker (limits ${WORKER_LIMITS}); runbox's agent in the sidecar: the warm one in the sidecar's own server (the folder's manifest kept by
inotify, reached through a bash bridge exec'd there) at the sidecar's resting 50m, which is raised in place to 1 CPU only for a
walk of a folder it does not hold yet or a transfer over 4 MiB or 500 files (that one runs in an agent process of its own).
Tree: ${tree.files.length} files, ${tree.bytes / MiB} MiB, seeded (sizes log-uniform, 9,950 of 100 B-32 KiB and 50 of
256 KiB-2 MiB, in 10 folders of 10 subfolders; incompressible bytes). After every sample the pod's folder was
checked: file count, total bytes, and \`sha256sum\` of every file (hashed together) equal the laptop's tree.
Load average of the machine (shared with other work) ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end.

**First sync** into a fresh folder (a new \`--remote bench-N\`, so no sync state) vs \`kubectl cp LOCAL POD:/data/cp-N -c worker\`;
${RUNS} samples each, the order alternating:

${TABLE_HEAD}
${row('runbox sync (first, 10,000 files, 100 MiB)', s.first)}
${row('kubectl cp LOCAL POD:/data/cp-N -c worker', s.cp)}

Ratio runbox / kubectl cp: **${firstRatio.toFixed(2)}** (goal: <= 1.0, ${verdict(firstRatio <= 1)}). Laptop peak RSS: runbox ${s.firstRss.median.toFixed(0)} MiB, kubectl cp ${s.cpRss.median.toFixed(0)} MiB (medians).

**No change and one file changed**, on a folder synced (and a copy rsynced) before: \`runbox sync\` again vs
\`rsync -a --delete --itemize-changes --blocking-io -e krsync LOCAL/ POD:/data/rs/\`, where krsync is a two-line
wrapper, \`pod=$1; shift; exec kubectl exec -i "$pod" -c worker -- "$@"\` (rsync -e puts the "host" first); one
warm-up of each, then ${RUNS} samples each, the order alternating. No-change samples were checked to move nothing
(runbox's report, rsync's itemized list empty); for the one-file samples a ${changed.size}-byte file (the median size)
got new content before each sample and both copies in the pod had its new sha256 after it.

${TABLE_HEAD}
${row('runbox sync, no change', s.same)}
${row('rsync over kubectl exec, no change', s.sameRsync)}
${row('runbox sync, one file changed', s.one)}
${row('rsync over kubectl exec, one file changed', s.oneRsync)}
${row('runbox NAME true (warm)', s.warm)}
${row('floor: node -e 0 (Node start-up)', s.node)}

No-change re-sync: **${s.same.median.toFixed(0)} ms** (goal: <= 500 ms and faster than rsync's ${s.sameRsync.median.toFixed(0)} ms, ${verdict(s.same.median <= 500 && s.same.median < s.sameRsync.median)}).
One file changed: **${oneRatio.toFixed(2)}x** warm \`runbox NAME true\` (goal: <= 1.5x, ${verdict(oneRatio <= 1.5)}); rsync ${(s.oneRsync.median / s.warm.median).toFixed(2)}x.
Every timed runbox sample was checked to have been answered by the warm agent with only what changed
(\`remoteRead: changes\`) and to have left the pod's generation where it was (no resize). Its CPU time per sample (\`cpuacct.usage\` of its container, read on the node,
the dev cluster being this machine) is the floor under these times: at 50m the sidecar gets 5 ms of CPU per 100 ms, and the
exec that reaches it costs a few milliseconds of that by itself:

| | median | min | max | runs |
|---|---|---|---|---|
${unitRow('sidecar CPU: runbox sync, no change', s.sameCpu)}
${unitRow('sidecar CPU: runbox sync, one file changed', s.oneCpu)}
${unitRow('sidecar CPU: kubectl exec POD -c sidecar -- true', s.execCpu)}

**Laptop peak RSS** (GNU time's maximum resident set size of the process) syncing ${big.files.length} files of 50 MiB
(${big.bytes / MiB} MiB) into a fresh folder, ${RSS_RUNS} samples each, every one checked in the pod as above:

| | median | min | max | runs |
|---|---|---|---|---|
${mibRow('runbox sync, peak RSS', s.rss)}
${mibRow('kubectl cp, peak RSS', s.rssCp)}
${row('runbox sync, wall time', s.rssMs)}
${row('kubectl cp, wall time', s.rssCpMs)}

Peak RSS of runbox: **${s.rss.max.toFixed(0)} MiB** at most (goal: < 150 MiB, ${verdict(s.rss.max < 150)}).

Resize conditions seen on the pod right after the large syncs: ${resizeTrouble.size === 0 ? 'none' : [...resizeTrouble].map((x) => `\`${x}\``).join('; ')}.
`,
);
process.exit(0);
