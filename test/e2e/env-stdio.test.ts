import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kube } from './support/cluster.ts';
import { execCapture } from './support/capture.ts';
import { BUSYBOX, createNamespace, deleteNamespace, devCluster } from './support/cluster.ts';
import { RUNBOX, laptopEnv, runProgram, runbox, startRunbox } from './support/cli.ts';

// Bulk data through the exec stream, both ways, with flow control holding the
// CLI's memory down.

let kube: Kube;
let ns: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  kube = await devCluster();
  ns = await createNamespace(kube, 'e2e-stdio');
  env = laptopEnv();
  const r = await runbox(['-n', ns, 'create', 'pipes', '--image', BUSYBOX, '-a', '4'], { env });
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (kube && ns) await deleteNamespace(kube, ns);
});

describe('metering after create', () => {
  it('meters the allocation the environment was created with', async () => {
    const r = await runbox(['-n', ns, '-u', 'pipes', 'true'], { env });
    const m = /^Capacity used: ([\d.]+) units \((\d+) ms\)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo((4 * Number(m![2])) / 100, 0);
  });
});

describe('stdin and stdout streaming', () => {
  it('pipes 50 MB of random bytes through sha256sum', async () => {
    const data = randomBytes(50 * 1024 * 1024);
    const local = createHash('sha256').update(data).digest('hex');
    const r = await runbox(['-n', ns, 'pipes', 'sha256sum'], { env, input: data });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${local}  -\n`);
  });

  it.each(['a new laptop (pod looked up)', 'a warm laptop (pod remembered)'])(
    'streams 200 MB to stdout with the CLI under 150 MB of memory, from %s',
    async (which) => {
      const laptop = which.startsWith('a new') ? laptopEnv() : env;
      // GNU time reports the CLI's peak RSS (KiB) on stderr's last line.
      const script = `/usr/bin/time -f '%M' "$0" "${RUNBOX}" -n ${ns} pipes head -c 200000000 /dev/zero | wc -c`;
      const r = await runProgram('/bin/sh', ['-c', script, process.execPath], { env: laptop });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('200000000');
      const peakKiB = Number(r.stderr.trim().split('\n').pop());
      console.log(`runbox peak RSS while streaming 200 MB from ${which}: ${Math.round(peakKiB / 1024)} MiB`);
      expect(peakKiB).toBeGreaterThan(0);
      expect(peakKiB).toBeLessThan(150 * 1024);
    },
  );
});

describe('the sidecar', () => {
  it("sees the worker's processes and reports what runs", async () => {
    const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=pipes' });
    const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp)!.metadata!.name!;
    const read = `fetch('http://127.0.0.1:7717/status').then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const inNs = await devCluster(ns);
    const status = async () => JSON.parse((await execCapture(inNs, pod, 'sidecar', ['node', '-e', read])).stdout) as { lastBusy: string };
    const before = await status();
    expect(before).toEqual({ busy: 0, commands: [], agents: [], lastBusy: expect.any(String), memory: { worker: expect.any(Number), sidecar: expect.any(Number) } });
    // Memory in use as the kubelet counts it (the idle controller lowers a dozing worker's limit only above it).
    const { memory } = before as unknown as { memory: { worker: number; sidecar: number } };
    expect(memory.worker).toBeGreaterThan(0);
    expect(memory.sidecar).toBeGreaterThan(10 * 1024 * 1024);
    const running = startRunbox(['-n', ns, 'pipes', 'sh', '-c', 'echo started; exec sleep 7'], { env });
    await running.output(/started/);
    expect(await status()).toMatchObject({ busy: 1, commands: ['sleep 7'], agents: [] });
    expect((await running.done).code).toBe(0);
    const after = await status();
    expect(after).toMatchObject({ busy: 0, commands: [], agents: [] });
    // When the pod was last busy moved on: the idle controller counts idle time from it.
    expect(Date.parse(after.lastBusy)).toBeGreaterThan(Date.parse(before.lastBusy) + 5_000);
  });
});

describe('a pod lost mid-command', () => {
  it('says why the command died, keeps its exit code, and the next command gets a new pod', async () => {
    const running = startRunbox(['-n', ns, 'pipes', 'sh', '-c', 'echo started; sleep 60; echo finished'], { env });
    await running.output(/started/);
    const pods = await kube.core.listNamespacedPod({ namespace: ns, labelSelector: 'runbox.dev/env=pipes' });
    const pod = pods.items.find((p) => !p.metadata?.deletionTimestamp)!.metadata!.name!;
    await kube.core.deleteNamespacedPod({ name: pod, namespace: ns, gracePeriodSeconds: 1 });
    const r = await running.done;
    expect(r.stdout).toBe('started\n');
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(new RegExp(`^runbox: the command was killed \\(exit 137\\) because pod ${pod} of pipes is being deleted`));
    const next = await runbox(['-n', ns, 'pipes', 'hostname'], { env });
    expect(next).toEqual({ code: 0, stdout: 'pipes\n', stderr: '' });
  });
});
