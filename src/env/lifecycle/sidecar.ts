import { ANNOTATION, LABEL_MANAGED_BY, MANAGED_BY, SIDECAR } from '../../contract/names.ts';
import {
  SIDECAR_BUNDLE_FILE,
  SIDECAR_ENDPOINT,
  SIDECAR_MOUNT,
  SIDECAR_PORT,
  SIDECAR_PORT_VARIABLE,
  REGISTRY_CREDENTIALS_MOUNT,
  sidecarConfigMapName,
} from '../../contract/sidecar.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath } from '../../kube/paths.ts';
import { PATCH, requestJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { Container, Deployment, Volume } from '../../kube/types.ts';

/*
 * How the sidecar reaches a pod: by default its bundle, stored once per
 * namespace in a content-addressed ConfigMap and run on a stock Node image,
 * so the CLI and its sidecar are always the same version and nobody builds an
 * image; or a team's own sidecar image.
 */

export type SidecarSource = (
  | { kind: 'bundle'; hash: string; content: string; nodeImage: string }
  | { kind: 'image'; image: string }
) & {
  /** A Secret of type kubernetes.io/dockerconfigjson with the snapshot registry's credentials, mounted into the sidecar only. */
  registrySecret?: string | undefined;
};

const VOLUME = 'runbox-sidecar';
const CREDENTIALS_VOLUME = 'runbox-registry-credentials';
/**
 * The sidecar's size. Only its CPU changes in place, up while it works (a
 * sync, a snapshot) and back afterwards. Its memory stays put: the kubelet
 * refuses to lower a limit below the container's usage, and usage counts the
 * page cache of every file the agent wrote, so a memory boost could never be
 * taken back. 256Mi holds the server (~45 MB), one agent and its page cache.
 */
const SIDECAR_MEMORY = '256Mi';
export const SIDECAR_RESOURCES = { cpu: '50m', memory: SIDECAR_MEMORY };
/** The sidecar at work (a sync): given in place only while it works. */
export const SIDECAR_WORKING = { cpu: '1', memory: SIDECAR_MEMORY };
/** The sidecar between the rounds of a `sync --watch`: its agent holds an inotify watch of the folder. */
export const SIDECAR_WATCHING = { cpu: '250m', memory: SIDECAR_MEMORY };

/** The sidecar container and its volume for a pod template. */
export function sidecarSpec(source: SidecarSource): { container: Container; volumes: Volume[] } {
  const common = {
    name: SIDECAR,
    env: [{ name: SIDECAR_PORT_VARIABLE, value: String(SIDECAR_PORT) }],
    resources: { requests: SIDECAR_RESOURCES, limits: SIDECAR_RESOURCES },
    readinessProbe: { httpGet: { path: SIDECAR_ENDPOINT.health, port: SIDECAR_PORT }, periodSeconds: 2, failureThreshold: 3 },
  };
  // The credentials are the sidecar's alone: the worker runs the user's code and never sees them.
  const secret = source.registrySecret
    ? {
        mounts: [{ name: CREDENTIALS_VOLUME, mountPath: REGISTRY_CREDENTIALS_MOUNT, readOnly: true }],
        volumes: [{ name: CREDENTIALS_VOLUME, secret: { secretName: source.registrySecret, optional: true, defaultMode: 0o400 } }],
      }
    : { mounts: [], volumes: [] };
  if (source.kind === 'image') {
    return { container: { ...common, image: source.image, ...(secret.mounts.length ? { volumeMounts: secret.mounts } : {}) }, volumes: secret.volumes };
  }
  return {
    container: {
      ...common,
      image: source.nodeImage,
      command: ['node', `${SIDECAR_MOUNT}/${SIDECAR_BUNDLE_FILE}`],
      volumeMounts: [{ name: VOLUME, mountPath: SIDECAR_MOUNT, readOnly: true }, ...secret.mounts],
    },
    volumes: [{ name: VOLUME, configMap: { name: sidecarConfigMapName(source.hash), defaultMode: 0o444 } }, ...secret.volumes],
  };
}

/** What a template records of its sidecar, so a wake can tell it is out of date. */
export const sidecarStamp = (source: SidecarSource): string =>
  `${source.kind === 'bundle' ? `${source.hash}@${source.nodeImage}` : source.image}${source.registrySecret ? `+${source.registrySecret}` : ''}`;

export const templateSidecarStamp = (dep: Deployment): string | undefined =>
  dep.spec?.template?.metadata?.annotations?.[ANNOTATION.sidecar];

/** Stores the bundle in its ConfigMap unless it is there already; never changes one. */
export async function ensureSidecarBundle(kube: KubeTarget, source: SidecarSource): Promise<void> {
  if (source.kind !== 'bundle') return;
  const name = sidecarConfigMapName(source.hash);
  try {
    const existing = await requestJson(kube, { method: 'GET', path: objectPath('configmaps', kube.namespace, name) });
    if (existing.status === 200) return;
    const created = await requestJson(kube, {
      method: 'POST',
      path: collectionPath('configmaps', kube.namespace),
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
        immutable: true,
        data: { [SIDECAR_BUNDLE_FILE]: source.content },
      },
    });
    // 409: another runbox created it meanwhile, with the same content (the name is its hash).
    if (created.status >= 300 && created.status !== 409) {
      throw Object.assign(new Error(`HTTP ${created.status}`), { code: created.status, body: created.body });
    }
  } catch (err) {
    throw apiError(err, `storing the sidecar in ConfigMap ${name}`, kube.server);
  }
}

/** The strategic-merge patch that brings a template's sidecar up to date. */
export function sidecarPatch(source: SidecarSource): object {
  const { container, volumes } = sidecarSpec(source);
  return {
    metadata: { annotations: { [ANNOTATION.sidecar]: sidecarStamp(source) } },
    spec: { containers: [container], ...(volumes.length > 0 ? { volumes } : {}) },
  };
}

/**
 * Resizes the sidecar in place (requests = limits, so the pod keeps its QoS
 * class): up while it works, back afterwards. Best effort: where the cluster
 * cannot resize in place or has no room, the work runs at the resting size.
 */
export async function resizeSidecar(kube: KubeTarget, pod: string, resources: { cpu: string; memory: string }): Promise<boolean> {
  const res = await requestJson(kube, {
    method: 'PATCH',
    path: objectPath('pods', kube.namespace, pod, 'resize'),
    body: { spec: { containers: [{ name: SIDECAR, resources: { requests: resources, limits: resources } }] } },
    contentType: PATCH.strategic,
  }).catch(() => undefined);
  return res !== undefined && res.status < 300;
}
