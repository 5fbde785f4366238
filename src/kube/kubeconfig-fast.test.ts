import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectSlow } from './client.ts';
import { resolveFast } from './kubeconfig-fast.ts';

// The hot path's own kubeconfig reader must land where client-node's
// KubeConfig does, for every kubeconfig it accepts.

const dir = mkdtempSync(join(tmpdir(), 'runbox-kc-'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
writeFileSync(join(dir, 'ca.crt'), 'CA FROM FILE');
writeFileSync(join(dir, 'client.key'), 'KEY FROM FILE');

const first = join(dir, 'first');
writeFileSync(
  first,
  `apiVersion: v1
kind: Config
current-context: certs
clusters:
- name: a
  cluster: {server: "https://10.0.0.1:6443/", certificate-authority-data: ${b64('CA DATA')}}
- name: b
  cluster: {server: "https://b.example:443", certificate-authority: ca.crt, tls-server-name: api.b}
users:
- name: certs
  user: {client-certificate-data: ${b64('CERT DATA')}, client-key: client.key}
- name: token
  user: {token: abc123}
- name: plugin
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}}
contexts:
- name: certs
  context: {cluster: a, user: certs, namespace: team}
- name: token
  context: {cluster: b, user: token}
- name: plugin
  context: {cluster: a, user: plugin}
`,
);
const second = join(dir, 'second');
writeFileSync(
  second,
  `apiVersion: v1
kind: Config
current-context: other
clusters: [{name: c, cluster: {server: "https://elsewhere:1"}}]
users: []
contexts: []
`,
);

describe('resolveFast', () => {
  it('resolves client certificates like client-node does', async () => {
    const env = { KUBECONFIG: `${first}:${second}` };
    const fast = resolveFast({}, env);
    const slow = await connectSlow({}, env);
    expect(fast).toEqual({
      server: 'https://10.0.0.1:6443',
      namespace: 'team',
      context: 'certs',
      tls: { ca: Buffer.from('CA DATA'), cert: Buffer.from('CERT DATA'), key: Buffer.from('KEY FROM FILE') },
      headers: {},
      user: 'certs',
    });
    expect(slow.server).toBe(fast?.server);
    expect(slow.user).toBe('certs');
    expect(slow.namespace).toBe(fast?.namespace);
    expect(Buffer.from(slow.tls.ca!).toString()).toBe('CA DATA');
    expect(Buffer.from(slow.tls.cert!).toString()).toBe('CERT DATA');
    expect(Buffer.from(slow.tls.key!).toString()).toBe('KEY FROM FILE');
  });

  it('resolves a bearer token, a CA file relative to the kubeconfig, and the flags', async () => {
    const sel = { kubeconfig: first, context: 'token', namespace: 'ns1' };
    const fast = resolveFast(sel, {});
    const slow = await connectSlow(sel, {});
    expect(fast).toMatchObject({
      server: 'https://b.example:443',
      namespace: 'ns1',
      tls: { ca: Buffer.from('CA FROM FILE'), servername: 'api.b' },
      headers: { Authorization: 'Bearer abc123' },
    });
    expect(slow.headers.Authorization).toBe('Bearer abc123');
    expect(slow.namespace).toBe('ns1');
  });

  it('leaves exec plugins and unknown contexts to client-node', () => {
    expect(resolveFast({ kubeconfig: first, context: 'plugin' }, {})).toBeUndefined();
    expect(resolveFast({ kubeconfig: first, context: 'nope' }, {})).toBeUndefined();
  });

  it('uses the default namespace when the context names none', () => {
    expect(resolveFast({ kubeconfig: first, context: 'token' }, {})?.namespace).toBe('default');
  });
});
