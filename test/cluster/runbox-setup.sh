#!/usr/bin/env bash
# What an admin does once per cluster, done for the dev cluster: apply
# manifests/ and write the cluster config with the dev cluster's own Node
# image (the official one cannot be pulled here) and its registry: sidecars
# push snapshots to the node address (pods cannot reach the host's loopback),
# containerd pulls them from 127.0.0.1, the address it pulls over plain HTTP
# with no further config. Idempotent.
set -euo pipefail
source "$(dirname "$0")/config.sh"

# manifests/ as it is, but with the controller on the dev cluster's own Node image,
# talking to the API server at the node's address: the dev cluster runs no
# kube-proxy, so the kubernetes Service's IP routes nowhere (the host's egress
# proxy answers it).
[ -f "$REPO_ROOT/manifests/controller.mjs" ] || (cd "$REPO_ROOT" && npm run -s build) || die "npm run build failed (it writes manifests/controller.mjs)"
node_image=$(cat "$DEV/node-image")
mkdir -p "$DEV/manifests"
cat >"$DEV/manifests/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../manifests
images:
  - name: node
    newName: ${node_image%:*}
    newTag: ${node_image##*:}
patches:
  - target: {kind: Deployment, name: runbox-controller}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: KUBERNETES_SERVICE_HOST, value: "$NODE_IP"}
      - op: add
        path: /spec/template/spec/containers/0/env/-
        value: {name: KUBERNETES_SERVICE_PORT, value: "6443"}
EOF
kubectl_dev apply -k "$DEV/manifests" >>"$LOGS/up.log" 2>&1 || die "kubectl apply -k manifests/ failed; see $LOGS/up.log"
kubectl_dev -n runbox-system create configmap runbox-config \
  --from-literal=node-image="$(cat "$DEV/node-image")" \
  --from-literal=registry-push="$NODE_IP:${REGISTRY##*:}" --from-literal=registry-pull="$REGISTRY" \
  --from-literal=doze-after=never --from-literal=sleep-after=never \
  --dry-run=client -o yaml |
  kubectl_dev apply -f - >>"$LOGS/up.log" 2>&1 || die "writing runbox-config failed; see $LOGS/up.log"
