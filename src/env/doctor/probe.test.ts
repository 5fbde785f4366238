import { describe, expect, it } from 'vitest';
import type { Pod } from '../../kube/types.ts';
import { checkLine } from './checks.ts';
import { nodeImageCheck, probeDecision, probeDeployment, probePodsQuery } from './probe.ts';

type Status = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];
const container = (state: Status['state'], extra: Partial<Status> = {}): Status => ({
  name: 'node', image: 'node:24', imageID: '', ready: false, restartCount: 0, state, ...extra,
});
const pod = (status: Pod['status'], deleting = false): Pod => ({
  metadata: { name: 'runbox-doctor-abc123-x', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  spec: { nodeName: 'node-1', containers: [{ name: 'node', image: 'node:24' }] },
  status,
});

describe('probeDeployment', () => {
  it('is one small container idling in node, selected by this run only', () => {
    const d = probeDeployment('abc123', 'node:24-slim');
    expect(d.metadata).toEqual({
      name: 'runbox-doctor-abc123',
      labels: { 'app.kubernetes.io/managed-by': 'runbox', 'runbox.dev/doctor': 'true' },
    });
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.selector.matchLabels).toEqual({ 'runbox.dev/doctor-run': 'abc123' });
    expect(d.spec?.template.metadata?.labels).toMatchObject(d.spec!.selector.matchLabels!);
    expect(probePodsQuery('abc123')).toEqual({ labelSelector: 'runbox.dev/doctor-run=abc123' });
    const spec = d.spec?.template.spec;
    expect(spec).toMatchObject({ terminationGracePeriodSeconds: 0, automountServiceAccountToken: false });
    expect(spec?.containers).toEqual([
      {
        name: 'node',
        image: 'node:24-slim',
        command: ['node', '-e', 'setTimeout(()=>{},600000)'],
        resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '10m', memory: '32Mi' } },
      },
    ]);
  });
});

describe('probeDecision', () => {
  it.each([
    ['no status yet', pod(undefined)],
    ['being created', pod({ containerStatuses: [container({ waiting: { reason: 'ContainerCreating' } })] })],
    ['pending on a volume', pod({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'pvc not bound' }] })],
    ['running but being deleted', pod({ containerStatuses: [container({ running: {} })] }, true)],
  ])('waits while %s', (_, p) => {
    expect(probeDecision('ADDED', p)).toBeUndefined();
  });

  it('ignores a deleted pod', () => {
    expect(probeDecision('DELETED', pod({ containerStatuses: [container({ running: {} })] }))).toBeUndefined();
  });

  it('is done when node runs, naming the node', () => {
    expect(probeDecision('MODIFIED', pod({ containerStatuses: [container({ running: {} })] }))).toEqual({ done: { kind: 'runs', node: 'node-1' } });
  });

  it.each(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])('%s: cannot be pulled, with the kubelet message', (reason) => {
    const d = probeDecision('MODIFIED', pod({ containerStatuses: [container({ waiting: { reason, message: 'not found' } })] }));
    expect(d).toEqual({ done: { kind: 'cannot-pull', reason, message: 'not found' } });
  });

  it('a container that cannot start: cannot run', () => {
    const d = probeDecision('MODIFIED', pod({ containerStatuses: [container({ waiting: { reason: 'RunContainerError', message: 'exec: "node": not found' } })] }));
    expect(d).toEqual({ done: { kind: 'cannot-run', reason: 'RunContainerError', message: 'exec: "node": not found' } });
    const exited = probeDecision('MODIFIED', pod({ containerStatuses: [container({ terminated: { exitCode: 127, reason: 'Error' } })] }));
    expect(exited).toEqual({ done: { kind: 'cannot-run', reason: 'Error', message: 'Error' } });
  });

  it('no node with room: unschedulable at once', () => {
    const message = '0/1 nodes are available: 1 Insufficient cpu.';
    const d = probeDecision('ADDED', pod({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] }));
    expect(d).toEqual({ done: { kind: 'unschedulable', message } });
  });
});

describe('nodeImageCheck', () => {
  it('passes naming image and node', () => {
    expect(checkLine(nodeImageCheck('node:24-slim', { kind: 'runs', node: 'n1' }))).toBe('✓ Node image node:24-slim runs on node n1');
  });

  it('an image the nodes cannot pull fails with the kubelet message and what to set', () => {
    expect(checkLine(nodeImageCheck('node:24-slim', { kind: 'cannot-pull', reason: 'ErrImagePull', message: 'dial tcp: i/o timeout' }))).toBe(
      '✗ Node image node:24-slim cannot be pulled (ErrImagePull): dial tcp: i/o timeout — ' +
        'set a Node 24 image the nodes can pull: runbox config set node-image IMAGE --cluster',
    );
  });
});
