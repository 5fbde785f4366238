#!/usr/bin/env bash
# Builds a standalone kubectl of the dev cluster's version into the cache: the
# tool as users have it, which the benchmarks compare against (the multi-call
# binary of the dev cluster starts some 35 ms slower than a kubectl of its own).
set -euo pipefail
source "$(dirname "$0")/config.sh"

out=$CACHE/bin/kubectl-$K8S_VERSION
if [ ! -x "$out" ]; then
  log "building a standalone kubectl $K8S_VERSION"
  ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=34"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$REPO_ROOT/test/cluster/kube" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ld" -o "$out.tmp" k8s.io/kubernetes/cmd/kubectl)
  mv "$out.tmp" "$out"
fi
echo "$out"
