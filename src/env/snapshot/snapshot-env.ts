import { ANNOTATION } from '../../contract/names.ts';
import { snapshotRepository, type SnapshotAnswer, type SnapshotRequest } from '../../contract/snapshot.ts';
import { RunboxError } from '../../errors.ts';
import { apiError } from '../../kube/api-error.ts';
import { objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { Deployment } from '../../kube/types.ts';
import type { EnvDeps } from '../deps.ts';
import { openAgent } from '../exec/agent-session.ts';
import { SIDECAR_RESOURCES, SIDECAR_WORKING, resizeSidecar } from '../lifecycle/sidecar.ts';
import { latestRecord, snapshotRecords, withRecord } from './records.ts';

/*
 * A snapshot of a running environment: the sidecar's snapshot agent commits
 * the worker's root-filesystem changes as a new image version in the
 * environment's repository; the version is recorded on the Deployment. The
 * new image is only put into the pod template while no pod runs (see
 * lifecycle/stop.ts and wake.ts), never by restarting a busy pod.
 */

export interface SnapshotRegistry {
  /** As the sidecar reaches it. */
  push: string;
  /** As the nodes pull from it. */
  pull: string;
}

export interface SnapshotEnvRequest {
  dep: Deployment;
  pod: string;
  registry: SnapshotRegistry;
  commands: string[];
  squash: boolean;
  /** What the sidecar gets while it works (default SIDECAR_WORKING: a whole CPU); 'given': the caller raised it already. */
  working?: { cpu: string; memory: string } | 'given' | undefined;
}

export async function snapshotEnv(deps: EnvDeps, req: SnapshotEnvRequest): Promise<SnapshotAnswer> {
  const name = req.dep.metadata?.name ?? '';
  const records = snapshotRecords(req.dep);
  const latest = latestRecord(records);
  const base = req.dep.metadata?.annotations?.[ANNOTATION.image] ?? '';
  const request: SnapshotRequest = {
    op: 'snapshot',
    push: req.registry.push,
    pull: req.registry.pull,
    repository: snapshotRepository(deps.kube.namespace, name),
    parent: latest ? { image: latest.image, version: latest.version } : { image: base, version: 0 },
    base,
    commands: req.commands,
    squash: req.squash,
  };
  deps.progress.step(`snapshotting ${name}`);
  // gzip of a root filesystem wants CPU: the sidecar gets it only while it works.
  const boosted = req.working === 'given' ? false : await resizeSidecar(deps.kube, req.pod, req.working ?? SIDECAR_WORKING);
  let answer: SnapshotAnswer;
  try {
    answer = await ask(deps, name, req.pod, request);
  } finally {
    if (boosted) await resizeSidecar(deps.kube, req.pod, SIDECAR_RESOURCES);
  }
  if (answer.changed) {
    try {
      await callJson(deps.kube, {
        method: 'PATCH',
        path: objectPath('deployments', deps.kube.namespace, name),
        body: { metadata: { annotations: { [ANNOTATION.snapshots]: JSON.stringify(withRecord(records, answer.record)) } } },
        contentType: PATCH.merge,
      });
    } catch (err) {
      throw apiError(err, `recording snapshot v${answer.record.version} of ${name}`, deps.kube.server);
    }
  }
  return answer;
}

async function ask(deps: EnvDeps, name: string, pod: string, request: SnapshotRequest): Promise<SnapshotAnswer> {
  const agent = openAgent(deps, { env: name, pod, agent: ['snapshot'] });
  let answer: SnapshotAnswer & { error?: string };
  try {
    await agent.chan.sendJson(request);
    answer = await agent.chan.nextJson<SnapshotAnswer & { error?: string }>();
    await agent.chan.sendJson({ op: 'bye' });
    await agent.chan.nextJson();
  } catch (err) {
    throw await agent.failed(err);
  }
  await agent.finish();
  if (answer.error) {
    throw new RunboxError(`snapshotting ${name} failed: ${answer.error}`, {
      hint: `the previous version stays; to stop without a snapshot: runbox stop --no-snapshot ${name}`,
    });
  }
  return answer;
}

