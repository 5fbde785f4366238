# Shared settings of the dev cluster; sourced by the other scripts.
# One dev cluster per machine: state lives under /var/lib and /run, caches
# (binary, Go caches, registry blobs, debootstrap tarball) under ~/.cache.
K8S_VERSION=v1.34.4
# standard, or no-inplace-resize: the InPlacePodVerticalScaling feature gate
# off on the API server, scheduler, controller-manager and kubelet, so that
# runbox's replace-the-pod path runs for real. Switching takes a cold restart.
VARIANT=${RUNBOX_DEV_VARIANT:-standard}
case "$VARIANT" in
  standard) FEATURE_GATES= ;;
  no-inplace-resize) FEATURE_GATES=InPlacePodVerticalScaling=false ;;
  *) printf '[cluster] error: RUNBOX_DEV_VARIANT must be standard or no-inplace-resize, not %s\n' "$VARIANT" >&2; exit 1 ;;
esac
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${RUNBOX_DEV_CACHE:-$HOME/.cache/runbox-dev}
STATE=/var/lib/runbox-dev
RUN=/run/runbox-dev
PKI=$STATE/pki
KCONF=$STATE/kubeconfig
DEV=$REPO_ROOT/.runbox-dev
LOGS=$DEV/logs
KUBECONFIG_OUT=$DEV/kubeconfig
PIDS=$RUN/pids
KUBE_BIN=$CACHE/bin/kube-$K8S_VERSION
BIN=$CACHE/bin/$K8S_VERSION
NODE_NAME=runbox-dev
# A non-loopback address on lo: the API server refuses to advertise a
# loopback one, and this kernel has no dummy interfaces.
NODE_IP=10.77.0.1
POD_CIDR=10.88.0.0/16
SERVICE_CIDR=10.96.0.0/16
REGISTRY=127.0.0.1:5000
CONTAINERD_SOCK=$RUN/containerd/containerd.sock
export GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build GOFLAGS=-mod=mod
# Go may be installed without being on a non-interactive shell's PATH.
command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
# The toolchain an older go command fetches (install-deps.sh decides).
NEWER_GO=go1.27.3
[ -s "$CACHE/gotoolchain" ] && export GOTOOLCHAIN=$(cat "$CACHE/gotoolchain")

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }
kubectl_dev() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }
