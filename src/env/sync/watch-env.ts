import { SIDECAR } from '../../contract/names.ts';
import { RunboxError, httpStatusOf } from '../../errors.ts';
import { ExecConnectionLostError, ExecUpgradeError } from '../../kube/exec-socket.ts';
import { silentProgress, type EnvDeps } from '../deps.ts';
import { readyPod } from '../exec/ready-pod.ts';
import { readOwnEnv } from '../inspect/identity.ts';
import { SIDECAR_RESOURCES, SIDECAR_WATCHING, SIDECAR_WORKING, resizeSidecar } from '../lifecycle/sidecar.ts';
import { waitReady } from '../lifecycle/wait-ready.ts';
import { AgentSilentError, openSyncAgent } from '../exec/agent-session.ts';
import type { SyncRequest } from './agent.ts';
import { watchLocal, type LocalWatch } from './local-watch.ts';
import { syncOnce, type RemoteTree, type SyncReport, type SyncedFolders, type Transfer } from './session.ts';
import { transferAgent, type SyncEnvRequest } from './sync-env.ts';
import type { Manifest } from './types.ts';

/*
 * `runbox sync --watch`: one full sync, then a round each time either side
 * changes (chokidar here, inotify in the agent; batched and debounced).
 * A lost connection is resynchronised by a full round on reconnecting, the
 * three-way base making that safe. A sleeping environment is woken only at
 * the start: after `runbox stop` the watch waits, and resumes when something
 * else wakes the environment.
 */

export interface WatchEnvRequest extends Omit<SyncEnvRequest, 'dryRun' | 'remembered'> {}

export interface WatchEvents {
  /** After every round, changes or not (the caller stores `report.state`). */
  synced(report: SyncReport): void;
  connected(pod: string): void;
  /** The watch waits (asleep, reconnecting): one line worth showing. */
  waiting(why: string): void;
  transfer(t: Transfer): void;
}

/** Local changes settle this long before a round (and are held at most maxMs). */
const LOCAL_SETTLE = { quietMs: 150, maxMs: 1000 };
/** The agent answers a wait at least this often: a silent connection is a dead one. */
const HEARTBEAT_MS = 20_000;
const NO_ANSWER_MS = HEARTBEAT_MS + 15_000;
/** Failed sessions in a row, with no round done, before the watch gives up. */
const MAX_FAILURES = 5;

export async function watchEnv(deps: EnvDeps, req: WatchEnvRequest, events: WatchEvents): Promise<void> {
  const local = await watchLocal(req.localRoot, (err) => deps.notice(`watching ${req.localRoot}: ${err.message}`));
  await local.ready;
  const last = req.last();
  let base = last?.base;
  let remote = last?.remote;
  let folders = last?.folders;
  let failures = 0;
  let retries = 0;
  let lastError: unknown;
  try {
    for (let first = true; !deps.signal?.aborted; first = false) {
      const pod = first ? (await readyPod(deps, { name: req.name, container: SIDECAR, anyOwner: req.anyOwner, wakeTimeoutMs: req.wakeTimeoutMs, sidecar: req.sidecar })).pod.metadata?.name : await awakePod(deps, req, events);
      if (!pod) return;
      try {
        await session(deps, req, pod, local, {
          base: () => base,
          remote: () => remote,
          folders: () => folders,
          synced: (report) => {
            failures = 0;
            retries = 0;
            base = report.state;
            remote = report.remote;
            folders = report.folders;
            events.synced(report);
          },
          connected: () => events.connected(pod),
          transfer: events.transfer,
        });
        return;
      } catch (err) {
        if (deps.signal?.aborted) return;
        if (fatal(err)) throw err;
        // A dropped network or a pod that went away is waited out; an agent that keeps failing is not.
        if (!connectionLost(err)) failures += 1;
        lastError = err;
        if (failures >= MAX_FAILURES) throw err;
        retries += 1;
        events.waiting(`lost the connection to ${req.name} (${(err as Error).message}); reconnecting`);
        await pause(deps.signal, Math.min(1000 * 2 ** (retries - 1), 10_000));
      }
    }
  } finally {
    await local.close();
  }
  if (lastError && !deps.signal?.aborted) throw lastError;
}

/** Errors no reconnect can mend: the environment is gone, or this user may not reach it. */
function fatal(err: unknown): boolean {
  if (err instanceof ExecUpgradeError) return err.status === 401 || err.status === 403;
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    const status = httpStatusOf(e);
    if (status === 401 || status === 403 || status === 404) return true;
  }
  return false;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** The connection failed, not the agent: the network, the API server or the pod went away. */
function connectionLost(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ExecConnectionLostError || e instanceof AgentSilentError) return true;
    if (NETWORK_CODES.has(String((e as { code?: unknown }).code))) return true;
    if (/the other side of the sync (ended|closed) the conversation/.test((e as Error).message ?? '')) return true;
  }
  return false;
}

const pause = (signal: AbortSignal | undefined, ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The pod to reconnect to, waiting (without waking anything) while the environment sleeps. */
async function awakePod(deps: EnvDeps, req: WatchEnvRequest, events: WatchEvents): Promise<string | undefined> {
  let said = '';
  const say = (why: string) => {
    if (why !== said) events.waiting((said = why));
  };
  while (!deps.signal?.aborted) {
    try {
      const dep = await readOwnEnv(deps.kube, req.name, req.anyOwner);
      if ((dep.spec?.replicas ?? 1) === 0) say(`${req.name} is asleep; the watch resumes when a command wakes it`);
      const pod = await waitReady(deps.kube, req.name, { timeoutMs: 60_000, progress: silentProgress, signal: deps.signal, until: { container: SIDECAR } });
      return pod.metadata?.name;
    } catch (err) {
      if (deps.signal?.aborted) return undefined;
      if (fatal(err)) throw err;
      // A wait that timed out (still asleep) or a cluster that cannot be reached: look again.
      await pause(deps.signal, 2000);
    }
  }
  return undefined;
}

interface SessionHooks {
  base(): Manifest | undefined;
  remote(): RemoteTree | undefined;
  folders(): SyncedFolders | undefined;
  synced(report: SyncReport): void;
  connected(): void;
  transfer(t: Transfer): void;
}

/** One connection to the agent: rounds until the user stops (returns) or the connection fails (throws). */
async function session(deps: EnvDeps, req: WatchEnvRequest, pod: string, local: LocalWatch, hooks: SessionHooks): Promise<void> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  // A watch raises the sidecar first: its first round may walk the folder there.
  let boosted = await resizeSidecar(deps.kube, pod, SIDECAR_WORKING);
  const agent = await openSyncAgent(deps, { env: req.name, pod, agent: ['sync', req.remotePath], signal: stop.signal }).catch(async (err: unknown) => {
    deps.signal?.removeEventListener('abort', onAbort);
    if (boosted) await resizeSidecar(deps.kube, pod, SIDECAR_RESOURCES);
    throw err;
  });
  const { chan } = agent;
  const stopped = new Promise<'stopped'>((resolve) => stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
  const round = async () => {
    const report = await syncOnce(chan, {
      localRoot: req.localRoot,
      base: hooks.base(),
      remote: hooks.remote(),
      transferAgent: async () => transferAgent(deps, req.name, pod, req.remotePath),
      folders: hooks.folders(),
      notice: deps.notice,
      direction: req.direction,
      dryRun: false,
      now: deps.clock.now(),
      onLocalRead: () => local.flag.lower(),
      onTransfer: hooks.transfer,
    });
    hooks.synced(report);
  };
  try {
    await chan.sendJson({ op: 'watch' } satisfies SyncRequest);
    const watching = await chan.nextJson<{ ok?: boolean; error?: string }>();
    if (watching.error) throw new RunboxError(`the sync agent of ${req.name} cannot watch ${req.remotePath}: ${watching.error}`);
    await round();
    if (boosted) boosted = await resizeSidecar(deps.kube, pod, SIDECAR_WATCHING);
    hooks.connected();
    for (;;) {
      if (local.flag.raised) {
        await Promise.race([local.flag.settled(LOCAL_SETTLE.quietMs, LOCAL_SETTLE.maxMs), stopped]);
        if (stop.signal.aborted) return;
        await round();
        continue;
      }
      await chan.sendJson({ op: 'wait', timeoutMs: HEARTBEAT_MS } satisfies SyncRequest);
      const answer = chan.nextJson<{ changed?: boolean; error?: string }>();
      answer.catch(() => {}); // a connection lost while nobody listens is seen by the next read
      let timer: NodeJS.Timeout | undefined;
      const silent = new Promise<'silent'>((resolve) => (timer = setTimeout(resolve, NO_ANSWER_MS, 'silent')));
      const first = await Promise.race([answer, local.flag.settled(LOCAL_SETTLE.quietMs, LOCAL_SETTLE.maxMs).then(() => 'local' as const), stopped, silent]);
      if (first === 'local') {
        // Our change first: end the wait, then take its answer (whatever it says, a round follows).
        await chan.sendJson({ op: 'cancel' } satisfies SyncRequest);
        await Promise.race([answer, stopped, silent]);
      }
      clearTimeout(timer);
      if (stop.signal.aborted) return;
      if (first === 'silent') throw new AgentSilentError(`the sync agent of ${req.name} has not answered for ${NO_ANSWER_MS / 1000} s`);
      if (first !== 'local') {
        const said = await answer;
        if (said.error) throw new RunboxError(`the environment's sync agent failed: ${said.error}`);
        if (!said.changed) continue;
      }
      await round();
    }
  } catch (err) {
    if (stop.signal.aborted) return;
    // What the agent said, if it says it soon: a dead connection never ends by itself.
    throw await Promise.race([agent.failed(err).catch((e: unknown) => e), pause(undefined, 3000).then(() => err)]);
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    if (boosted) await resizeSidecar(deps.kube, pod, SIDECAR_RESOURCES);
  }
}
