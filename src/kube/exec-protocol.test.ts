import { describe, expect, it } from 'vitest';
import { Channel, STDIN_CLOSE_FRAME, execPath, frame, parseExecStatus, resizeFrame } from './exec-protocol.ts';

describe('parseExecStatus', () => {
  it('reads success as exit code 0', () => {
    expect(parseExecStatus('{"metadata":{},"status":"Success"}')).toEqual({ kind: 'exited', code: 0 });
  });

  it('reads the exit code of a non-zero exit', () => {
    const status = {
      status: 'Failure',
      reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 42], exit code 42',
      details: { causes: [{ reason: 'ExitCode', message: '42' }] },
    };
    expect(parseExecStatus(JSON.stringify(status))).toEqual({ kind: 'exited', code: 42 });
  });

  it('reports any other failure with its message', () => {
    const status = { status: 'Failure', message: 'container not found ("worker")' };
    expect(parseExecStatus(JSON.stringify(status))).toEqual({ kind: 'failed', message: 'container not found ("worker")' });
  });

  it('does not trust an exit code out of range', () => {
    const status = { status: 'Failure', reason: 'NonZeroExitCode', message: 'x', details: { causes: [{ reason: 'ExitCode', message: '300' }] } };
    expect(parseExecStatus(JSON.stringify(status)).kind).toBe('failed');
  });

  it('survives garbage', () => {
    expect(parseExecStatus('not json').kind).toBe('failed');
  });
});

describe('frames', () => {
  it('puts the channel byte first', () => {
    expect([...frame(Channel.stdin, Buffer.from('hi'))]).toEqual([0, 104, 105]);
  });

  it('encodes a resize as JSON on channel 4', () => {
    const f = resizeFrame(80, 24);
    expect(f[0]).toBe(4);
    expect(JSON.parse(f.subarray(1).toString())).toEqual({ Width: 80, Height: 24 });
  });

  it('closes stdin with the v5 close signal', () => {
    expect([...STDIN_CLOSE_FRAME]).toEqual([255, 0]);
  });
});

describe('execPath', () => {
  it('passes one command parameter per argv element, unjoined', () => {
    const path = execPath({ namespace: 'ns', pod: 'p', container: 'worker', command: ['sh', '-c', 'echo $A && x'], stdin: true, tty: false });
    const url = new URL(path, 'https://x');
    expect(url.pathname).toBe('/api/v1/namespaces/ns/pods/p/exec');
    expect(url.searchParams.getAll('command')).toEqual(['sh', '-c', 'echo $A && x']);
    expect(url.searchParams.get('stderr')).toBe('true');
    expect(url.searchParams.get('stdin')).toBe('true');
  });

  it('asks for no separate stderr with a tty', () => {
    const url = new URL(execPath({ namespace: 'n', pod: 'p', container: 'c', command: ['sh'], stdin: true, tty: true }), 'https://x');
    expect(url.searchParams.get('tty')).toBe('true');
    expect(url.searchParams.get('stderr')).toBe('false');
  });
});
