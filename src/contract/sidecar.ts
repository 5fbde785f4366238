/*
 * The contract between the worker, the sidecar and their callers (CLI,
 * controller): the sidecar's port and endpoints, the /status answer, and the
 * worker's idle command. Imports nothing.
 */

export const SIDECAR_PORT = 7717;
export const SIDECAR_PORT_VARIABLE = 'RUNBOX_SIDECAR_PORT';

export const SIDECAR_ENDPOINT = {
  /** Liveness of the sidecar itself: 200 "ok". */
  health: '/healthz',
  /** What runs in the environment: a SidecarStatus as JSON. */
  status: '/status',
} as const;

/**
 * The worker's own command: it only keeps the container alive, and ends at
 * once on SIGTERM (a plain `sleep` as pid 1 ignores it, so every stop would
 * wait out the grace period). Its processes, as the process table shows them
 * (argv joined by spaces), are not activity.
 */
const IDLE_SCRIPT = "trap 'exit 0' TERM; sleep 2147483647 & wait";
export const WORKER_IDLE_COMMAND = ['/bin/sh', '-c', IDLE_SCRIPT] as const;
export const WORKER_IDLE_PROCESSES: readonly string[] = [WORKER_IDLE_COMMAND.join(' '), 'sleep 2147483647'];
/** The pod sandbox's process, visible with shareProcessNamespace. */
export const SANDBOX_PROCESS = '/pause';

/**
 * How runbox's command prologue shows in the process table:
 * `/bin/sh -c SCRIPT runbox MODE RUN-ID ARGV...`. In pipes mode it only waits
 * for its child, which shows itself: the prologue is then not counted again.
 */
export const PROLOGUE_NAME = 'runbox';
export const PROLOGUE_MODES = { pipes: 'pipes', tty: 'tty', shell: 'shell' } as const;

/**
 * argv[1] of a runbox agent exec'd into the sidecar container (sync,
 * snapshot): such a process is activity, unlike the sidecar's own server.
 */
export const AGENT_MARKER = 'runbox-agent';

/**
 * The sidecar's server also keeps sync agents warm (their folders' manifests
 * watched): a session reaches it through a tiny bash bridge exec'd in the
 * sidecar container (starting Node there costs 0.6 s at the sidecar's resting
 * 50m; bash, a few milliseconds), which proves itself with the key only the
 * sidecar container can read (the worker shares the pod's loopback).
 *
 * - Direct (AGENT_DIRECT_PORT): the bridge sends `KEY PID` and a newline; the
 *   server opens the bridge's stdin and stdout (the exec's pipes) through
 *   /proc itself, answers `direct`, speaks the framed protocol on them, and
 *   closes the connection when the session ends, which ends the bridge. No
 *   process copies the bytes: every process started costs the sidecar's CPU,
 *   and at 50m each millisecond of it can cost the session a 100 ms period.
 * - Copied (AGENT_PORT), where the server cannot open the pipes or is older:
 *   the bridge sends the key, then two cats carry the protocol both ways;
 *   when the exec's stdin ends, it closes the connection.
 *
 * Exit 97: nothing listens (an older sidecar), and the caller starts the agent
 * process instead.
 */
export const AGENT_PORT = 7718;
export const AGENT_DIRECT_PORT = 7719;
export const AGENT_KEY_FILE = '/tmp/runbox-agent.key';
/** Hex characters of the key. */
export const AGENT_KEY_LENGTH = 48;
export const AGENT_BRIDGE_UNAVAILABLE = 97;
/** The server's answer on the direct port: it serves the bridge's own stdin and stdout (any other line: use AGENT_PORT). */
export const AGENT_DIRECT_ANSWER = 'direct';
/** Where a bridge finds the warm agents: the sidecar's, or a test's. */
export interface BridgeEnds {
  keyFile: string;
  port: number;
  directPort: number;
}
const SIDECAR_BRIDGE_ENDS: BridgeEnds = { keyFile: AGENT_KEY_FILE, port: AGENT_PORT, directPort: AGENT_DIRECT_PORT };
// Never point the bridge's own stderr elsewhere for good (`exec 3<>... 2>/dev/null` does): once no
// process holds the exec's stderr, the exec ends (seen on containerd 1.6), stdin and all.
const bridgeScript = (at: BridgeEnds): string =>
  [
    // The key with builtins: every process started here costs the sidecar's CPU.
    `{ IFS= read -r k < ${at.keyFile}; } 2>/dev/null; [ -n "$k" ] || exit ${AGENT_BRIDGE_UNAVAILABLE}`,
    `if { exec 3<>/dev/tcp/127.0.0.1/${at.directPort}; } 2>/dev/null; then`,
    '  printf \'%s %s\\n\' "$k" "$$" >&3',
    // `read -u 3`, not `read <&3`: the redirection would put the connection on fd 0 while the
    // server opens the bridge's stdin.
    '  IFS= read -r -u 3 how',
    // Served directly: wait for the server to close the connection when the session ends.
    `  [ "$how" = ${AGENT_DIRECT_ANSWER} ] && { read -r -u 3 _; exit 0; }`,
    '  exec 3>&-',
    'fi',
    `{ exec 3<>/dev/tcp/127.0.0.1/${at.port}; } 2>/dev/null || exit ${AGENT_BRIDGE_UNAVAILABLE}`,
    'printf %s "$k" >&3',
    'cat <&3 & reader=$!',
    'cat >&3',
    'kill $reader 2>/dev/null; exit 0',
  ].join('\n');
/** The first message of a bridged session names the agent; the server answers with a welcome (or `{ error }`). */
export interface AgentHello {
  agent: string[];
}
export const AGENT_WELCOME = { hello: AGENT_MARKER } as const;
/** The bridge's argv: its $0 is the agent marker, so the process table counts it as an agent at work. */
export const agentBridgeCommand = (agent: readonly string[], at = SIDECAR_BRIDGE_ENDS): string[] => ['bash', '-c', bridgeScript(at), AGENT_MARKER, ...agent];

/** The answer of GET /status. */
export interface SidecarStatus {
  /** How many things run: worker processes plus agent sessions. */
  busy: number;
  /** The worker's processes other than its idle command, as argv lines. */
  commands: string[];
  /** Agents at work in the sidecar (sync, snapshot), as argv lines. */
  agents: string[];
  /** ISO time the sidecar last saw anything run (it looks every ACTIVITY_SAMPLE_MS, and at the newest run file of a command), or its own start. */
  lastBusy?: string | undefined;
  /** Bytes in use (cgroup usage, page cache included, as the kubelet counts it), when the sidecar can read them. */
  memory?: { worker: number; sidecar: number } | undefined;
}

/** How often the sidecar looks at the process table, so that /status can say when the pod was last busy. */
export const ACTIVITY_SAMPLE_MS = 2_000;

/** Where the sidecar's bundle is mounted (from its ConfigMap) and the file the Node image runs. */
export const SIDECAR_MOUNT = '/opt/runbox';
export const SIDECAR_BUNDLE_FILE = 'sidecar.mjs';
/** The content-addressed ConfigMap that carries one version of the bundle. */
export const sidecarConfigMapName = (hash: string): string => `runbox-sidecar-${hash}`;

/** Where the registry credential Secret (a docker config.json) is mounted: in the sidecar only, never the worker. */
export const REGISTRY_CREDENTIALS_MOUNT = '/var/run/runbox/registry';
export const REGISTRY_CREDENTIALS_FILE = '.dockerconfigjson';
