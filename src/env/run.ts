import type { Readable, Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { RunboxError } from '../errors.ts';
import { connectKube, type Kube } from '../kube/client.ts';
import { ExecUpgradeError, execInPod, type Terminal } from '../kube/exec-socket.ts';
import { resolveFast } from '../kube/kubeconfig-fast.ts';
import { requestJson } from '../kube/rest.ts';
import type { KubeTarget } from '../kube/target.ts';
import type { EnvDeps } from './deps.ts';
import { assertOwner, whoAmI } from './identity.ts';
import { envPods, readEnv } from './lookup.ts';
import { ANNOTATION, WORKER } from './names.ts';
import { cacheKey, readEntry, rememberPod, writeEntry } from './pod-cache.ts';
import { setReplicas, sleepEnv } from './scale.ts';
import { commandInState, shellInState } from './shell-state.ts';
import { isPodReady } from './status.ts';
import { waitReady } from './wait-ready.ts';

/** Last activity is written to the cluster at most this often (it feeds minutes-long idle timeouts). */
const ACTIVITY_INTERVAL_MS = 60_000;

export interface RunRequest {
  name: string;
  /** The command, exactly as the user typed it; ignored for a shell. */
  argv: string[];
  /** Run an interactive shell instead of argv (TERM to give it). */
  shell?: { term: string } | undefined;
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  terminal?: Terminal | undefined;
  /** Scale the environment to zero afterwards. */
  kill: boolean;
  anyOwner: boolean;
  wakeTimeoutMs: number;
}

/**
 * Runs a command in the environment and resolves to its exit code. The warm
 * path goes straight to the exec upgrade on the remembered pod, with no API
 * lookups; only when that pod is gone does it look the environment up, wake
 * it if it sleeps, and try once more.
 */
export async function runInEnv(deps: EnvDeps, req: RunRequest): Promise<number> {
  const command = req.shell ? shellInState(req.shell.term) : commandInState(req.argv);
  let kube: Kube | undefined;
  let target: KubeTarget | undefined = resolveFast(deps.sel, deps.env);
  if (!target) {
    kube = await connectKube(deps.sel, deps.env);
    target = kube.target;
  }
  const exec = (t: KubeTarget, pod: string) =>
    execInPod({
      target: t,
      pod,
      container: WORKER,
      command,
      stdin: req.stdin,
      stdout: req.stdout,
      stderr: req.stderr,
      terminal: req.terminal,
      signal: deps.signal,
    });

  const key = cacheKey(target.server, target.namespace, req.name);
  const entry = readEntry(deps.cacheDir, key);
  const now = deps.now();
  const activity = now.getTime() - (entry.touched ?? 0) < ACTIVITY_INTERVAL_MS
    ? undefined
    : touchActivity(target, req.name, now).then(
        () => writeEntry(deps.cacheDir, key, { touched: now.getTime() }),
        (err: unknown) => deps.debug(`recording last activity failed: ${String(err)}`),
      );
  let code: number | undefined;
  const remembered = entry.pod;
  if (remembered) {
    try {
      code = await exec(target, remembered);
    } catch (err) {
      if (!(err instanceof ExecUpgradeError) || err.status === 401 || err.status === 403) throw execError(err, req.name);
      deps.debug(`remembered pod ${remembered} is gone (${err.status} ${err.message}); looking it up`);
    }
  }
  if (code === undefined) {
    kube ??= await connectKube(deps.sel, deps.env);
    const pod = await readyPod(kube, deps, req);
    const podName = pod.metadata?.name ?? '';
    rememberPod(deps.cacheDir, key, podName);
    try {
      code = await exec(kube.target, podName);
    } catch (err) {
      throw execError(err, req.name);
    }
  }
  await activity;
  if (req.kill) {
    kube ??= await connectKube(deps.sel, deps.env);
    deps.progress.step(`stopping ${req.name}`);
    await sleepEnv(kube, req.name);
    rememberPod(deps.cacheDir, key, undefined);
    deps.progress.done(`${req.name} is sleeping`);
  }
  return code;
}

/** The ready pod of the environment, waking it first if it sleeps. */
async function readyPod(kube: Kube, deps: EnvDeps, req: RunRequest): Promise<V1Pod> {
  const [dep, me] = await Promise.all([readEnv(kube, req.name), whoAmI(kube)]);
  assertOwner(dep, me, req.anyOwner);
  if ((dep.spec?.replicas ?? 1) === 0) {
    deps.progress.step(`waking ${req.name}`);
    await setReplicas(kube, req.name, 1);
  } else {
    const ready = (await envPods(kube, req.name)).find(isPodReady);
    if (ready) return ready;
    deps.progress.step(`waiting for ${req.name} to start`);
  }
  const pod = await waitReady(kube, req.name, {
    timeoutMs: req.wakeTimeoutMs,
    progress: deps.progress,
    signal: deps.signal,
  });
  deps.progress.done();
  return pod;
}

function execError(err: unknown, env: string): RunboxError {
  if (err instanceof ExecUpgradeError) {
    if (err.status === 403) {
      return new RunboxError(`not allowed to run commands in ${env}: ${err.message}`, {
        cause: err,
        hint: 'you need the create verb on pods/exec in this namespace; ask a cluster admin',
      });
    }
    if (err.status === 401) {
      return new RunboxError('the cluster did not accept your credentials', {
        cause: err,
        hint: 'log in again or check the user of your kubeconfig context',
      });
    }
    return new RunboxError(`cannot run the command in ${env}: ${err.message}`, { cause: err });
  }
  if (err instanceof RunboxError) return err;
  return new RunboxError(`running the command in ${env} failed`, { cause: err });
}

/** Records the time of this command on the Deployment for `list` and the idle controller. */
async function touchActivity(target: KubeTarget, name: string, now: Date): Promise<void> {
  const res = await requestJson(target, {
    method: 'PATCH',
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(target.namespace)}/deployments/${encodeURIComponent(name)}`,
    body: { metadata: { annotations: { [ANNOTATION.lastActivity]: now.toISOString() } } },
    contentType: 'application/merge-patch+json',
  });
  if (res.status >= 300) throw new Error(`HTTP ${res.status}`);
}
