import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { REFUSAL_MARKER } from '../../contract/idle.ts';
import { refusalSniffer } from './refusal.ts';

async function through(chunks: string[]): Promise<{ out: string; refusal: string | undefined }> {
  const sink = new PassThrough();
  const got: Buffer[] = [];
  sink.on('data', (c: Buffer) => got.push(c));
  const s = refusalSniffer(sink);
  for (const c of chunks) await new Promise<void>((r) => s.stream.write(Buffer.from(c), () => r()));
  await s.close();
  return { out: Buffer.concat(got).toString(), refusal: s.refusal() };
}

describe('refusalSniffer', () => {
  it('takes out the refusal line, in one chunk or split anywhere, with a terminal line end too', async () => {
    expect(await through([`${REFUSAL_MARKER}draining\n`])).toEqual({ out: '', refusal: 'draining' });
    expect(await through(['\0run', 'box-refused do', 'zing\r\n'])).toEqual({ out: '', refusal: 'dozing' });
  });

  it('passes everything else through unchanged', async () => {
    expect(await through(['hello\n', 'world\n'])).toEqual({ out: 'hello\nworld\n', refusal: undefined });
    expect(await through(['\0', 'binary'])).toEqual({ out: '\0binary', refusal: undefined });
    expect(await through([`${REFUSAL_MARKER}something else\nmore`])).toEqual({ out: `${REFUSAL_MARKER}something else\nmore`, refusal: undefined });
    expect(await through([`${REFUSAL_MARKER}draining`])).toEqual({ out: `${REFUSAL_MARKER}draining`, refusal: undefined });
  });

  it('only looks at the start: a marker later in the output is output', async () => {
    expect(await through(['x', `${REFUSAL_MARKER}draining\n`])).toEqual({ out: `x${REFUSAL_MARKER}draining\n`, refusal: undefined });
  });
});
