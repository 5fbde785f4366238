// Each command loads its operation when it runs, so `runbox NAME CMD` never loads the others.
import { Command, CommanderError } from 'commander';
import { RunboxError } from '../errors.ts';
import { completionCommand } from './commands/completion.ts';
import { createCommand } from './commands/create.ts';
import { configCommand } from './commands/config.ts';
import { deleteCommand } from './commands/delete.ts';
import { doctorCommand } from './commands/doctor.ts';
import { listCommand } from './commands/list.ts';
import { resizeCommand } from './commands/resize.ts';
import { runCommand } from './commands/run.ts';
import { shellCommand } from './commands/shell.ts';
import { statusCommand } from './commands/status.ts';
import { stopCommand } from './commands/stop.ts';
import { snapshotCommand } from './commands/snapshot.ts';
import { historyCommand } from './commands/history.ts';
import { idleCommand } from './commands/idle.ts';
import { controllerCommand } from './commands/controller.ts';
import { rollbackCommand } from './commands/rollback.ts';
import { syncCommand } from './commands/sync.ts';
import { usageCommand } from './commands/usage.ts';
import type { CliContext } from './context.ts';

export const VERSION = '0.1.0';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('runbox')
    .description('Elastic, persistent execution environments on your own Kubernetes cluster')
    .usage('[options] NAME CMD [ARGS...] | COMMAND ...')
    .version(VERSION, '--version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // Commander's own errors become RunboxErrors, printed by main as one line.
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `
Seed forms (2019): runbox --create NAME --image IMG | runbox NAME CMD | runbox --list |
                   runbox --kill NAME CMD | runbox --delete NAME`,
    );
  const commands = [
    createCommand, runCommand, shellCommand, listCommand, statusCommand, resizeCommand, usageCommand,
    stopCommand, deleteCommand, syncCommand, snapshotCommand, (c: CliContext) => snapshotCommand(c, true), historyCommand, rollbackCommand, idleCommand, controllerCommand, configCommand, doctorCommand, completionCommand,
  ];
  for (const make of commands) {
    program.addCommand(make(ctx).exitOverride().configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      outputError: () => {},
    }));
  }
  return program;
}

/** Maps commander's parse failures (unknown option, missing argument) to our error. */
export function fromCommander(err: CommanderError): RunboxError | undefined {
  if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) return undefined;
  return new RunboxError(err.message.replace(/^error: /, ''), { cause: err, hint: 'see runbox --help' });
}
