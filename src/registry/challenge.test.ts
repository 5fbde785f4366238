import { describe, expect, it } from 'vitest';
import { challengeScopes, parseChallenges } from './challenge.ts';

describe('parseChallenges', () => {
  it('reads a Docker Hub Bearer challenge', () => {
    const h = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"';
    expect(parseChallenges(h)).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' } },
    ]);
  });

  it('keeps commas, spaces and escaped quotes inside quoted values', () => {
    const h = 'Bearer realm="https://a/t?x=1,2", scope="repository:a:pull,push repository:b:pull", error="say \\"hi\\""';
    const [c] = parseChallenges(h);
    expect(c?.params).toEqual({ realm: 'https://a/t?x=1,2', scope: 'repository:a:pull,push repository:b:pull', error: 'say "hi"' });
    expect(challengeScopes(c!)).toEqual(['repository:a:pull,push', 'repository:b:pull']);
  });

  it('reads Basic, unquoted values, odd case and spacing', () => {
    expect(parseChallenges('basic Realm=Registry')).toEqual([{ scheme: 'basic', params: { realm: 'Registry' } }]);
    expect(parseChallenges('Basic realm = "r" ,  charset="UTF-8"')).toEqual([{ scheme: 'basic', params: { realm: 'r', charset: 'UTF-8' } }]);
  });

  it('splits several challenges in one header', () => {
    const cs = parseChallenges('Basic realm="r1", Bearer realm="https://t",service="s"');
    expect(cs.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(cs[1]?.params).toEqual({ realm: 'https://t', service: 's' });
  });

  it('skips a token68 and keeps going', () => {
    expect(parseChallenges('Negotiate abc==, Bearer realm="x"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'bearer', params: { realm: 'x' } },
    ]);
  });

  it('has no challenges in an empty header and no scopes without scope', () => {
    expect(parseChallenges('')).toEqual([]);
    expect(challengeScopes({ scheme: 'bearer', params: { realm: 'x' } })).toEqual([]);
  });
});
