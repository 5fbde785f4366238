import type { Pod as V1Pod } from '../../kube/types.ts';
import { describe, expect, it } from 'vitest';
import { resizeProgress } from './resources-state.ts';

const target = { cpu: '250m', memory: '256Mi' };
const pod = (conditions: { type: string; status: string; reason?: string; message?: string }[], limits: Record<string, string>): V1Pod => ({
  status: {
    conditions,
    containerStatuses: [{ name: 'worker', image: '', imageID: '', ready: true, restartCount: 0, resources: { limits } }],
  },
});

describe('resizeProgress', () => {
  it('is applied when the container status shows the new limits and nothing is pending', () => {
    expect(resizeProgress(pod([], { cpu: '250m', memory: '268435456' }), target)).toEqual({ kind: 'applied' });
  });

  it('waits while the kubelet is still at it', () => {
    expect(resizeProgress(pod([{ type: 'PodResizeInProgress', status: 'True' }], { cpu: '250m', memory: '256Mi' }), target).kind).toBe('waiting');
    expect(resizeProgress(pod([], { cpu: '125m', memory: '128Mi' }), target).kind).toBe('waiting');
  });

  it('reports Infeasible and Deferred with the kubelet message', () => {
    const infeasible = pod([{ type: 'PodResizePending', status: 'True', reason: 'Infeasible', message: 'Node didn\'t have enough capacity: cpu' }], {});
    expect(resizeProgress(infeasible, target)).toEqual({ kind: 'refused', reason: 'Infeasible', message: "Node didn't have enough capacity: cpu" });
    const deferred = pod([{ type: 'PodResizePending', status: 'True', reason: 'Deferred' }], {});
    expect(resizeProgress(deferred, target).kind).toBe('refused');
  });
});
