import { Command } from 'commander';
import { RunboxError } from '../../errors.ts';
import { nameProblems } from '../../env/names.ts';
import { runInEnv } from '../../env/run.ts';
import type { Terminal } from '../../kube/exec-socket.ts';
import { envDeps, rejectProblems, withGlobals, type CliContext, type GlobalOptions } from '../context.ts';
import type { CliIo } from '../io.ts';

interface ShellOptions extends GlobalOptions {
  anyOwner?: boolean;
  timeout: string;
}

function localTerminal(io: CliIo): Terminal {
  return {
    size: () => ({ width: io.stdout.columns ?? 80, height: io.stdout.rows ?? 24 }),
    onResize(listener) {
      io.stdout.on('resize', listener);
      return () => io.stdout.off('resize', listener);
    },
  };
}

export function shellCommand(ctx: CliContext): Command {
  return withGlobals(new Command('shell'))
    .description('open an interactive shell in an environment')
    .argument('<name>', 'environment name')
    .option('--any-owner', "act on somebody else's environment")
    .option('--timeout <seconds>', 'how long to wait for a sleeping environment to wake', '300')
    .action(async (name: string, o: ShellOptions) => {
      rejectProblems(nameProblems(name));
      const { io } = ctx;
      if (!io.stdin.isTTY || !io.stdin.setRawMode) {
        throw new RunboxError('runbox shell needs a terminal on stdin', {
          hint: `run commands without one as: runbox ${name} CMD`,
        });
      }
      // Raw mode: keys (Ctrl-C included) go to the remote shell, not to us.
      io.stdin.setRawMode(true);
      try {
        ({ exitCode: ctx.exitCode } = await runInEnv(envDeps(ctx, o, { quiet: true }), {
          name,
          argv: [],
          shell: { term: io.env.TERM ?? 'xterm' },
          stdin: io.stdin,
          stdout: io.stdout,
          stderr: io.stderr,
          terminal: localTerminal(io),
          flushUsage: false,
          kill: false,
          anyOwner: Boolean(o.anyOwner),
          wakeTimeoutMs: Number(o.timeout) * 1000,
        }));
      } finally {
        io.stdin.setRawMode(false);
      }
    });
}
