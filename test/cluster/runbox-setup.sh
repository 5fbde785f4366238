#!/usr/bin/env bash
# What an admin does once per cluster, done for the dev cluster: apply
# manifests/ and write the cluster config with the dev cluster's own Node
# image (the official one cannot be pulled here) and its registry: sidecars
# push snapshots to the node address (pods cannot reach the host's loopback),
# containerd pulls them from 127.0.0.1, the address it pulls over plain HTTP
# with no further config. Idempotent.
set -euo pipefail
source "$(dirname "$0")/config.sh"

kubectl_dev apply -k "$REPO_ROOT/manifests" >>"$LOGS/up.log" 2>&1 || die "kubectl apply -k manifests/ failed; see $LOGS/up.log"
kubectl_dev -n runbox-system create configmap runbox-config \
  --from-literal=node-image="$(cat "$DEV/node-image")" \
  --from-literal=registry-push="$NODE_IP:${REGISTRY##*:}" --from-literal=registry-pull="$REGISTRY" \
  --dry-run=client -o yaml |
  kubectl_dev apply -f - >>"$LOGS/up.log" 2>&1 || die "writing runbox-config failed; see $LOGS/up.log"
