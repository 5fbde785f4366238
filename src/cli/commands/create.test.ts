import { describe, expect, it } from 'vitest';
import { validateCreate } from './create.ts';

const opts = { allocate: '1', volumeSize: '10Gi', nodeSelector: [], gpu: '0', timeout: 300_000 };

describe('validateCreate', () => {
  it.each(['status', 'list', 'shell', 'run', 'help', 'sync'])('refuses the name of a runbox command: %s', (name) => {
    const { problems } = validateCreate(name, opts);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^"${name}" is a runbox command`))]);
  });

  it('accepts an ordinary name and reports every other problem at once', () => {
    expect(validateCreate('myrb', opts).problems).toEqual([]);
    const { problems } = validateCreate('My_Env', { ...opts, allocate: 'x', gpu: '1.5' });
    expect(problems).toHaveLength(3);
  });
});
