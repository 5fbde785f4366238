import { DOCKER_HUB, DOCKER_HUB_API, normalizeRegistry } from './reference.ts';

/*
 * Where a registry answers and over which scheme. The rule, in order:
 *  1. an explicit `http://` or `https://` in the configured address;
 *  2. else the caller's `plainHttp` option;
 *  3. else plain HTTP for `localhost` and loopback or private (RFC 1918) IP
 *     literals, HTTPS for every other host.
 * Why 3: a registry addressed by a loopback or private IP cannot hold a
 * publicly trusted certificate, so in practice it is a dev or in-cluster
 * registry on plain HTTP (as the dev cluster's 10.77.0.1:5000 is); a name is
 * the usual sign of a certificate, and credentials must not go out in clear.
 * A private-IP registry with TLS is written `https://10.0.0.5:5000`. Pure.
 */

export interface RegistryEndpoint {
  /** host[:port] as the registry sees it in repository names and credentials. */
  host: string;
  /** scheme://host[:port], where the /v2/ API lives. */
  origin: string;
  plainHttp: boolean;
}

export type ParsedEndpoint = { ok: true; endpoint: RegistryEndpoint } | { ok: false; problem: string };

const ADDRESS = /^(?:(https?):\/\/)?((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?)\/?$/;

export function parseEndpoint(address: string, plainHttp?: boolean): ParsedEndpoint {
  const m = ADDRESS.exec(address.trim());
  if (!m) {
    const otherScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) && !/^https?:\/\//i.test(address);
    const why = !otherScheme && /^[^/]+\/./.test(address.replace(/^https?:\/\//, ''))
      ? 'give only [http(s)://]host[:port]; a path belongs in the repository name'
      : 'expected [http(s)://]host[:port]';
    return { ok: false, problem: `invalid registry address "${address}": ${why}` };
  }
  const scheme = m[1];
  const written = m[2] as string;
  const port = m[3];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return { ok: false, problem: `invalid registry address "${address}": port ${port} is out of range` };
  }
  const host = normalizeRegistry(written) === DOCKER_HUB ? DOCKER_HUB_API : written;
  const plain = scheme !== undefined ? scheme === 'http' : plainHttp ?? defaultsToPlainHttp(host);
  return { ok: true, endpoint: { host, origin: `${plain ? 'http' : 'https'}://${host}`, plainHttp: plain } };
}

/** Rule 3 above: localhost, loopback and private IPv4 literals, IPv6 loopback. */
export function defaultsToPlainHttp(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:[0-9]+$/, '');
  if (name.toLowerCase() === 'localhost' || name === '::1') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name)?.slice(1).map(Number);
  if (!octets || octets.some((o) => o > 255)) return false;
  const [a, b] = octets as [number, number];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
