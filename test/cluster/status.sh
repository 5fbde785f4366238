#!/usr/bin/env bash
# Says which dev-cluster processes run and whether the API server and node are ready.
set -uo pipefail
source "$(dirname "$0")/config.sh"

rc=0
for name in registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do
  pid=$(cat "$PIDS/$name.pid" 2>/dev/null)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
    printf '%-24s running  pid %-7s rss %4s MiB\n' "$name" "$pid" "$rss"
  else
    printf '%-24s stopped\n' "$name"; rc=1
  fi
done
if [ -f "$KUBECONFIG_OUT" ] && kubectl_dev get --raw /readyz >/dev/null 2>&1; then
  echo "api server: ready at https://$NODE_IP:6443 (KUBECONFIG=$KUBECONFIG_OUT)"
  kubectl_dev get nodes --no-headers 2>/dev/null | sed 's/^/node: /'
else
  echo "api server: not ready"; rc=1
fi
exit $rc
