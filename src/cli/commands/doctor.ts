import { Command } from 'commander';
import type { CliContext } from '../context.ts';

// Placeholder: being written.
export function doctorCommand(_ctx: CliContext): Command {
  return new Command('doctor').description('check that the current cluster can run runbox environments');
}
