// The floor of a warm exec from Node: start Node, load ws, one exec upgrade of
// `true` over one websocket, nothing else (no argv parsing, no cache, no
// prologue). Plain JavaScript, so Node does not even strip types.
//   node bench/floor-exec.mjs KUBECONFIG NAMESPACE POD
import module from 'node:module';
import { readFileSync } from 'node:fs';

module.enableCompileCache?.();
const { default: WebSocket } = await import('ws');
const [kubeconfig, namespace, pod] = process.argv.slice(2);
const text = readFileSync(kubeconfig, 'utf8');
const field = (key) => new RegExp(`${key}: (.*)`).exec(text)[1].trim();
const data = (key) => Buffer.from(field(key), 'base64');
const url = `${field('server').replace(/^http/, 'ws')}/api/v1/namespaces/${namespace}/pods/${pod}/exec?container=worker&command=true&stdout=true&stderr=true`;
const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
  ca: data('certificate-authority-data'),
  cert: data('client-certificate-data'),
  key: data('client-key-data'),
  perMessageDeflate: false,
});
let status = '';
ws.on('message', (m) => {
  if (m[0] === 3) status = m.subarray(1).toString();
});
ws.on('close', () => process.exit(status.includes('Success') ? 0 : 1));
ws.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
