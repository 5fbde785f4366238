import { DOZE_NOT_APPLIED, IDLE_ENDPOINT } from '../src/contract/idle.ts';
import { SIDECAR_ENDPOINT, SIDECAR_PORT, type SidecarStatus } from '../src/contract/sidecar.ts';
import { RunboxError } from '../src/errors.ts';
import { requestJson } from '../src/kube/rest.ts';
import type { KubeTarget } from '../src/kube/target.ts';

/*
 * The controller's calls to an environment's sidecar: straight to the pod's
 * IP from inside the cluster, through the API server's pod proxy from a
 * laptop (`runbox controller`), which cannot reach pod IPs.
 */

export type SidecarRoute = 'pod-ip' | 'proxy';

export interface SidecarTarget {
  namespace: string;
  pod: string;
  ip: string | undefined;
}

export interface SidecarAnswer {
  status: number;
  body: unknown;
}

/** The sidecar never saw the worker's CPU shrink (the kubelet refused the resize): the quota it sees instead. */
export interface NotApplied {
  applied: number | null;
}

const TIMEOUT_MS = 10_000;

export function sidecarClient(kube: KubeTarget, route: SidecarRoute) {
  async function call(to: SidecarTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<SidecarAnswer> {
    if (route === 'proxy') {
      const proxy = `/api/v1/namespaces/${encodeURIComponent(to.namespace)}/pods/${encodeURIComponent(`${to.pod}:${SIDECAR_PORT}`)}/proxy${path}`;
      return requestJson(kube, { method, path: proxy, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    }
    if (!to.ip) throw new RunboxError(`pod ${to.namespace}/${to.pod} has no IP yet`);
    const res = await fetch(`http://${to.ip}:${SIDECAR_PORT}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text (an error message)
    }
    return { status: res.status, body: parsed };
  }

  const expectStatus = (what: string, a: SidecarAnswer): SidecarStatus => {
    if (a.status !== 200 && a.status !== 409) throw new RunboxError(`${what}: the sidecar answered HTTP ${a.status}: ${JSON.stringify(a.body).slice(0, 200)}`);
    return a.body as SidecarStatus;
  };

  return {
    async status(to: SidecarTarget): Promise<SidecarStatus> {
      return expectStatus('status', await call(to, 'GET', SIDECAR_ENDPOINT.status));
    },
    /** True once draining; a status when something runs. */
    async drain(to: SidecarTarget): Promise<true | SidecarStatus> {
      const a = await call(to, 'POST', IDLE_ENDPOINT.drain);
      return a.status === 200 ? true : expectStatus('drain', a);
    },
    async undrain(to: SidecarTarget): Promise<void> {
      const a = await call(to, 'POST', IDLE_ENDPOINT.undrain);
      if (a.status !== 200) throw new RunboxError(`undrain: the sidecar answered HTTP ${a.status}`);
    },
    /** True once dozing; a status when something runs; what quota holds when the shrink was not applied. */
    async doze(to: SidecarTarget, quota: number): Promise<true | SidecarStatus | NotApplied> {
      const a = await call(to, 'POST', IDLE_ENDPOINT.doze, { quota });
      if (a.status === DOZE_NOT_APPLIED) return { applied: (a.body as { applied?: number | null }).applied ?? null };
      return a.status === 200 ? true : expectStatus('doze', a);
    },
  };
}

export type SidecarClient = ReturnType<typeof sidecarClient>;
