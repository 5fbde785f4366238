import { DATA_PATH } from './names.ts';

/*
 * Shell state that outlives one command and the pod itself: the working
 * directory and exported variables live on the volume, in /data/.runbox.
 * Every command runs through this small POSIX sh prologue, which restores the
 * state, applies `cd`, `export` and `unset` to it, and otherwise execs argv
 * exactly as given (never re-joined into a string).
 */

export const STATE_DIR = `${DATA_PATH}/.runbox`;

// Its own names start with _rb so that a user's exported variable never clobbers them.
const PROLOGUE = `
_rbs=${STATE_DIR}; _rbm=$1; shift
# Builtins only (no cat): every command pays for this prologue.
_rb_load() { _rbv=; _rbn=; while IFS= read -r _rbl || [ -n "$_rbl" ]; do _rbv="$_rbv$_rbn$_rbl"; _rbn='
'; done < "$1"; }
if [ -d "$_rbs/env" ]; then
  for _rbf in "$_rbs"/env/*; do [ -f "$_rbf" ] && _rb_load "$_rbf" && export "\${_rbf##*/}=$_rbv"; done
fi
_rbc=${DATA_PATH}; [ -f "$_rbs/cwd" ] && IFS= read -r _rbc < "$_rbs/cwd"
cd "$_rbc" 2>/dev/null || cd ${DATA_PATH} 2>/dev/null || cd /
_rb_valid() { case "$1" in ''|[0-9]*|*[!A-Za-z0-9_]*) echo "$2: not a valid variable name: $1" >&2; return 1;; esac; }
if [ "$_rbm" = shell ]; then
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
exec "$@"
`.trim();

/** The exec argv that runs `argv` in the environment's saved shell state. */
export function commandInState(argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', PROLOGUE, 'runbox', 'run', ...argv];
}

/** The exec argv for an interactive login shell in the saved state. */
export function shellInState(term: string): string[] {
  return ['/bin/sh', '-c', PROLOGUE, 'runbox', 'shell', term];
}
