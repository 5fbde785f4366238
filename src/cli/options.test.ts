import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseSeconds, timeoutOption } from './options.ts';

describe('--timeout', () => {
  it.each(['abc', '', '0', '-5', 'Infinity', '1e999', '10s'])('refuses %j before anything runs', (v) => {
    expect(() => parseSeconds(v)).toThrow(/must be a number of seconds above 0/);
  });

  it('parses seconds to milliseconds, 300 s by default', () => {
    const parse = (...args: string[]) =>
      new Command().exitOverride().configureOutput({ writeErr: () => {} }).addOption(timeoutOption('x')).parse(args, { from: 'user' }).opts();
    expect(parse()).toEqual({ timeout: 300_000 });
    expect(parse('--timeout', '2.5')).toEqual({ timeout: 2500 });
    expect(() => parse('--timeout', 'abc')).toThrow(CommanderError);
  });
});
