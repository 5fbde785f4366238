import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialsFor, loadDockerConfig, parseDockerConfig, type DockerConfig } from './credentials.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const config: DockerConfig = {
  auths: {
    'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
    'registry.example.com': { username: 'u', password: 'p' },
    'http://10.77.0.1:5000': { auth: b64('dev:secret') },
    'broken.example.com': { auth: b64('no-colon') },
  },
};

describe('credentialsFor', () => {
  it.each([
    ['registry-1.docker.io', { username: 'hubuser', password: 'hub:pass' }],
    ['docker.io', { username: 'hubuser', password: 'hub:pass' }],
    ['registry.example.com', { username: 'u', password: 'p' }],
    ['REGISTRY.example.com', { username: 'u', password: 'p' }],
    ['10.77.0.1:5000', { username: 'dev', password: 'secret' }],
    ['10.77.0.1', undefined],
    ['other.example.com', undefined],
    ['broken.example.com', undefined],
  ])('%s', (host, creds) => {
    expect(credentialsFor(config, host)).toEqual(creds);
  });

  it('has nothing in an empty config', () => {
    expect(credentialsFor({}, 'docker.io')).toBeUndefined();
  });
});

describe('parseDockerConfig', () => {
  it('accepts a Secret’s .dockerconfigjson and rejects what is not one', () => {
    expect(parseDockerConfig(JSON.stringify(config))).toEqual({ ok: true, config });
    expect(parseDockerConfig('{"auths": []}')).toEqual({ ok: false, problem: '"auths" is not an object' });
    expect(parseDockerConfig('[]').ok).toBe(false);
    expect(parseDockerConfig('nope').ok).toBe(false);
  });

  it('loads a mounted file; a missing one means no credentials', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runbox-creds-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    expect(credentialsFor(await loadDockerConfig(join(dir, 'config.json')), 'registry.example.com')).toEqual({ username: 'u', password: 'p' });
    expect(await loadDockerConfig(join(dir, 'absent.json'))).toEqual({});
    await writeFile(join(dir, 'bad.json'), '{');
    await expect(loadDockerConfig(join(dir, 'bad.json'))).rejects.toThrow(/not a docker config.json/);
  });
});
