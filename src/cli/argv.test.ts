import { describe, expect, it } from 'vitest';
import { rewriteArgv } from './argv.ts';

describe('rewriteArgv', () => {
  it.each([
    [['--create', 'myrb', '--image', 'ubuntu:18.10'], ['create', 'myrb', '--image', 'ubuntu:18.10']],
    [['-c', 'myrb'], ['create', 'myrb']],
    [['-n', 'dev', '--create', 'myrb', '--image', 'x'], ['create', 'myrb', '-n', 'dev', '--image', 'x']],
    [['myrb', 'hostname'], ['run', 'myrb', '--', 'hostname']],
    [['--list'], ['list']],
    [['-l', '-o', 'json'], ['list', '-o', 'json']],
    [['--delete', 'myrb', '--yes'], ['delete', 'myrb', '--yes']],
    [['--kill', 'myrb', 'true'], ['run', '--kill', 'myrb', '--', 'true']],
    [['--kill_after', 'myrb', 'true'], ['run', '--kill', 'myrb', '--', 'true']],
    [['-k', 'myrb', 'ls', '-la'], ['run', '-k', 'myrb', '--', 'ls', '-la']],
    [['--context', 'kind', '-n', 'x', 'myrb', 'sh', '-c', 'echo $A'], ['run', '--context', 'kind', '-n', 'x', 'myrb', '--', 'sh', '-c', 'echo $A']],
    [['myrb', '--', '--weird'], ['run', 'myrb', '--', '--weird']],
    [['-n', 'x', 'list'], ['list', '-n', 'x']],
    [['run', 'myrb', '--', 'ls'], ['run', 'myrb', '--', 'ls']],
    [['create', 'myrb'], ['create', 'myrb']],
    [['-a', '2', 'myrb', 'cat', '/x'], ['run', '-a', '2', 'myrb', '--', 'cat', '/x']],
    [['-u', '--cpu', '1', '--memory', '1Gi', 'myrb', 'sleep', '1'], ['run', '-u', '--cpu', '1', '--memory', '1Gi', 'myrb', '--', 'sleep', '1']],
    [['--version'], ['--version']],
    [[], []],
  ])('%j -> %j', (input, expected) => {
    expect(rewriteArgv(input)).toEqual(expected);
  });
});
