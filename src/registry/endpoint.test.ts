import { describe, expect, it } from 'vitest';
import { defaultsToPlainHttp, parseEndpoint } from './endpoint.ts';

describe('parseEndpoint', () => {
  it.each<[string, boolean | undefined, string, string]>([
    ['10.77.0.1:5000', undefined, '10.77.0.1:5000', 'http://10.77.0.1:5000'],
    ['127.0.0.1:5000', undefined, '127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['registry.example.com', undefined, 'registry.example.com', 'https://registry.example.com'],
    ['registry.example.com:5000', true, 'registry.example.com:5000', 'http://registry.example.com:5000'],
    ['10.0.0.5:5000', false, '10.0.0.5:5000', 'https://10.0.0.5:5000'],
    // An explicit scheme beats the option.
    ['http://registry.example.com', false, 'registry.example.com', 'http://registry.example.com'],
    ['https://10.0.0.5:5000/', true, '10.0.0.5:5000', 'https://10.0.0.5:5000'],
    ['docker.io', undefined, 'registry-1.docker.io', 'https://registry-1.docker.io'],
    ['index.docker.io', undefined, 'registry-1.docker.io', 'https://registry-1.docker.io'],
    ['[::1]:5000', undefined, '[::1]:5000', 'http://[::1]:5000'],
  ])('%s (plainHttp %s)', (address, plainHttp, host, origin) => {
    const r = parseEndpoint(address, plainHttp);
    expect(r).toEqual({ ok: true, endpoint: { host, origin, plainHttp: origin.startsWith('http:') } });
  });

  it.each([
    ['10.77.0.1:5000/snapshots', 'a path belongs in the repository name'],
    ['ftp://x', 'expected'],
    ['host:99999', 'out of range'],
    ['', 'expected'],
    ['a b', 'expected'],
  ])('rejects %j', (address, why) => {
    const r = parseEndpoint(address);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toContain(why);
  });
});

describe('defaultsToPlainHttp', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST:5000', true],
    ['127.0.0.1', true],
    ['127.8.9.10:80', true],
    ['[::1]:5000', true],
    ['10.77.0.1:5000', true],
    ['172.16.0.1', true],
    ['172.31.255.255:5000', true],
    ['172.32.0.1', false],
    ['172.15.0.1', false],
    ['192.168.1.10:5000', true],
    ['192.169.1.10', false],
    ['8.8.8.8', false],
    ['10.0.0.256', false],
    ['registry.example.com', false],
    ['10.example.com', false],
    ['[fd00::1]:5000', false],
  ])('%s -> %s', (host, plain) => {
    expect(defaultsToPlainHttp(host)).toBe(plain);
  });
});
