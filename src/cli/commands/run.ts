import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { runRemembered } from '../remembered-run.ts';
import { localTerminal, wantsTerminal, withRawTerminal } from '../terminal.ts';
import { parseAllocation, type AllocationOptions } from './allocation-options.ts';

interface RunOptions extends GlobalOptions, AllocationOptions {
  kill?: boolean;
  usage?: boolean;
  /** -t: true, -T: false, neither: undefined. */
  tty?: boolean;
  anyOwner?: boolean;
  timeout: number;
}

export function runProblems(name: string, argv: string[], o: RunOptions): string[] {
  const problems = nameProblems(name);
  if (argv.length === 0) problems.push('no command given (runbox NAME CMD [ARGS...])');
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
    .option('-t, --tty', 'give the command a terminal even when runbox has none (as ssh -t, docker -t)')
    .option('-T, --no-tty', 'never give the command a terminal (by default it gets one when stdin and stdout are terminals)')
    .option('-u, --usage', 'print the capacity the command used afterwards (on stderr)')
    .option('-k, --kill', 'scale the environment to zero after the command (also --kill_after)')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a sleeping environment to wake'))
    .passThroughOptions()
    .action(async (name: string, args: string[], o: RunOptions) => {
      // passThroughOptions keeps the `--` that ends runbox's own options.
      const argv = args[0] === '--' ? args.slice(1) : args;
      rejectProblems(runProblems(name, argv, o));
      const { io } = ctx;
      const deps = await envDeps(ctx, o, { quiet: true });
      const terminal = wantsTerminal(io, o.tty) ? localTerminal(io) : undefined;
      const result = await withRawTerminal(io, terminal !== undefined, () => runRemembered(
        ctx,
        deps,
        {
          name,
          argv,
          io: { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, terminal, onSignal: io.onSignal },
          allocation: parseAllocation(o).allocation,
          kill: Boolean(o.kill),
          anyOwner: Boolean(o.anyOwner),
          wakeTimeoutMs: o.timeout,
        },
        { flushUsage: Boolean(o.usage) },
      ));
      ctx.exitCode = result.exitCode;
      if (o.usage) io.stderr.write(`Capacity used: ${result.usage.units} units (${result.usage.durationMs} ms)\n`);
    });
}
