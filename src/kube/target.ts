/**
 * Where and as whom to talk to the API server: everything the exec socket and
 * REST calls need, resolved once from kubeconfig.
 */
export interface KubeTarget {
  /** API server base URL without a trailing slash, e.g. https://10.0.0.1:6443 */
  server: string;
  namespace: string;
  context: string;
  /** Options for node:https / ws (ca, cert, key, rejectUnauthorized, servername). */
  tls: {
    ca?: Buffer | string;
    cert?: Buffer | string;
    key?: Buffer | string;
    rejectUnauthorized?: boolean;
    servername?: string;
  };
  headers: Record<string, string>;
  /** The kubeconfig user's name: who we are when the cluster cannot say. */
  user?: string | undefined;
  /** Told of every request before it goes out (the controller counts them for its metrics). */
  onRequest?: ((method: string, path: string) => void) | undefined;
}

/** What the user chose on the command line, kubectl style. */
export interface KubeSelection {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}
