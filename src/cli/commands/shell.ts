import { Command } from 'commander';
import { RunboxError } from '../../errors.ts';
import { nameProblems } from '../../env/names.ts';
import { runRemembered } from '../remembered-run.ts';
import { anyOwnerOption, timeoutOption } from '../options.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import { localTerminal, withRawTerminal } from '../terminal.ts';

interface ShellOptions extends GlobalOptions {
  anyOwner?: boolean;
  timeout: number;
}

export function shellCommand(ctx: CliContext): Command {
  return withGlobals(new Command('shell'))
    .description('open an interactive shell in an environment')
    .argument('<name>', 'environment name')
    .addOption(anyOwnerOption())
    .addOption(timeoutOption('a sleeping environment to wake'))
    .action(async (name: string, o: ShellOptions) => {
      rejectProblems(nameProblems(name));
      const { io } = ctx;
      if (!io.stdin.isTTY || !io.stdin.setRawMode) {
        throw new RunboxError('runbox shell needs a terminal on stdin', {
          hint: `run commands without one as: runbox ${name} CMD`,
        });
      }
      const deps = await envDeps(ctx, o, { quiet: true });
      const result = await withRawTerminal(io, true, () =>
        runRemembered(
          ctx,
          deps,
          {
            name,
            argv: [],
            shell: { term: io.env.TERM ?? 'xterm' },
            io: { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, terminal: localTerminal(io), onSignal: io.onSignal },
            kill: false,
            anyOwner: Boolean(o.anyOwner),
            wakeTimeoutMs: o.timeout,
          },
          { flushUsage: false },
        ),
      );
      ctx.exitCode = result.exitCode;
    });
}
