import { CONFIG_KEYS, CONFIG_MAP, SYSTEM_NAMESPACE, type ConfigSetting } from '../../contract/config.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../contract/names.ts';
import { RunboxError } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { collectionPath, objectPath } from '../../kube/paths.ts';
import { PATCH, callJson, requestJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { ConfigMap } from '../../kube/types.ts';
import { RULES, configProblems, effectiveConfig, type EffectiveConfig, type Setting } from './settings.ts';

/** Reads the config of the namespace and of the cluster; a malformed one is an error, a missing or unreadable one is no layer. */
export async function readClusterConfig(
  kube: KubeTarget,
  overrides: Partial<Record<ConfigSetting, Setting>>,
): Promise<EffectiveConfig> {
  const [namespace, cluster] = await Promise.all([
    readLayer(kube, kube.namespace),
    kube.namespace === SYSTEM_NAMESPACE ? Promise.resolve(undefined) : readLayer(kube, SYSTEM_NAMESPACE),
  ]);
  const problems = [
    ...configProblems(namespace ?? {}, `${CONFIG_MAP} in namespace ${kube.namespace}`),
    ...configProblems(cluster ?? {}, `${CONFIG_MAP} in namespace ${SYSTEM_NAMESPACE}`),
  ];
  if (problems.length > 0) {
    throw new RunboxError(`the cluster config is malformed: ${problems.join('; ')}`, {
      hint: 'fix it with: runbox config set KEY VALUE (or kubectl edit configmap runbox-config)',
    });
  }
  return effectiveConfig({ overrides, namespace, cluster });
}

async function readLayer(kube: KubeTarget, namespace: string): Promise<Record<string, string> | undefined> {
  const res = await requestJson(kube, { method: 'GET', path: objectPath('configmaps', namespace, CONFIG_MAP) }).catch((err: unknown) => {
    throw apiError(err, `reading ${CONFIG_MAP} in namespace ${namespace}`, kube.server);
  });
  // Absent, or not readable by this user (no manifests/ applied): built-in defaults stand.
  if (res.status === 404 || res.status === 403) return undefined;
  if (res.status >= 300) throw apiError(Object.assign(new Error(`HTTP ${res.status}`), { code: res.status, body: res.body }), `reading ${CONFIG_MAP}`, kube.server);
  return (res.body as ConfigMap).data ?? {};
}

/** Writes one setting into the namespace's or the cluster's config (admins). */
export async function setClusterConfig(
  kube: KubeTarget,
  req: { setting: ConfigSetting; value: string; scope: 'namespace' | 'cluster' },
): Promise<string> {
  const problem = RULES[req.setting].check(req.value);
  if (problem) throw new RunboxError(`${CONFIG_KEYS[req.setting]} ${problem}, not "${req.value}"`);
  const namespace = req.scope === 'cluster' ? SYSTEM_NAMESPACE : kube.namespace;
  const data = { [CONFIG_KEYS[req.setting]]: req.value };
  try {
    const patched = await requestJson(kube, {
      method: 'PATCH',
      path: objectPath('configmaps', namespace, CONFIG_MAP),
      body: { data },
      contentType: PATCH.merge,
    });
    if (patched.status === 404) {
      await callJson(kube, {
        method: 'POST',
        path: collectionPath('configmaps', namespace),
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CONFIG_MAP, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } }, data },
      });
    } else if (patched.status >= 300) {
      throw Object.assign(new Error(`HTTP ${patched.status}`), { code: patched.status, body: patched.body });
    }
  } catch (err) {
    throw apiError(err, `writing ${CONFIG_MAP} in namespace ${namespace}`, kube.server);
  }
  return namespace;
}
