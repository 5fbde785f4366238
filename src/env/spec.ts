import type { V1Deployment, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { resourcesFor } from './allocation.ts';
import {
  ANNOTATION,
  DATA_PATH,
  LABEL_ENV,
  LABEL_MANAGED_BY,
  LABEL_OWNER,
  MANAGED_BY,
  SIDECAR,
  WORKER,
  volumeClaimName,
} from './names.ts';

export interface EnvSpec {
  name: string;
  namespace: string;
  image: string;
  sidecarImage: string;
  allocation: number;
  volumeSize: string;
  storageClass?: string | undefined;
  nodeSelector: Record<string, string>;
  gpus: number;
  owner: { user: string; label: string };
}

export const SIDECAR_PORT = 7717;

function labels(spec: EnvSpec): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_ENV]: spec.name, [LABEL_OWNER]: spec.owner.label };
}

export function volumeClaim(spec: EnvSpec): V1PersistentVolumeClaim {
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

export function deployment(spec: EnvSpec, now: Date): V1Deployment {
  const res = resourcesFor(spec.allocation);
  const workerLimits: Record<string, string> = { ...res };
  if (spec.gpus > 0) workerLimits['nvidia.com/gpu'] = String(spec.gpus);
  const sidecarRes = { cpu: '50m', memory: '96Mi' };
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
        [ANNOTATION.lastActivity]: now.toISOString(),
      },
    },
    spec: {
      replicas: 1,
      // A ReadWriteOnce volume cannot attach to two pods at once.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { [LABEL_ENV]: spec.name } },
      template: {
        metadata: { labels: labels(spec) },
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
              command: ['/bin/sh', '-c', 'exec sleep 2147483647'],
              env: [{ name: 'RUNBOX_ENV', value: spec.name }],
              resources: { requests: { ...res }, limits: workerLimits },
              resizePolicy: [
                { resourceName: 'cpu', restartPolicy: 'NotRequired' },
                { resourceName: 'memory', restartPolicy: 'NotRequired' },
              ],
              volumeMounts: [{ name: 'data', mountPath: DATA_PATH }],
            },
            {
              name: SIDECAR,
              image: spec.sidecarImage,
              env: [{ name: 'RUNBOX_SIDECAR_PORT', value: String(SIDECAR_PORT) }],
              resources: { requests: sidecarRes, limits: sidecarRes },
              readinessProbe: {
                httpGet: { path: '/healthz', port: SIDECAR_PORT },
                periodSeconds: 2,
                failureThreshold: 3,
              },
              volumeMounts: [{ name: 'data', mountPath: DATA_PATH }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: volumeClaimName(spec.name) } }],
        },
      },
    },
  };
}
