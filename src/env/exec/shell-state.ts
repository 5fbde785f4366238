import { DATA_PATH } from '../../contract/names.ts';
import { DOZE_FLAG, DRAIN_FLAG, REFUSAL_MARKER, REFUSED_EXIT, type Refusal } from '../../contract/idle.ts';
import { PROLOGUE_MODES, PROLOGUE_NAME } from '../../contract/sidecar.ts';

/*
 * Shell state that outlives one command and the pod itself: the working
 * directory and exported variables live on the volume, in /data/.runbox.
 * Every command runs through this small POSIX sh prologue, which restores the
 * state, applies `cd`, `export` and `unset` to it, and otherwise runs argv
 * exactly as given (never re-joined into a string).
 *
 * It refuses to run while the environment drains for a sleep or dozes (see
 * contract/idle.ts): the marker it prints first tells runbox to wake or
 * restore the environment and run the command again.
 *
 * It also leaves a run file (see run-control.ts) with the command's pid, the
 * memory cgroup's OOM kill count before it started and, once it ended, its
 * exit code: so that runbox can signal the command, tell an OOM kill, and
 * learn the exit code when the runtime withholds it.
 */

export const STATE_DIR = `${DATA_PATH}/.runbox`;

/** How the command is attached: `pipes` (stdin, stdout, stderr as streams) or `tty`. */
export type RunMode = typeof PROLOGUE_MODES.pipes | typeof PROLOGUE_MODES.tty;

/** Where the prologue leaves the run file of a run id: /dev/shm, else /tmp. */
export const RUN_FILE_DIRS = ['/dev/shm', '/tmp'] as const;

const refuse = (why: Refusal) => `{ printf '${REFUSAL_MARKER.replace('\u0000', '\\0')}${why}\\n' >&2; exit ${REFUSED_EXIT}; }`;

// Its own names start with _rb so that a user's exported variable never clobbers them.
const PROLOGUE = `
_rbs=${STATE_DIR}; _rbm=$1; _rbid=$2; shift 2
[ -e ${DRAIN_FLAG} ] && ${refuse('draining')}
# Dozing: refused while the worker still has the quota the flag holds; once restored, the flag goes.
if [ -e ${DOZE_FLAG} ]; then
  read -r _rbd < ${DOZE_FLAG}; _rbq=
  for _rbf in /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us /sys/fs/cgroup/cpu.max; do
    if [ -r "$_rbf" ]; then read -r _rbq _rbk < "$_rbf"; break; fi
  done
  [ "$_rbq" = "$_rbd" ] && ${refuse('dozing')}
  rm -f ${DOZE_FLAG}
fi
# Builtins only (no cat): every command pays for this prologue.
_rb_load() { _rbv=; _rbn=; while IFS= read -r _rbl || [ -n "$_rbl" ]; do _rbv="$_rbv$_rbn$_rbl"; _rbn='
'; done < "$1"; }
if [ -d "$_rbs/env" ]; then
  for _rbf in "$_rbs"/env/*; do [ -f "$_rbf" ] && _rb_load "$_rbf" && export "\${_rbf##*/}=$_rbv"; done
fi
_rbc=${DATA_PATH}; [ -f "$_rbs/cwd" ] && IFS= read -r _rbc < "$_rbs/cwd"
cd "$_rbc" 2>/dev/null || cd ${DATA_PATH} 2>/dev/null || cd /
_rb_valid() { case "$1" in ''|[0-9]*|*[!A-Za-z0-9_]*) echo "$2: not a valid variable name: $1" >&2; return 1;; esac; }
_rbr=${RUN_FILE_DIRS[0]}; [ -d "$_rbr" ] && [ -w "$_rbr" ] || _rbr=${RUN_FILE_DIRS[1]}
_rbr=$_rbr/runbox-$_rbid
_rbo=0
for _rbf in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do
  if [ -r "$_rbf" ]; then while read -r _rbk _rbv; do [ "$_rbk" = oom_kill ] && _rbo=$_rbv; done < "$_rbf"; break; fi
done
if [ "$_rbm" = ${PROLOGUE_MODES.shell} ]; then
  echo "$$ $_rbo" > "$_rbr"
  export TERM="$1"
  if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi
fi
case "$1" in
cd)
  shift; cd "\${1:-\${HOME:-/}}" || exit 1
  mkdir -p "$_rbs" && pwd > "$_rbs/cwd"; exit;;
export)
  shift; mkdir -p "$_rbs/env" || exit 1
  for _rba in "$@"; do
    _rbk=\${_rba%%=*}; _rb_valid "$_rbk" export || exit 1
    case "$_rba" in *=*) _rbv=\${_rba#*=};; *) eval "_rbv=\\\${$_rbk-}";; esac
    printf '%s' "$_rbv" > "$_rbs/env/$_rbk" || exit 1
  done; exit;;
unset)
  shift
  for _rbk in "$@"; do _rb_valid "$_rbk" unset || exit 1; rm -f "$_rbs/env/$_rbk"; done; exit;;
esac
# Say what a shell would (not the prologue's own line number) when argv cannot run.
case "$1" in
*/*) if [ ! -e "$1" ]; then echo "$1: not found" >&2; exit 127
     elif [ -d "$1" ]; then echo "$1: Is a directory" >&2; exit 126
     elif [ ! -x "$1" ]; then echo "$1: Permission denied" >&2; exit 126; fi;;
*) command -v "$1" >/dev/null 2>&1 || { echo "$1: not found" >&2; exit 127; };;
esac
if [ "$_rbm" = ${PROLOGUE_MODES.tty} ]; then echo "$$ $_rbo" > "$_rbr"; exec "$@"; fi
# Pipes: the command runs as a child in a process group of its own (setsid,
# where the image has it), so that a forwarded Ctrl-C reaches all of it; in the
# foreground, since sh makes a background job ignore SIGINT. Its exit code is
# written down, since the runtime may withhold it while runbox still has input.
_rbw='echo "$$ $1" > "$0"; shift; exec "$@"'
if command -v setsid >/dev/null 2>&1; then setsid /bin/sh -c "$_rbw" "$_rbr" "$_rbo" "$@"; else /bin/sh -c "$_rbw" "$_rbr" "$_rbo" "$@"; fi
_rbx=$?
read -r _rbp _rbk < "$_rbr"
echo "$_rbp $_rbo $_rbx" > "$_rbr"
exit "$_rbx"
`.trim();

/** The exec argv that runs `argv` in the environment's saved shell state. */
export function commandInState(argv: readonly string[], run: { id: string; mode: RunMode }): string[] {
  return ['/bin/sh', '-c', PROLOGUE, PROLOGUE_NAME, run.mode, run.id, ...argv];
}

/** The exec argv for an interactive login shell in the saved state. */
export function shellInState(term: string, run: { id: string }): string[] {
  return ['/bin/sh', '-c', PROLOGUE, PROLOGUE_NAME, PROLOGUE_MODES.shell, run.id, term];
}
