import { randomBytes } from 'node:crypto';
import { ANNOTATION, WORKER } from '../../contract/names.ts';
import { PROLOGUE_MODES } from '../../contract/sidecar.ts';
import { RunboxError } from '../../errors.ts';
import { execOutput } from '../../kube/exec-output.ts';
import { ExecUpgradeError } from '../../kube/exec-socket.ts';
import { objectPath } from '../../kube/paths.ts';
import { PATCH, callJson } from '../../kube/rest.ts';
import type { KubeTarget } from '../../kube/target.ts';
import type { EnvDeps } from '../deps.ts';
import type { SidecarSource } from '../lifecycle/sidecar.ts';
import type { SnapshotRegistry } from '../snapshot/snapshot-env.ts';
import { resourcesFor } from '../resize/allocation.ts';
import type { Allocation } from '../resize/resources-state.ts';
import { usageEntry, type UsageEntry } from '../usage/entry.ts';
import { DRAIN_HOLD_MS } from '../../contract/idle.ts';
import { runAttached, type Attachment } from './attached.ts';
import { waitUntilAsleep } from './asleep.ts';
import { replayableInput } from './stdin-replay.ts';
import { inReadyPod, podGoingAway } from './ready-pod.ts';
import { answer, oomKilledSince } from './run-control.ts';
import { commandInState, shellInState } from './shell-state.ts';

/** The exit code of a command killed by SIGKILL: the pod went, or the OOM killer came. */
const KILLED = 137;
/** Doze refusals before giving up: each is followed by a restore, so one more is plenty. */
const MAX_DOZE_REFUSALS = 2;
/** How long one wait for a sleep in progress lasts before the command is tried again. */
const ASLEEP_WAIT_MS = 10_000;

export interface RunRequest {
  name: string;
  /** The command, exactly as the user typed it; ignored for a shell. */
  argv: string[];
  /** Run an interactive shell instead of argv (TERM to give it). */
  shell?: { term: string } | undefined;
  io: Attachment;
  /** Resize the environment to this before the command (it stays so). */
  allocation?: Allocation | undefined;
  /** What the caller remembers of the environment: its pod and allocation. */
  remembered: { pod?: string | undefined; units?: number | undefined };
  /** Record the command's time as the environment's last activity. */
  touchActivity: boolean;
  /** Scale the environment to zero afterwards. */
  kill: boolean;
  /** Where a --kill snapshots the root filesystem first (unset: snapshots are off). */
  registry?: SnapshotRegistry | undefined;
  anyOwner: boolean;
  wakeTimeoutMs: number;
  /** The sidecar a wake brings the template up to. */
  sidecar?: (() => Promise<SidecarSource>) | undefined;
}

export interface RunResult {
  exitCode: number;
  /** The pod the command ran in (undefined after --kill) and the allocation it had. */
  pod: string | undefined;
  units: number;
  usage: UsageEntry;
  /** Whether last activity was recorded. */
  touched: boolean;
}

/** Runs a command in the environment's worker and returns its exit code and usage. */
export async function runInEnv(deps: EnvDeps, req: RunRequest): Promise<RunResult> {
  const run = { id: randomBytes(6).toString('hex'), mode: req.io.terminal ? PROLOGUE_MODES.tty : PROLOGUE_MODES.pipes };
  const command = req.shell ? shellInState(req.shell.term, run) : commandInState(req.argv, run);
  const start = deps.clock.now();
  const activity = req.touchActivity
    ? touchActivity(deps.kube, req.name, start).then(
        () => true,
        (err: unknown) => {
          deps.debug(`recording last activity failed: ${String(err)}`);
          return false;
        },
      )
    : Promise.resolve(false);
  let began = start;
  let ran: { result: number; pod: string; units?: number | undefined };
  // Piped input a refused attempt consumed is given to the next one.
  const input = req.io.stdin && !req.io.terminal ? replayableInput(req.io.stdin) : undefined;
  try {
    let remembered = req.remembered.pod;
    let restore = false;
    let dozes = 0;
    const drainDeadline = Date.now() + DRAIN_HOLD_MS + ASLEEP_WAIT_MS;
    for (;;) {
      const used = await inReadyPod(
        deps,
        {
          name: req.name,
          container: WORKER,
          remembered,
          allocation: req.allocation,
          restore,
          anyOwner: req.anyOwner,
          wakeTimeoutMs: req.wakeTimeoutMs,
          sidecar: req.sidecar,
        },
        (pod) => {
          began = deps.clock.now();
          return runAttached(deps, { pod, command, run, io: { ...req.io, stdin: input ? input.attempt() : req.io.stdin } });
        },
      );
      const refused = used.result.refused;
      if (!refused) {
        ran = { result: used.result.code, pod: used.pod, units: used.units };
        break;
      }
      if (input?.overflowed()) {
        throw new RunboxError(`${req.name} was going to sleep and refused the command after runbox had sent it more input than it keeps`, {
          hint: 'run it again: the environment wakes',
        });
      }
      deps.debug(`${req.name} refused the command: ${refused}`);
      remembered = used.pod;
      if (refused === 'dozing') {
        if (++dozes > MAX_DOZE_REFUSALS) throw new RunboxError(`${req.name} still dozes after ${MAX_DOZE_REFUSALS} restores of its allocation`, { hint: 'see runbox status; runbox resize gives it an allocation again' });
        restore = true;
      } else {
        if (Date.now() > drainDeadline) throw new RunboxError(`${req.name} has been going to sleep for over ${(DRAIN_HOLD_MS + ASLEEP_WAIT_MS) / 1000} s`, { hint: 'check the idle controller (runbox doctor), then run it again' });
        restore = false;
        deps.progress.step(`${req.name} is going to sleep; waking it again`);
        await waitUntilAsleep(deps, req.name, ASLEEP_WAIT_MS);
      }
    }
  } catch (err) {
    await activity;
    throw execError(err, req.name);
  } finally {
    input?.release();
  }
  const code = ran.result;
  const units = ran.units ?? req.remembered.units ?? 1;
  if (code === KILLED) await explainKill(deps, { name: req.name, pod: ran.pod, runId: run.id, units, argv: req.argv });
  const usage = usageEntry(req.shell ? ['(shell)'] : req.argv, {
    start: began,
    durationMs: deps.clock.now().getTime() - began.getTime(),
    allocation: units,
    exitCode: code,
  });
  const touched = await activity;
  if (req.kill) {
    // Off the hot path: a command without --kill loads none of the snapshot code.
    const { snapshotAndSleep } = await import('../snapshot/sleep.ts');
    const outcome = await snapshotAndSleep(deps, {
      name: req.name,
      anyOwner: req.anyOwner,
      registry: req.registry,
      commands: [req.argv.join(' ')],
      record: { state: 'sleeping', at: deps.clock.now().toISOString(), why: 'runbox --kill_after', by: 'runbox' },
    });
    if (outcome.skipped && req.registry) deps.notice(`${req.name} is sleeping; no snapshot: ${outcome.skipped}`);
    deps.progress.done();
  }
  return { exitCode: code, pod: req.kill ? undefined : ran.pod, units, usage, touched };
}

/** A command killed outright says nothing of why: say it, when the pod went or memory ran out. */
async function explainKill(deps: EnvDeps, req: { name: string; pod: string; runId: string; units: number; argv: string[] }): Promise<void> {
  if (await podGoingAway(deps.kube, req.pod)) {
    deps.notice(`the command was killed (exit ${KILLED}) because pod ${req.pod} of ${req.name} is being deleted; run it again to start a new one`);
    return;
  }
  const oom = await execOutput(deps.kube, { pod: req.pod, container: WORKER }, oomKilledSince(req.runId)).catch(() => undefined);
  if (oom && answer(oom.stdout) === 'oom') {
    const more = req.units * 4;
    deps.notice(
      `the command ran out of memory (limit ${resourcesFor(req.units).memory}, ${req.units} unit${req.units === 1 ? '' : 's'}) and was killed; give it more with: runbox -a ${more} ${req.name} ${req.argv.map(shellWord).join(' ') || '...'}`,
    );
  }
}

/** An argument as a user would type it into a shell. */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
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
async function touchActivity(kube: KubeTarget, name: string, now: Date): Promise<void> {
  await callJson(kube, {
    method: 'PATCH',
    path: objectPath('deployments', kube.namespace, name),
    body: { metadata: { annotations: { [ANNOTATION.lastActivity]: now.toISOString() } } },
    contentType: PATCH.merge,
  });
}
