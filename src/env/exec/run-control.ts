import { RUN_FILE_DIRS } from './shell-state.ts';

/*
 * Small side commands about one running command, run in the worker by a second
 * exec: they read the run file the prologue left (`PID OOMKILLS [EXITCODE]`).
 * Plain POSIX sh; each prints one word so the caller parses nothing else.
 */

const FIND = `f=; i=0
while :; do
  for d in ${RUN_FILE_DIRS.join(' ')}; do [ -s "$d/runbox-$1" ] && f=$d/runbox-$1 && break 2; done
  i=$((i+1)); [ "$i" -gt "\${2:-0}" ] && exit 0; sleep 0.1
done
read -r pid oom code < "$f"`;

const script = (body: string, id: string, waitTenths = 0) => ['/bin/sh', '-c', `${FIND}\n${body}`, 'runbox', id, String(waitTenths)];

/**
 * Sends a signal to the command's process group (or the command alone where it
 * has none). Waits up to 2 s for the run file, since Ctrl-C may come before the
 * command has started. Prints `sent` or nothing.
 */
export function signalCommand(id: string, signal: 'INT' | 'TERM' | 'HUP' | 'KILL' | 'PIPE'): string[] {
  return script(`{ kill -${signal} "-$pid" 2>/dev/null || kill -${signal} "$pid" 2>/dev/null; } && echo sent`, id, 20);
}

/** Prints the command's exit code once it has ended, else nothing. */
export function exitCodeOf(id: string): string[] {
  return script('[ -n "$code" ] && echo "$code"', id);
}

/** Prints `oom` when the memory cgroup has OOM-killed something since the command started. */
export function oomKilledSince(id: string): string[] {
  return script(
    `now=0
for m in /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events; do
  if [ -r "$m" ]; then while read -r k v; do [ "$k" = oom_kill ] && now=$v; done < "$m"; break; fi
done
[ "$now" -gt "$oom" ] && echo oom`,
    id,
  );
}

/** What a side command printed, as one word. */
export const answer = (out: string): string => out.trim();
