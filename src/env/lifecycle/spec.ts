import {
  ANNOTATION,
  DATA_PATH,
  ENV_VARIABLE,
  LABEL_ENV,
  LABEL_MANAGED_BY,
  LABEL_OWNER,
  MANAGED_BY,
  WORKER,
  volumeClaimName,
} from '../../contract/names.ts';
import { WORKER_IDLE_COMMAND } from '../../contract/sidecar.ts';
import type { Deployment, PersistentVolumeClaim } from '../../kube/types.ts';
import { resourcesFor } from '../resize/allocation.ts';
import { sidecarSpec, sidecarStamp, type SidecarSource } from './sidecar.ts';

export interface EnvSpec {
  name: string;
  namespace: string;
  image: string;
  sidecar: SidecarSource;
  allocation: number;
  volumeSize: string;
  storageClass?: string | undefined;
  nodeSelector: Record<string, string>;
  gpus: number;
  owner: { user: string; label: string };
  /** The idle policy, where the environment has its own (durations such as 90s, 5m, 1h, or never). */
  idle?: { dozeAfter?: string | undefined; sleepAfter?: string | undefined; boostFallback?: string | undefined } | undefined;
}

function labels(spec: EnvSpec): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ENV]: spec.name, [LABEL_OWNER]: spec.owner.label };
}

export function volumeClaim(spec: EnvSpec): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: volumeClaimName(spec.name),
      namespace: spec.namespace,
      labels: labels(spec),
      annotations: { [ANNOTATION.owner]: spec.owner.user },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: spec.volumeSize } },
      ...(spec.storageClass ? { storageClassName: spec.storageClass } : {}),
    },
  };
}

export function deployment(spec: EnvSpec, now: Date): Deployment {
  const res = resourcesFor(spec.allocation);
  const workerLimits: Record<string, string> = { ...res };
  if (spec.gpus > 0) workerLimits['nvidia.com/gpu'] = String(spec.gpus);
  const sidecar = sidecarSpec(spec.sidecar);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: spec.name,
      namespace: spec.namespace,
      labels: labels(spec),
      annotations: {
        [ANNOTATION.owner]: spec.owner.user,
        [ANNOTATION.image]: spec.image,
        [ANNOTATION.allocation]: String(spec.allocation),
        [ANNOTATION.resources]: JSON.stringify(res),
        [ANNOTATION.baseline]: JSON.stringify({ units: spec.allocation, resources: res }),
        [ANNOTATION.lastActivity]: now.toISOString(),
        ...(spec.idle?.dozeAfter ? { [ANNOTATION.dozeAfter]: spec.idle.dozeAfter } : {}),
        ...(spec.idle?.sleepAfter ? { [ANNOTATION.sleepAfter]: spec.idle.sleepAfter } : {}),
        ...(spec.idle?.boostFallback ? { [ANNOTATION.boostFallback]: spec.idle.boostFallback } : {}),
      },
    },
    spec: {
      replicas: 1,
      // A ReadWriteOnce volume cannot attach to two pods at once.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { [LABEL_ENV]: spec.name } },
      template: {
        metadata: { labels: labels(spec), annotations: { [ANNOTATION.sidecar]: sidecarStamp(spec.sidecar) } },
        spec: {
          hostname: spec.name,
          // The sidecar sees the worker's processes (activity) and root filesystem (snapshots).
          shareProcessNamespace: true,
          terminationGracePeriodSeconds: 5,
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          ...(Object.keys(spec.nodeSelector).length > 0 ? { nodeSelector: spec.nodeSelector } : {}),
          containers: [
            {
              name: WORKER,
              image: spec.image,
              command: [...WORKER_IDLE_COMMAND],
              env: [{ name: ENV_VARIABLE, value: spec.name }],
              resources: { requests: { ...res }, limits: workerLimits },
              resizePolicy: [
                { resourceName: 'cpu', restartPolicy: 'NotRequired' },
                { resourceName: 'memory', restartPolicy: 'NotRequired' },
              ],
              volumeMounts: [{ name: 'data', mountPath: DATA_PATH }],
            },
            {
              ...sidecar.container,
              volumeMounts: [{ name: 'data', mountPath: DATA_PATH }, ...(sidecar.container.volumeMounts ?? [])],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: volumeClaimName(spec.name) } }, ...sidecar.volumes],
        },
      },
    },
  };
}
