import { setTimeout as sleep } from 'node:timers/promises';
import { ANNOTATION } from '../../contract/names.ts';
import { objectPath } from '../../kube/paths.ts';
import { requestJson } from '../../kube/rest.ts';
import type { Deployment } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';

const POLL_MS = 500;

/**
 * After a drain refusal: waits (at most `maxMs`) until the sleep that refused
 * the command is over, with no replica left and its idle record written last,
 * so that the wake that follows is not undone by the rest of that sleep. A
 * sleep called off (its snapshot failed) drops the drain flag instead: the
 * caller simply tries again after `maxMs`.
 */
export async function waitUntilAsleep(deps: EnvDeps, name: string, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    await sleep(POLL_MS, undefined, { signal: deps.signal });
    const res = await requestJson(deps.kube, { method: 'GET', path: objectPath('deployments', deps.kube.namespace, name) }).catch(() => undefined);
    const dep = res?.status === 200 ? (res.body as Deployment) : undefined;
    if (dep && (dep.spec?.replicas ?? 1) === 0 && !dep.status?.replicas && dep.metadata?.annotations?.[ANNOTATION.idle]) return;
  }
}
