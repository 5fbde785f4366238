import { readFile } from 'node:fs/promises';
import { RunboxError } from '../errors.ts';
import { normalizeRegistry } from './reference.ts';

/*
 * Registry credentials from a docker config.json, the file a
 * `kubernetes.io/dockerconfigjson` Secret holds (key `.dockerconfigjson`):
 * `{"auths": {"HOST": {"auth": base64("user:pass")} | {"username", "password"}}}`.
 * Keys may carry a scheme and a path (`https://index.docker.io/v1/`); Docker
 * Hub goes by several names. Credential helpers (`credsStore`, `credHelpers`)
 * cannot run in a pod and `identitytoken` needs an OAuth2 refresh flow: both
 * are ignored.
 */

export interface Credentials {
  username: string;
  password: string;
}

export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

export type ParsedDockerConfig = { ok: true; config: DockerConfig } | { ok: false; problem: string };

export function parseDockerConfig(text: string): ParsedDockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not JSON (${(err as Error).message})` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, problem: 'not a JSON object' };
  const auths = (json as { auths?: unknown }).auths;
  if (auths !== undefined && (typeof auths !== 'object' || auths === null || Array.isArray(auths))) {
    return { ok: false, problem: '"auths" is not an object' };
  }
  return { ok: true, config: json as DockerConfig };
}

/** host[:port] of an `auths` key, Docker Hub as `docker.io`. */
export function authsKeyHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return normalizeRegistry(host.toLowerCase());
}

/** The credentials for `host` (host[:port], any Docker Hub alias), if the config has them. */
export function credentialsFor(config: DockerConfig, host: string): Credentials | undefined {
  const wanted = authsKeyHost(host);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (authsKeyHost(key) !== wanted || typeof entry !== 'object' || entry === null) continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') {
      return { username: entry.username, password: entry.password };
    }
  }
  return undefined;
}

/** Reads a mounted config.json; a missing file means no credentials. */
export async function loadDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new RunboxError(`cannot read registry credentials from ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = parseDockerConfig(text);
  if (!parsed.ok) {
    throw new RunboxError(`registry credentials in ${path} are not a docker config.json: ${parsed.problem}`, {
      hint: 'the registry Secret must be of type kubernetes.io/dockerconfigjson (kubectl create secret docker-registry)',
    });
  }
  return parsed.config;
}
