#!/usr/bin/env bash
# Builds the multi-call Kubernetes binary (kube-apiserver, controller-manager,
# scheduler, kubelet, kubeadm, kubectl, etcd) once into the cache, and links
# the component names to it.
set -euo pipefail
source "$(dirname "$0")/config.sh"

if [ ! -x "$KUBE_BIN" ]; then
  log "building Kubernetes $K8S_VERSION from Go modules (first time: 15-25 min on 2 cores)"
  mkdir -p "$(dirname "$KUBE_BIN")"
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=34"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  start=$SECONDS
  (cd "$REPO_ROOT/test/cluster/kube" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ld" -o "$KUBE_BIN.tmp" .)
  mv "$KUBE_BIN.tmp" "$KUBE_BIN"
  log "built $KUBE_BIN in $((SECONDS - start)) s"
fi
mkdir -p "$BIN"
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kubectl etcd; do
  ln -sf "$KUBE_BIN" "$BIN/$c"
done
