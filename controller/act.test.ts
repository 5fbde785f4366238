import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SidecarStatus } from '../src/contract/sidecar.ts';
import type { KubeTarget } from '../src/kube/target.ts';
import type { Deployment, Pod } from '../src/kube/types.ts';
import { dozeEnv } from './act.ts';
import type { NotApplied, SidecarClient } from './sidecar-client.ts';

/** An API server that accepts every PATCH and remembers it: the doze's steps are what is under test. */
const patches: { url: string; body: unknown }[] = [];
let server: Server;
let kube: KubeTarget;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += String(c)));
    req.on('end', () => {
      patches.push({ url: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kube = { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, namespace: 'team-a', context: 'test', tls: {}, headers: {} };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const MiB = 1024 * 1024;
const dep: Deployment = { metadata: { name: 'myrb', namespace: 'team-a' } };
const pod: Pod = { metadata: { name: 'myrb-1' }, spec: { containers: [{ name: 'worker', resources: { limits: { cpu: '125m', memory: '128Mi' } } }] } };
const idle = (worker: number): SidecarStatus => ({ busy: 0, commands: [], agents: [], memory: { worker, sidecar: 40 * MiB } });

function sidecar(answers: (true | SidecarStatus | NotApplied)[]): SidecarClient {
  return {
    status: async () => idle(0),
    drain: async () => true,
    undrain: async () => {},
    doze: async () => answers.shift() ?? true,
  };
}

const worker = (cpu: string, memory: string) => ({ spec: { containers: [{ name: 'worker', resources: { requests: { cpu, memory }, limits: { cpu, memory } } }] } });
const resizes = () => patches.filter((p) => p.url.endsWith('/resize')).map((p) => p.body);
const doze = (answers: (true | SidecarStatus | NotApplied)[], usage: number) =>
  dozeEnv(kube, sidecar(answers), { dep, pod, target: { namespace: 'team-a', pod: 'myrb-1', ip: '10.0.0.1' }, why: 'idle for 10s', now: new Date(0), status: idle(usage) });

describe('dozeEnv', () => {
  it('lowers CPU and memory in one resize where the usage fits, and says so', async () => {
    patches.length = 0;
    expect(await doze([true], 2 * MiB)).toEqual({ done: true, detail: 'worker CPU 125m -> 25m, memory 128Mi -> 32Mi (2 MiB in use)' });
    expect(resizes()).toEqual([worker('25m', '32Mi')]);
    expect(patches.at(-1)?.url).toBe('/apis/apps/v1/namespaces/team-a/deployments/myrb');
  });

  it('dozes on CPU alone when the kubelet refused the memory (the sidecar saw no new quota)', async () => {
    patches.length = 0;
    expect(await doze([{ applied: 12500 }, true], 2 * MiB)).toEqual({ done: true, detail: 'worker CPU 125m -> 25m, memory stays 128Mi (2 MiB in use)' });
    expect(resizes()).toEqual([worker('25m', '32Mi'), worker('25m', '128Mi')]);
  });

  it('keeps memory that is in use, and gives everything back when something starts', async () => {
    patches.length = 0;
    const busy: SidecarStatus = { busy: 1, commands: ['make'], agents: [] };
    expect(await doze([busy], 100 * MiB)).toEqual({ done: false, busy });
    expect(resizes()).toEqual([worker('25m', '128Mi'), worker('125m', '128Mi')]);
  });

  it('fails, with the worker given back, when not even the CPU shrink is applied', async () => {
    patches.length = 0;
    const r = await doze([{ applied: 12500 }], 100 * MiB);
    expect(r.done).toBe(false);
    expect('failed' in r && r.failed.message).toMatch(/CPU quota stayed 12500/);
    expect(resizes()).toEqual([worker('25m', '128Mi'), worker('125m', '128Mi')]);
  });

  it('starts from the recorded allocation where an earlier attempt left the pod shrunk', async () => {
    patches.length = 0;
    const shrunk: Pod = { metadata: { name: 'myrb-1' }, spec: { containers: [{ name: 'worker', resources: { limits: { cpu: '25m', memory: '32Mi' } } }] } };
    const recorded: Deployment = { metadata: { name: 'myrb', namespace: 'team-a', annotations: { 'runbox.dev/resources': '{"cpu":"125m","memory":"128Mi"}' } } };
    const target = { namespace: 'team-a', pod: 'myrb-1', ip: '10.0.0.1' };
    const busy: SidecarStatus = { busy: 1, commands: ['make'], agents: [] };
    expect(await dozeEnv(kube, sidecar([busy]), { dep: recorded, pod: shrunk, target, why: 'idle', now: new Date(0), status: idle(100 * MiB) })).toEqual({ done: false, busy });
    expect(resizes().at(-1)).toEqual(worker('125m', '128Mi'));
    expect(await dozeEnv(kube, sidecar([true]), { dep: recorded, pod: shrunk, target, why: 'idle', now: new Date(0), status: idle(MiB) })).toEqual({
      done: true,
      detail: 'worker CPU 125m -> 25m, memory 128Mi -> 32Mi (1 MiB in use)',
    });
  });
});
