// Benchmark: `runbox snapshot NAME` with ~50 MiB of new files in the root
// filesystem against its floor, the same files tar'd and gzip'd (`tar czf`)
// and pushed as one blob in a single monolithic upload (POST, then PUT with
// the digest), timed the same way (one command's wall time) in the same run;
// the layer's size against the floor tarball's; a no-change snapshot right
// after a changed one; and what a snapshot costs the sidecar in CPU seconds
// and peak memory. Every sample adds new paths (so every snapshot really has
// ~50 MiB to commit) and is checked: a new version, one more layer, changed.
//   npm run bench            (SNAPSHOT_RUNS=N, at least 5)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { SIDECAR, WORKER } from '../src/contract/names.ts';
import { WORKER_IDLE_COMMAND } from '../src/contract/sidecar.ts';
import { MAX_SNAPSHOT_LAYERS } from '../src/contract/snapshot.ts';
import { SIDECAR_RESOURCES, SIDECAR_WORKING } from '../src/env/lifecycle/sidecar.ts';
import { KUBECONFIG, KUBECTL, NS, RUNBOX, TABLE_HEAD, ensureEnv, kubectl, machine, podOf, row, runbox, stats, timed, writeSection, type Stats } from './dev-env.ts';

const RUNS = Math.max(5, Number(process.env.SNAPSHOT_RUNS ?? 5));
const ENV = 'benchsnap';
const IMAGE = '127.0.0.1:5000/runbox-test/debian:bookworm';
const MiB = 1024 * 1024;
const SAMPLE_BYTES = 50 * MiB;
const SMALL_FILES = 3000;
const BIG_FILES = 8;
/** The floor's blobs go to a repository of their own (and are deleted again after each sample). */
const FLOOR_REPO = 'runbox-bench/snapshot-floor';
const FLOOR_FILE = '/tmp/runbox-bench-floor.tgz';
const TIMEOUT_S = Number(process.env.SNAPSHOT_TIMEOUT_S ?? 600);
/** Paths of this run: every sample's are new, also across runs on a reused environment. */
const RUN_ID = Date.now().toString(36);

interface Record {
  version: number;
  layers: number;
  size: number;
}
type Answer = { changed: false; seconds: number; files: number } | { changed: true; record: Record; seconds: number; files: number; layerBytes: number };

const load0 = loadavg();
/** Pods of other namespaces running meanwhile: the node (this machine) is shared. */
const others = new Set<string>();
const noteOthers = () => {
  const out = timed(KUBECTL, ['--kubeconfig', KUBECONFIG, 'get', 'pods', '-A', '--field-selector', 'status.phase=Running', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}']).stdout;
  for (const p of out.split('\n')) if (p && !p.startsWith(`${NS}/${ENV}-`)) others.add(p.replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$/, ''));
};
ensureEnv(ENV, IMAGE);
const pod = podOf(ENV);
const containerStatus = (c: string, field: string) => kubectl('get', 'pod', pod, '-o', `jsonpath={.status.containerStatuses[?(@.name=="${c}")].${field}}`).stdout.trim();
const SIDECAR_RESTARTS = containerStatus(SIDECAR, 'restartCount');
const WORKER_LIMITS = containerStatus(WORKER, 'resources.limits');
const config = JSON.parse(runbox('config', '-o', 'json').stdout) as { [key: string]: { value?: string } };
const PUSH = config['registry-push']?.value ?? '';
const PULL = config['registry-pull']?.value ?? '127.0.0.1:5000';
if (!PUSH) throw new Error('no registry-push in the cluster config: snapshots are off');

const inWorker = (script: string, ...args: string[]) => kubectl('exec', pod, '-c', WORKER, '--', 'sh', '-c', script, 'sh', ...args).stdout;
const inSidecar = (script: string, ...args: string[]) => kubectl('exec', pod, '-c', SIDECAR, '--', 'sh', '-c', script, 'sh', ...args).stdout;

// The worker's idle process, as the snapshot agent finds it: its /proc/PID/root is the worker's root.
const WORKER_PID = Number(
  kubectl('exec', pod, '-c', SIDECAR, '--', 'node', '-e', `
    const fs = require('node:fs');
    const want = ${JSON.stringify(WORKER_IDLE_COMMAND.join('\0'))};
    for (const e of fs.readdirSync('/proc')) {
      if (!/^\\d+$/.test(e)) continue;
      let c = ''; try { c = fs.readFileSync('/proc/' + e + '/cmdline', 'utf8'); } catch {}
      if (c.replace(/\\0+$/, '') === want) { console.log(e); break; }
    }`).stdout.trim(),
);
if (!WORKER_PID) throw new Error("the worker's idle process is not visible from the sidecar");

// ---- the sidecar's cgroup: CPU time, peak memory, CPU quota ----------------------------------
const CG = inSidecar('for f in /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us; do [ -e $f ] && echo $f; done; true')
  .trim()
  .split('\n');
const CPU_USAGE = CG.find((f) => f.endsWith('cpuacct.usage'));
const CPU_QUOTA = CG.find((f) => f.endsWith('cpu.cfs_quota_us'));
if (!CPU_USAGE || !CPU_QUOTA) throw new Error(`the sidecar's cgroup v1 files are not where this bench looks: ${CG.join(' ')}`);
const MEM = '/sys/fs/cgroup/memory';
/** How the peak is reset before a sample: inside the container if it may, else from the node (the dev cluster is this machine). */
const PEAK_RESET = (() => {
  const inside = spawnSync(KUBECTL, ['--kubeconfig', KUBECONFIG, '-n', NS, 'exec', pod, '-c', SIDECAR, '--', 'sh', '-c', `echo 0 > ${MEM}/memory.max_usage_in_bytes`], { encoding: 'utf8' });
  if (inside.status === 0) return { how: 'inside the sidecar container', reset: () => void inSidecar(`echo 0 > ${MEM}/memory.max_usage_in_bytes`) };
  const id = containerStatus(SIDECAR, 'containerID').replace(/^[a-z]+:\/\//, '');
  const found = spawnSync('find', [`${MEM}/kubepods`, '-maxdepth', '3', '-type', 'd', '-name', id], { encoding: 'utf8' }).stdout?.trim().split('\n')[0];
  if (id && found && existsSync(`${found}/memory.max_usage_in_bytes`)) {
    const file = `${found}/memory.max_usage_in_bytes`;
    try {
      writeFileSync(file, '0');
      const why = inside.stderr.trim().split('\n')[0];
      const shown = file.replace(id, 'CONTAINER').replace(/\/pod[0-9a-f-]+\//, '/podUID/');
      return { how: `from the node, the dev cluster being this machine (inside the container: \`${why}\`), writing 0 to \`${shown}\``, reset: () => writeFileSync(file, '0') };
    } catch {
      // not permitted from here either
    }
  }
  return undefined;
})();

interface Counters {
  cpuNs: number;
  peak: number;
  usage: number;
}
const counters = (): Counters => {
  const [usage, peak, cpu] = inSidecar(`cat ${MEM}/memory.usage_in_bytes ${MEM}/memory.max_usage_in_bytes ${CPU_USAGE}`).trim().split('\n').map(Number);
  return { usage: usage!, peak: peak!, cpuNs: cpu! };
};

/** cpu.cfs_quota_us of a CPU quantity, at the default period of 100 ms. */
const quotaOf = (cpu: string) => Math.round(parseFloat(cpu) * (cpu.endsWith('m') ? 100 : 100_000));
/** Resizes the sidecar in place as runbox does, and waits until its cgroup has the new CPU quota. */
function sidecarCpu(resources: { cpu: string; memory: string }): number {
  const quota = quotaOf(resources.cpu);
  const patch = JSON.stringify({ spec: { containers: [{ name: SIDECAR, resources: { requests: resources, limits: resources } }] } });
  const t0 = performance.now();
  kubectl('patch', 'pod', pod, '--subresource', 'resize', '--type', 'strategic', '-p', patch);
  inSidecar(`i=0; while [ "$(cat ${CPU_QUOTA})" != ${quota} ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "quota $(cat ${CPU_QUOTA}), not ${quota}" >&2; exit 1; }; sleep 0.05; done`);
  return performance.now() - t0;
}

// ---- what each sample adds: ~50 MiB, part text-like, part random -----------------------------
// One perl process (perl-base is in every Debian image) in the worker: a seeded layout (3,000
// files of 256 B-48 KiB, log-uniform, in 30 folders under /usr/local/share/bench-N, and 8
// larger files under /opt/bench-N taking the rest of the 50 MiB), each file's content either
// text (slices of a seeded 2 MiB corpus of made-up words in lines: gzip halves it)
// or bytes from /dev/urandom (gzip cannot shrink them).
const GENERATOR = String.raw`
my ($seed, $small, $big, $total, $nsmall, $nbig) = @ARGV;
srand($seed);
for my $d ($small, $big) { -e $d and die "$d exists\n"; mkdir $d or die "mkdir $d: $!\n"; }
open(my $ur, '<:raw', '/dev/urandom') or die "urandom: $!\n";
my @words = map { my $n = 2 + int(rand(10)); join('', map { chr(97 + int(rand(26))) } 1 .. $n) } 1 .. 3000;
my $corpus = '';
while (length($corpus) < 2 * 1048576) {
  my $line = join(' ', map { $words[int(rand(@words))] } 1 .. (3 + int(rand(14))));
  $line = ucfirst($line) . (rand() < 0.3 ? sprintf(' = %d;', int(rand(100000))) : '.');
  $corpus .= (' ' x (2 * int(rand(4)))) . $line . "\n";
}
my ($files, $bytes) = (0, 0);
sub put {
  my ($path, $size, $text) = @_;
  open(my $fh, '>:raw', $path) or die "$path: $!\n";
  my $left = $size;
  while ($left > 0) {
    my $n = $left < 262144 ? $left : 262144;
    my $chunk;
    if ($text) { my $at = int(rand(length($corpus) - $n)); $chunk = substr($corpus, $at, $n); }
    else { my $got = sysread($ur, $chunk, $n); die "urandom: short read\n" unless $got == $n; }
    print $fh $chunk or die "$path: $!\n";
    $left -= $n;
  }
  close($fh) or die "$path: $!\n";
  $files++; $bytes += $size;
}
for my $d (0 .. 29) { mkdir sprintf('%s/d%02d', $small, $d) or die "mkdir: $!\n"; }
for my $i (0 .. $nsmall - 1) {
  my $size = int(256 * exp(rand() * log(49152 / 256)));
  put(sprintf('%s/d%02d/f%04d.%s', $small, $i % 30, $i, ($i % 2 ? 'bin' : 'txt')), $size, !($i % 2));
}
my $rest = $total - $bytes;
die "small files took $bytes of $total bytes\n" if $rest < $nbig * 1048576;
my @w = map { 1 + rand() } 1 .. $nbig; my $sum = 0; $sum += $_ for @w;
for my $i (0 .. $nbig - 1) {
  my $size = $i == $nbig - 1 ? $total - $bytes : int($rest * $w[$i] / $sum);
  put(sprintf('%s/big%d.%s', $big, $i, ($i % 2 ? 'bin' : 'txt')), $size, !($i % 2));
}
print "$files $bytes\n";
`;

interface Paths {
  small: string;
  big: string;
}
function addFiles(n: number, seed: number): Paths {
  const paths = { small: `/usr/local/share/bench-${RUN_ID}-${n}`, big: `/opt/bench-${RUN_ID}-${n}` };
  const out = kubectl('exec', pod, '-c', WORKER, '--', 'perl', '-e', GENERATOR, String(seed), paths.small, paths.big, String(SAMPLE_BYTES), String(SMALL_FILES), String(BIG_FILES)).stdout.trim();
  if (out !== `${SMALL_FILES + BIG_FILES} ${SAMPLE_BYTES}`) throw new Error(`the generator wrote "${out}" (files bytes)`);
  // Checked apart from the generator: files and bytes as find sees them in the worker.
  const seen = inWorker(`find "$1" "$2" -type f -printf '%s\\n' | awk '{ n++; b += $1 } END { print n, b }'`, paths.small, paths.big).trim();
  if (seen !== out) throw new Error(`the worker holds "${seen}" (files bytes) under ${paths.small} and ${paths.big}, not "${out}"`);
  return paths;
}

// ---- runbox snapshot -------------------------------------------------------------------------
function snapshot(...extra: string[]): { ms: number; answer: Answer; raw: string } {
  const r = timed('timeout', ['-k', '5', String(TIMEOUT_S), process.execPath, RUNBOX, '-n', NS, ...extra, ENV, '-o', 'json']);
  return { ms: r.ms, answer: JSON.parse(r.stdout) as Answer, raw: r.stdout };
}
/** A snapshot that must have made the next version with one more layer (no squash inside a timed sample). */
function expectNew(prev: Record, a: Answer, raw: string, layers = prev.layers + 1): Record & { layerBytes: number; seconds: number } {
  if (!a.changed) throw new Error(`a snapshot with new files changed nothing: ${raw}`);
  if (a.record.version !== prev.version + 1) throw new Error(`expected v${prev.version + 1}, got: ${raw}`);
  if (a.record.layers !== layers) throw new Error(`expected ${layers} layers, got: ${raw}`);
  return { ...a.record, layerBytes: a.layerBytes, seconds: a.seconds };
}

// ---- the floor: tar czf of the same paths, then one monolithic upload --------------------------
// Run in the sidecar, raised to the 1 CPU a snapshot gets (and waited for until its cgroup has
// the quota, untimed): the same container, CPU, registry address and read path (the worker's
// root through /proc/PID/root) as runbox's snapshot agent. GNU tar + gzip -6 (gzip's default,
// and runbox's zlib level) to a file, then Node's fetch: POST .../blobs/uploads/, PUT ?digest=.
const PUSH_JS = String.raw`
(async () => {
  const fs = require('node:fs'), crypto = require('node:crypto');
  const [file, host, repo] = process.argv.slice(1);
  const body = fs.readFileSync(file);
  const digest = 'sha256:' + crypto.createHash('sha256').update(body).digest('hex');
  const start = await fetch('http://' + host + '/v2/' + repo + '/blobs/uploads/', { method: 'POST' });
  if (start.status !== 202) throw new Error('POST ' + start.status + ' ' + (await start.text()));
  const at = new URL(start.headers.get('location'), 'http://' + host);
  at.searchParams.set('digest', digest);
  const put = await fetch(at, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error('PUT ' + put.status + ' ' + (await put.text()));
  console.log(JSON.stringify({ digest, bytes: body.length, pushed: Date.now() }));
})().catch((err) => { console.error(err); process.exit(1); });
`;
const FLOOR_SH = `set -e
echo "t0 $(date +%s%3N)"
tar czf ${FLOOR_FILE} -C "$1" "$2" "$3"
echo "tar $(date +%s%3N)"
node -e "$4" ${FLOOR_FILE} "$5" "$6"`;

async function floor(paths: Paths): Promise<{ ms: number; bytes: number; tarMs: number; pushMs: number }> {
  const r = kubectl('exec', pod, '-c', SIDECAR, '--', 'sh', '-c', FLOOR_SH, 'sh', `/proc/${WORKER_PID}/root`, paths.small.slice(1), paths.big.slice(1), PUSH_JS, PUSH, FLOOR_REPO);
  const lines = r.stdout.trim().split('\n');
  const t0 = Number(lines[0]!.split(' ')[1]);
  const tar = Number(lines[1]!.split(' ')[1]);
  const pushed = JSON.parse(lines[2]!) as { digest: string; bytes: number; pushed: number };
  // Checked from here: the registry holds the blob, of that size; then it goes again.
  const blob = `http://${PULL}/v2/${FLOOR_REPO}/blobs/${pushed.digest}`;
  const head = await fetch(blob, { method: 'HEAD' });
  if (head.status !== 200 || Number(head.headers.get('content-length')) !== pushed.bytes) throw new Error(`the floor's blob: HEAD ${head.status}, ${head.headers.get('content-length')} bytes, not ${pushed.bytes}`);
  await fetch(blob, { method: 'DELETE' }).catch(() => undefined);
  return { ms: r.ms, bytes: pushed.bytes, tarMs: tar - t0, pushMs: pushed.pushed - tar };
}

// ---- the run ---------------------------------------------------------------------------------
// The base image's layer count: runbox's own layers are squashed past MAX_SNAPSHOT_LAYERS, which
// must not happen inside a timed sample (a squash is done, untimed, before one would).
const [baseRepo, baseTag] = IMAGE.slice(IMAGE.indexOf('/') + 1).split(':') as [string, string];
const baseManifest = (await (
  await fetch(`http://${PULL}/v2/${baseRepo}/manifests/${baseTag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  })
).json()) as { layers?: unknown[] };
const BASE_LAYERS = baseManifest.layers?.length;
if (!BASE_LAYERS) throw new Error(`cannot read the layers of ${IMAGE}`);

/** The latest version of the environment (none: v0 on the base image). */
function latest(): Record {
  const records = JSON.parse(runbox('history', ENV, '-o', 'json').stdout) as Record[];
  return records.reduce<Record>((a, r) => (r.version > a.version ? r : a), { version: 0, layers: BASE_LAYERS!, size: 0 });
}
let squashes = 0;
/** Squashes (untimed) when the next snapshot would take runbox's own layers past MAX_SNAPSHOT_LAYERS. */
function roomForALayer(): void {
  if (last.layers - BASE_LAYERS! < MAX_SNAPSHOT_LAYERS) return;
  const sq = snapshot('squash');
  last = expectNew(last, sq.answer, sq.raw, BASE_LAYERS! + 1);
  squashes++;
  console.log(`squashed (untimed): v${last.version}, ${last.layers} layers`);
}

// Warm-up, not counted: the first snapshot of a fresh environment also indexes the base image and
// mounts its layers; the floor's first push creates its repository. First whatever the environment
// holds already is committed, so that the samples commit only their own paths.
if (inSidecar(`cat ${CPU_QUOTA}`).trim() !== String(quotaOf(SIDECAR_RESOURCES.cpu))) sidecarCpu(SIDECAR_RESOURCES);
snapshot('snapshot');
let last = latest();
{
  roomForALayer();
  const paths = addFiles(0, 1000);
  const warm = snapshot('snapshot');
  last = expectNew(last, warm.answer, warm.raw);
  sidecarCpu(SIDECAR_WORKING);
  await floor(paths);
  inSidecar(`rm -f ${FLOOR_FILE}`);
  sidecarCpu(SIDECAR_RESOURCES);
  console.log(`warm-up: v${last.version}, ${last.layers} layers`);
}

const t = {
  snap: [] as number[], sidecarS: [] as number[], none: [] as number[], noneS: [] as number[], noneCpu: [] as number[], settled: [] as number[], settledS: [] as number[],
  floor: [] as number[], tar: [] as number[], push: [] as number[], raise: [] as number[],
  layer: [] as number[], tgz: [] as number[], ratio: [] as number[],
  snapCpu: [] as number[], snapUse: [] as number[], snapPeak: [] as number[], snapBase: [] as number[],
  floorCpu: [] as number[], floorPeak: [] as number[], floorBase: [] as number[],
  node: [] as number[], exec: [] as number[],
};
const noneFiles: number[] = [];
const SETTLE_MS = 5_000;
for (let i = 0; i < RUNS; i++) {
  roomForALayer();
  const paths = addFiles(i + 1, 1001 + i);
  let layerBytes = 0;
  let tgzBytes = 0;
  const legs = [
    () => {
      PEAK_RESET?.reset();
      const before = counters();
      const s = snapshot('snapshot');
      const after = counters();
      const rec = expectNew(last, s.answer, s.raw);
      last = rec;
      layerBytes = rec.layerBytes;
      t.snap.push(s.ms);
      t.sidecarS.push(rec.seconds * 1000);
      t.snapCpu.push((after.cpuNs - before.cpuNs) / 1e6);
      t.snapUse.push((after.cpuNs - before.cpuNs) / 1e6 / (rec.seconds * 1000));
      t.snapPeak.push(after.peak / MiB);
      t.snapBase.push(before.usage / MiB);
      // Right after it, with nothing changed since: no version.
      const n0 = counters();
      const n = snapshot('snapshot');
      const n1 = counters();
      if (n.answer.changed) throw new Error(`a snapshot right after a snapshot changed something: ${n.raw}`);
      t.none.push(n.ms);
      t.noneS.push(n.answer.seconds * 1000);
      t.noneCpu.push((n1.cpuNs - n0.cpuNs) / 1e6);
      noneFiles.push(n.answer.files);
      // Again once the kubelet is done with the resizes before it: it applies a pod's next resize
      // only a second or two after its last, and the check right after a snapshot waits for that.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, SETTLE_MS);
      const m = snapshot('snapshot');
      if (m.answer.changed) throw new Error(`a snapshot with nothing changed since the last changed something: ${m.raw}`);
      t.settled.push(m.ms);
      t.settledS.push(m.answer.seconds * 1000);
    },
    async () => {
      t.raise.push(sidecarCpu(SIDECAR_WORKING));
      PEAK_RESET?.reset();
      const before = counters();
      const f = await floor(paths);
      const after = counters();
      // The tarball holds the sample's paths: 3,008 files and their 32 folders.
      const entries = Number(inSidecar(`tar tzf ${FLOOR_FILE} | wc -l; rm -f ${FLOOR_FILE}`).trim());
      if (entries !== SMALL_FILES + BIG_FILES + 32) throw new Error(`the floor's tarball holds ${entries} entries, not ${SMALL_FILES + BIG_FILES + 32}`);
      sidecarCpu(SIDECAR_RESOURCES);
      tgzBytes = f.bytes;
      t.floor.push(f.ms);
      t.tar.push(f.tarMs);
      t.push.push(f.pushMs);
      t.floorCpu.push((after.cpuNs - before.cpuNs) / 1e6);
      t.floorPeak.push(after.peak / MiB);
      t.floorBase.push(before.usage / MiB);
    },
    async () => {
      t.node.push(timed(process.execPath, ['-e', '0']).ms);
      t.exec.push(kubectl('exec', pod, '-c', SIDECAR, '--', 'true').ms);
    },
  ];
  noteOthers();
  for (const leg of i % 2 === 0 ? legs : [...legs].reverse()) await leg();
  noteOthers();
  t.layer.push(layerBytes / MiB);
  t.tgz.push(tgzBytes / MiB);
  t.ratio.push(layerBytes / tgzBytes);
  console.log(
    `sample ${i}: snapshot ${t.snap.at(-1)!.toFixed(0)} ms (sidecar ${t.sidecarS.at(-1)!.toFixed(0)} ms, ${t.snapCpu.at(-1)!.toFixed(0)} ms CPU, peak ${t.snapPeak.at(-1)!.toFixed(0)} MiB), ` +
      `floor ${t.floor.at(-1)!.toFixed(0)} ms (tar ${t.tar.at(-1)!.toFixed(0)}, push ${t.push.at(-1)!.toFixed(0)}), layer ${layerBytes} B vs tgz ${tgzBytes} B, no change ${t.none.at(-1)!.toFixed(0)} ms (sidecar ${t.noneS.at(-1)!.toFixed(0)} ms, ${t.noneCpu.at(-1)!.toFixed(0)} ms CPU)`,
  );
}
if (podOf(ENV) !== pod) throw new Error('the pod changed during the benchmark; the samples are not comparable');
if (containerStatus(SIDECAR, 'restartCount') !== SIDECAR_RESTARTS) throw new Error('the sidecar restarted during the benchmark (OOM?); the samples are not comparable');
const load1 = loadavg();
const date = new Date().toISOString().slice(0, 10);
const where = machine();
// Each run leaves nothing behind: its versions, volume and ledger go with the environment.
runbox('delete', '-y', ENV);

const s = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, stats(v)])) as { [K in keyof typeof t]: Stats };
const unitRow = (what: string, x: Stats, unit: string, digits = 0) =>
  `| ${what} | ${x.median.toFixed(digits)} ${unit} | ${x.min.toFixed(digits)} ${unit} | ${x.max.toFixed(digits)} ${unit} | ${x.runs} |`;
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const timeRatio = s.snap.median / s.floor.median;
const sizeRatio = s.ratio.median;
console.log(`snapshot: ${timeRatio.toFixed(2)}x the floor, layer ${sizeRatio.toFixed(3)}x the tarball, no change ${s.none.median.toFixed(0)} ms (sidecar ${s.noneS.median.toFixed(0)} ms)`);

writeSection(
  '## Snapshot',
  `## Snapshot: \`runbox snapshot NAME\` vs \`tar czf\` of the same paths + one monolithic blob upload

\`npm run bench\` (bench/snapshot.ts) on ${date}: ${where}.
Debian worker at the default allocation (limits ${WORKER_LIMITS}); runbox's snapshot agent runs in the sidecar, which runbox
raises in place to ${SIDECAR_WORKING.cpu} CPU while it works (memory fixed at ${SIDECAR_WORKING.memory}); registry \`${PUSH}\` as pods reach it.
Load average of the machine (shared with other work) ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end;
other environments running on the node around the samples: ${others.size ? [...others].sort().map((x) => `\`${x}\``).join(', ') : 'none'}.

Before every sample one perl process in the worker added ${SAMPLE_BYTES / MiB} MiB in new paths: ${SMALL_FILES.toLocaleString('en')} files of
256 B-48 KiB (log-uniform, seeded) in 30 folders under \`/usr/local/share/bench-N\` and ${BIG_FILES} larger ones under \`/opt/bench-N\`,
half text-like (slices of a seeded 2 MiB corpus of made-up words in lines: gzip halves it), half bytes from \`/dev/urandom\`; file count and bytes checked
with \`find\`. Every timed snapshot was checked to make the next version (\`changed\`, version +1, one more layer); runbox's
own layers are squashed past ${MAX_SNAPSHOT_LAYERS}, so ${squashes === 1 ? 'one untimed `runbox squash` ran' : `${squashes} untimed \`runbox squash\` ran`} between samples to keep squashes
out of them. One warm-up sample of each (not counted), then ${RUNS} samples each, the order of the sides alternating.

**The floor**: one \`kubectl exec POD -c sidecar -- sh -c '...'\` that runs \`tar czf\` (GNU tar, gzip's default level 6,
the level runbox's zlib uses) of only the sample's two folders, read from the worker's root through \`/proc/PID/root\`, to a
file, then one Node \`fetch\` POST \`/v2/REPO/blobs/uploads/\` and one PUT \`?digest=sha256:...\` of the whole file to the same
registry address: the same container, CPU, read path and registry as runbox's agent, but no walk, no diff against the image,
no config or manifest, no Kubernetes API. The sidecar was raised to ${SIDECAR_WORKING.cpu} CPU for it beforehand and that was waited for
until the cgroup had the quota (untimed: ${s.raise.median.toFixed(0)} ms median from the resize PATCH to the quota in the cgroup, two
kubectl commands included); runbox's time includes its own raise and lowering (which it does not wait for). The
registry was checked to hold each floor blob (HEAD, size), and the tarball to hold the sample's ${(SMALL_FILES + BIG_FILES).toLocaleString('en')} files and 32 folders.

${TABLE_HEAD}
${row('runbox snapshot NAME -o json (50 MiB of new files)', s.snap)}
${row("... of which the sidecar's own `seconds`", s.sidecarS)}
${row('floor: tar czf + POST/PUT of the blob, one kubectl exec', s.floor)}
${row('... of which tar czf', s.tar)}
${row('... of which node start + sha256 + POST + PUT', s.push)}
${row('kubectl exec POD -c sidecar -- true (warm)', s.exec)}
${row('floor: node -e 0 (Node start-up)', s.node)}

Ratio runbox snapshot / floor: **${timeRatio.toFixed(2)}** (goal: <= 1.5, ${verdict(timeRatio <= 1.5)}).

**Layer size** (\`layerBytes\` of the answer, gzip'd) against the floor's tarball of the same paths, per sample:

| | median | min | max | runs |
|---|---|---|---|---|
${unitRow('runbox layer', s.layer, 'MiB', 2)}
${unitRow('floor tar.gz', s.tgz, 'MiB', 2)}
${unitRow('layer / tar.gz', s.ratio, 'x', 3)}

Layer / tarball: **${sizeRatio.toFixed(3)}** (goal: <= 1.05, ${verdict(sizeRatio <= 1.05)}).

**No change**: \`runbox snapshot NAME\` right after a snapshot that made a version, nothing changed in between (each checked
\`changed: false\`); the walk compares ${Math.min(...noneFiles).toLocaleString('en')} to ${Math.max(...noneFiles).toLocaleString('en')} entries with the image's index
(the samples' files stay: ${(SMALL_FILES + BIG_FILES + 32).toLocaleString('en')} entries more per sample).

${TABLE_HEAD}
${row('runbox snapshot NAME, no change (wall)', s.none)}
${row("... the sidecar's own `seconds`", s.noneS)}
${unitRow('... sidecar CPU time (cpuacct.usage, as below)', s.noneCpu, 'ms')}
${row(`the same ${SETTLE_MS / 1000} s later, still no change (wall)`, s.settled)}
${row("... the sidecar's own `seconds`", s.settledS)}

No-change snapshot right after one: **${(s.none.median / 1000).toFixed(2)} s** wall, **${(s.noneS.median / 1000).toFixed(2)} s** in the sidecar (goal: < 1 s, ${verdict(s.none.median < 1000)} for the wall time, ${verdict(s.noneS.median < 1000)} for the sidecar's).
${SETTLE_MS / 1000} s later: **${(s.settled.median / 1000).toFixed(2)} s** wall (${verdict(s.settled.median < 1000)}). Right after a snapshot, the sidecar's raise waits for the kubelet,
which applies a pod's next resize only a second or two after its last (the lowering that ended the snapshot before).

**What it costs the sidecar** (its container's cgroup, read with \`kubectl exec POD -c sidecar -- cat\`): CPU time is
\`cpuacct.usage\` after the command minus before it (the sidecar's server included); peak memory is \`memory.max_usage_in_bytes\`
(page cache included), ${PEAK_RESET ? `reset before each sample ${PEAK_RESET.how}` : '**not reset** (not permitted): the peak since the container started'}.
The floor's peak includes its 50 MiB tarball in the page cache and Node reading it whole.

| | median | min | max | runs |
|---|---|---|---|---|
${unitRow('runbox snapshot: sidecar CPU time', s.snapCpu, 'ms')}
${unitRow('floor: sidecar CPU time', s.floorCpu, 'ms')}
${unitRow("runbox snapshot: sidecar CPU time / the sidecar's `seconds`", s.snapUse, 'CPU', 2)}
${unitRow('runbox snapshot: sidecar peak memory', s.snapPeak, 'MiB')}
${unitRow('floor: sidecar peak memory', s.floorPeak, 'MiB')}
${unitRow('sidecar memory in use before a sample', stats([...t.snapBase, ...t.floorBase]), 'MiB')}
`,
);
process.exit(0);
