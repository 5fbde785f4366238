import type { Readable, Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { RunboxError } from '../errors.ts';
import { connectKube, type Kube } from '../kube/client.ts';
import { SIGNAL_EXIT_BASE } from '../kube/exec-protocol.ts';
import { ExecFailedError, ExecUpgradeError, execInPod, type Terminal } from '../kube/exec-socket.ts';
import { resolveFast } from '../kube/kubeconfig-fast.ts';
import { requestJson } from '../kube/rest.ts';
import type { KubeTarget } from '../kube/target.ts';
import type { EnvDeps } from './deps.ts';
import { assertOwner, whoAmI } from './identity.ts';
import { envPods, readEnv } from './lookup.ts';
import { ANNOTATION, WORKER } from './names.ts';
import { cacheKey, readEntry, writeEntry } from './pod-cache.ts';
import { resizeEnv } from './resize.ts';
import { recordedAllocation, type Allocation } from './resources-state.ts';
import { sleepEnv } from './scale.ts';
import { commandInState, shellInState } from './shell-state.ts';
import { isPodReady } from './status.ts';
import { recordUsage, shouldFlush, usageEntry, type UsageEntry } from './usage.ts';
import { waitReady } from './wait-ready.ts';
import { wakeEnv } from './wake.ts';

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
  /** Resize the environment to this before the command (it stays so). */
  allocation?: Allocation | undefined;
  /** Write this command's usage to the ledger now, not in a later batch. */
  flushUsage: boolean;
  /** Scale the environment to zero afterwards. */
  kill: boolean;
  anyOwner: boolean;
  wakeTimeoutMs: number;
}

export interface RunResult {
  exitCode: number;
  usage: UsageEntry;
}

/**
 * Runs a command in the environment. The warm path goes straight to the exec
 * upgrade on the remembered pod, with no API lookups; only when that pod is
 * gone (or a resize is asked for) does it look the environment up, wake or
 * resize it, and run there. Every command lands in the usage ledger.
 */
export async function runInEnv(deps: EnvDeps, req: RunRequest): Promise<RunResult> {
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
  let entry = readEntry(deps.cacheDir, key);
  const pending = entry.pending;
  const start = deps.now();
  const activity = start.getTime() - (entry.touched ?? 0) < ACTIVITY_INTERVAL_MS
    ? undefined
    : touchActivity(target, req.name, start).then(
        () => writeEntry(deps.cacheDir, key, { touched: start.getTime() }),
        (err: unknown) => deps.debug(`recording last activity failed: ${String(err)}`),
      );
  let code: number | undefined;
  let began = start;
  if (entry.pod && !req.allocation) {
    try {
      code = await exec(target, entry.pod);
    } catch (err) {
      if (!(await stalePod(target, entry.pod, err))) throw execError(err, req.name);
      deps.debug(`remembered pod ${entry.pod} is gone (${(err as Error).message}); looking it up`);
    }
  }
  if (code === undefined) {
    const typed = async () => (kube ??= await connectKube(deps.sel, deps.env));
    const { pod, units } = await readyPod(target, typed, deps, req);
    entry = { pod: pod.metadata?.name ?? '', units, pending };
    writeEntry(deps.cacheDir, key, entry);
    began = deps.now();
    try {
      code = await exec(target, entry.pod ?? '');
    } catch (err) {
      throw execError(err, req.name);
    }
  }
  if (code >= SIGNAL_EXIT_BASE) await explainKill(deps, target, entry.pod ?? '', req.name, code);
  const usage = usageEntry(req.shell ? ['(shell)'] : req.argv, began, deps.now().getTime() - began.getTime(), entry.units ?? 1, code);
  await Promise.all([activity, ledger(deps, target, key, [...(entry.pending ?? []), usage], req)]);
  if (req.kill) {
    kube ??= await connectKube(deps.sel, deps.env);
    deps.progress.step(`stopping ${req.name}`);
    await sleepEnv(kube, req.name);
    writeEntry(deps.cacheDir, key, { pod: undefined });
    deps.progress.done(`${req.name} is sleeping`);
  }
  return { exitCode: code, usage };
}

/** Writes the pending usage entries now, or keeps them for a later batch. */
async function ledger(deps: EnvDeps, target: KubeTarget, key: string, pending: UsageEntry[], req: RunRequest): Promise<void> {
  if (!shouldFlush(pending, deps.now(), req.flushUsage || req.kill)) {
    writeEntry(deps.cacheDir, key, { pending });
    return;
  }
  try {
    await recordUsage(target, req.name, pending);
    writeEntry(deps.cacheDir, key, { pending: [] });
  } catch (err) {
    deps.debug(`usage ledger not written, kept for the next command: ${String(err)}`);
    writeEntry(deps.cacheDir, key, { pending: pending.slice(-1000) });
  }
}

/**
 * The ready pod of the environment at the asked allocation, waking it first if
 * it sleeps. Finding a ready pod takes three plain calls; the typed client
 * (`typed`) is loaded only to wake, wait or resize.
 */
async function readyPod(
  target: KubeTarget,
  typed: () => Promise<Kube>,
  deps: EnvDeps,
  req: RunRequest,
): Promise<{ pod: V1Pod; units: number }> {
  const [dep, me] = await Promise.all([readEnv(target, req.name), whoAmI(target)]);
  assertOwner(dep, me, req.anyOwner);
  if ((dep.spec?.replicas ?? 1) === 0) {
    // Nothing runs: the wake itself brings a new size.
    const pod = await wakeEnv(await typed(), deps, { dep, to: req.allocation, timeoutMs: req.wakeTimeoutMs });
    deps.progress.done();
    return { pod, units: req.allocation?.units ?? recordedAllocation(dep).units };
  }
  let pod = (await envPods(target, req.name)).find(isPodReady);
  if (!pod) {
    deps.progress.step(`waiting for ${req.name} to start`);
    pod = await waitReady(await typed(), req.name, { timeoutMs: req.wakeTimeoutMs, progress: deps.progress, signal: deps.signal });
  }
  if (req.allocation) {
    pod = await resizeEnv(await typed(), deps, { dep, pod, to: req.allocation, wakeTimeoutMs: req.wakeTimeoutMs });
  }
  deps.progress.done();
  return { pod, units: req.allocation?.units ?? recordedAllocation(dep).units };
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

/** Whether the pod is deleted or being deleted (one GET, only asked after a failure). */
async function podGoingAway(target: KubeTarget, pod: string): Promise<boolean> {
  const res = await requestJson(target, {
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(pod)}`,
  }).catch(() => undefined);
  return res?.status === 404 || Boolean((res?.body as { metadata?: { deletionTimestamp?: string } })?.metadata?.deletionTimestamp);
}

/**
 * Whether a failed exec on the remembered pod means only that the pod is gone,
 * so that the command may run on the environment's current pod instead: the
 * upgrade was refused (not for credentials), or the command never started and
 * the pod is going away (whatever words the runtime used to say so).
 */
async function stalePod(target: KubeTarget, pod: string, err: unknown): Promise<boolean> {
  if (err instanceof ExecUpgradeError) return err.status !== 401 && err.status !== 403;
  return err instanceof ExecFailedError && err.untouched && (await podGoingAway(target, pod));
}

/**
 * A command killed by a signal may have died with its pod (deleted, evicted,
 * scaled down): say so, since the exit code alone does not.
 */
async function explainKill(deps: EnvDeps, target: KubeTarget, pod: string, name: string, code: number): Promise<void> {
  if (await podGoingAway(target, pod)) {
    deps.notice(`the command was killed (exit ${code}) because pod ${pod} of ${name} is being deleted; run it again to start a new one`);
  }
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
