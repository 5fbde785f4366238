import { Command } from 'commander';
import { nameProblems } from '../../env/names.ts';
import { runInEnv } from '../../env/run.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';

interface RunOptions extends GlobalOptions {
  kill?: boolean;
  anyOwner?: boolean;
  timeout: string;
}

export function runProblems(name: string, argv: string[], o: RunOptions): string[] {
  const problems = nameProblems(name).map((p) => `invalid environment name "${name}": ${p}`);
  if (argv.length === 0) problems.push('no command given (runbox NAME CMD [ARGS...])');
  if (!(Number(o.timeout) > 0)) problems.push(`--timeout must be a number of seconds, not "${o.timeout}"`);
  return problems;
}

export function runCommand(ctx: CliContext): Command {
  return withGlobals(new Command('run'))
    .description('run a command in an environment, waking it if it sleeps (also: runbox NAME CMD...)')
    .argument('<name>', 'environment name')
    .argument('[command...]', 'the command and its arguments, kept exactly')
    .option('-k, --kill', 'scale the environment to zero after the command (also --kill_after)')
    .option('--any-owner', "act on somebody else's environment")
    .option('--timeout <seconds>', 'how long to wait for a sleeping environment to wake', '300')
    .passThroughOptions()
    .action(async (name: string, args: string[], o: RunOptions) => {
      // passThroughOptions keeps the `--` that ends runbox's own options.
      const argv = args[0] === '--' ? args.slice(1) : args;
      rejectProblems(runProblems(name, argv, o));
      const { io } = ctx;
      ctx.exitCode = await runInEnv(envDeps(ctx, o, { quiet: true }), {
        name,
        argv,
        stdin: io.stdin,
        stdout: io.stdout,
        stderr: io.stderr,
        kill: Boolean(o.kill),
        anyOwner: Boolean(o.anyOwner),
        wakeTimeoutMs: Number(o.timeout) * 1000,
      });
    });
}
