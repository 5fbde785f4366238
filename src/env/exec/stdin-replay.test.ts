import { PassThrough, type Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { replayableInput } from './stdin-replay.ts';

const drain = async (r: Readable) => {
  const got: Buffer[] = [];
  for await (const c of r) got.push(c as Buffer);
  return Buffer.concat(got).toString();
};

describe('replayableInput', () => {
  it('gives a second attempt what the first consumed, then the rest', async () => {
    const src = new PassThrough();
    const input = replayableInput(src);
    const first = input.attempt();
    const firstGot: string[] = [];
    first.on('data', (c: Buffer) => firstGot.push(c.toString()));
    src.write('hello ');
    await new Promise((r) => setImmediate(r));
    expect(firstGot.join('')).toBe('hello ');
    const second = input.attempt();
    src.end('world');
    expect(await drain(second)).toBe('hello world');
    expect(input.overflowed()).toBe(false);
  });

  it('says so when more was consumed than it keeps', async () => {
    const src = new PassThrough();
    const input = replayableInput(src, 4);
    const first = input.attempt();
    src.end('too much');
    expect(await drain(first)).toBe('too much');
    expect(input.overflowed()).toBe(true);
  });
});
