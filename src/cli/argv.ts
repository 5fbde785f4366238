/*
 * The 2019 command line keeps working word for word beside the subcommands:
 *   runbox --create myrb --image IMG      -> runbox create myrb --image IMG
 *   runbox --list                         -> runbox list
 *   runbox --delete myrb                  -> runbox delete myrb
 *   runbox [--kill] [-n ns] myrb CMD...   -> runbox run [--kill] [-n ns] myrb -- CMD...
 * Options written before the verb move after it, so that each subcommand
 * declares every option it accepts, kubectl style.
 */

export const SUBCOMMANDS = new Set([
  'create', 'run', 'shell', 'list', 'ls', 'delete', 'rm', 'stop', 'resize', 'usage', 'status', 'completion', 'help',
  // Reserved for the commands of the design that come next, so no environment takes their names.
  'sync', 'snapshot', 'history', 'rollback', 'squash', 'idle', 'config', 'doctor', 'controller',
]);

/** Options that take a value, so that the value is not taken for the environment's name. */
const VALUE_OPTIONS = new Set([
  '--context', '-n', '--namespace', '--kubeconfig', '-o', '--output', '--image', '--volume-size',
  '--storage-class', '--node-selector', '--gpu', '--sidecar-image', '--timeout', '-a', '--allocate',
  '--cpu', '--memory', '--since', '-L', '--localpath', '-R', '--remotepath', '--remote', '--direction',
]);

const SPELLINGS: Record<string, string> = {
  '--kill_after': '--kill',
  '--kill-after': '--kill',
  '--sync_before': '--sync-before',
  '--sync_after': '--sync-after',
};

export function rewriteArgv(argv: readonly string[]): string[] {
  const before: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const t = SPELLINGS[raw] ?? raw;
    const rest = argv.slice(i + 1);
    if (t === '--create' || t === '-c') return ['create', ...rest.slice(0, 1), ...before, ...rest.slice(1)];
    if (t === '--delete' || t === '-d') return ['delete', ...rest.slice(0, 1), ...before, ...rest.slice(1)];
    if (t === '--list' || t === '-l') return ['list', ...before, ...rest];
    if (t === '--') return ['run', ...before, ...rest.slice(0, 1), '--', ...rest.slice(1)];
    if (t.startsWith('-')) {
      before.push(t);
      if (VALUE_OPTIONS.has(t) && i + 1 < argv.length) before.push(argv[++i]!);
      continue;
    }
    if (SUBCOMMANDS.has(t)) return [t, ...before, ...rest];
    // `runbox myrb -- CMD` means the same as `runbox myrb CMD`.
    return ['run', ...before, t, '--', ...(rest[0] === '--' ? rest.slice(1) : rest)];
  }
  return before;
}
