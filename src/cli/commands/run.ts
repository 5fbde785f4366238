import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { runInEnv } from '../../env/run.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { parseAllocation, type AllocationOptions } from './allocation-options.ts';

interface RunOptions extends GlobalOptions, AllocationOptions {
  kill?: boolean;
  usage?: boolean;
  anyOwner?: boolean;
  timeout: string;
}

export function runProblems(name: string, argv: string[], o: RunOptions): string[] {
  const problems = nameProblems(name);
  if (argv.length === 0) problems.push('no command given (runbox NAME CMD [ARGS...])');
  if (!(Number(o.timeout) > 0)) problems.push(`--timeout must be a number of seconds, not "${o.timeout}"`);
  return [...problems, ...parseAllocation(o).problems];
}

export function runCommand(ctx: CliContext): Command {
  return withGlobals(new Command('run'))
    .description('run a command in an environment, waking it if it sleeps (also: runbox NAME CMD...)')
    .argument('<name>', 'environment name')
    .argument('[command...]', 'the command and its arguments, kept exactly')
    .option('-a, --allocate <units>', 'resize to this many allocation units first, in place (1 = 1/8 CPU, 128 MiB); it stays so')
    .option('--cpu <quantity>', 'resize the CPU to this quantity first (e.g. 500m, 2)')
    .option('--memory <quantity>', 'resize the memory to this quantity first (e.g. 512Mi, 2Gi)')
    .option('-u, --usage', 'print the capacity the command used afterwards (on stderr)')
    .option('-k, --kill', 'scale the environment to zero after the command (also --kill_after)')
    .option('--any-owner', "act on somebody else's environment")
    .option('--timeout <seconds>', 'how long to wait for a sleeping environment to wake', '300')
    .passThroughOptions()
    .action(async (name: string, args: string[], o: RunOptions) => {
      // passThroughOptions keeps the `--` that ends runbox's own options.
      const argv = args[0] === '--' ? args.slice(1) : args;
      rejectProblems(runProblems(name, argv, o));
      const { io } = ctx;
      const result = await runInEnv(envDeps(ctx, o, { quiet: true }), {
        name,
        argv,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        allocation: parseAllocation(o).allocation,
        flushUsage: Boolean(o.usage),
        kill: Boolean(o.kill),
        anyOwner: Boolean(o.anyOwner),
        wakeTimeoutMs: Number(o.timeout) * 1000,
      });
      ctx.exitCode = result.exitCode;
      if (o.usage) io.stderr.write(`Capacity used: ${result.usage.units} units (${result.usage.durationMs} ms)\n`);
    });
}
