import type { Deployment as V1Deployment, Pod as V1Pod } from '../../kube/types.ts';
import { describe, expect, it } from 'vitest';
import { summarize, unschedulable } from './status.ts';

const dep = (replicas: number): V1Deployment => ({
  metadata: {
    name: 'myrb',
    namespace: 'ns',
    annotations: { 'runbox.dev/image': 'debian', 'runbox.dev/allocation': '2', 'runbox.dev/owner': 'jane' },
    creationTimestamp: new Date('2026-01-01T00:00:00Z'),
  },
  spec: { replicas, selector: {}, template: {} },
});

const pod = (status: V1Pod['status'], deleting = false): V1Pod => ({
  metadata: { name: 'myrb-1', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status,
});

const worker = (state: 'running' | 'waiting') => ({
  name: 'worker', image: 'x', imageID: '', ready: state === 'running', restartCount: 0,
  state: state === 'running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } },
});
const ready = pod({ conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [worker('running')] });
// The worker runs while the sidecar's readiness probe has not passed yet: commands run already.
const workerOnly = pod({ conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [worker('running')] });
const pulling = pod({
  conditions: [{ type: 'Ready', status: 'False' }],
  containerStatuses: [{ name: 'worker', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
});
const badImage = pod({
  containerStatuses: [{ name: 'worker', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } }],
});

describe('summarize', () => {
  it.each([
    ['sleeping', dep(0), []],
    ['sleeping', dep(0), [ready]],
    ['running', dep(1), [ready]],
    ['running', dep(1), [workerOnly]],
    ['starting', dep(1), []],
    ['starting', dep(1), [pulling]],
    ['starting', dep(1), [pod({ conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [worker('running')] }, true)]],
    ['failing', dep(1), [badImage]],
  ] as const)('is %s', (state, d, pods) => {
    expect(summarize(d, [...pods]).state).toBe(state);
  });

  it('reads image, allocation and owner from the annotations', () => {
    expect(summarize(dep(1), [ready])).toMatchObject({ image: 'debian', allocation: 2, owner: 'jane', pod: 'myrb-1' });
  });

  it('explains a failing environment', () => {
    expect(summarize(dep(1), [badImage]).reason).toBe('ImagePullBackOff: not found');
  });
});

describe('unschedulable', () => {
  const scheduled = (reason: string, message: string) =>
    pod({ conditions: [{ type: 'PodScheduled', status: 'False', reason, message }] });
  it.each([
    ['0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available', true],
    ["0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", true],
    ['0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found', false],
  ])('%s -> %s', (message, fails) => {
    expect(unschedulable(scheduled('Unschedulable', message)) !== undefined).toBe(fails);
  });
  it('is not said of a scheduled pod', () => {
    expect(unschedulable(ready)).toBeUndefined();
  });
});
