#!/usr/bin/env bash
# Installs what the dev cluster needs from Debian, only where it is missing.
set -euo pipefail
source "$(dirname "$0")/config.sh"

[ "$(id -u)" = 0 ] || die "the dev cluster needs root (containerd, kubelet, mounts)"
[ "$(uname -s)" = Linux ] || die "the dev cluster needs Linux"

need=()
for pair in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
  docker-registry:docker-registry iptables:iptables /bin/busybox:busybox-static \
  debootstrap:debootstrap umoci:umoci skopeo:skopeo conntrack:conntrack socat:socat \
  ip:iproute2 findmnt:util-linux curl:curl /usr/bin/time:time script:bsdutils; do
  probe=${pair%%:*} pkg=${pair#*:}
  if [[ $probe == /* ]]; then [ -e "$probe" ] || need+=("$pkg")
  else command -v "$probe" >/dev/null || need+=("$pkg"); fi
done
command -v go >/dev/null ||
  die "Go is needed to build Kubernetes once (Go >= 1.21 on PATH or in /usr/local/go; see README, Prerequisites)"
# Kubernetes 1.34 needs Go 1.24. An older go command (1.21+) fetches a newer
# toolchain through the Go module proxy when told to; 1.20 and older cannot.
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${go_minor:-0}" -lt 24 ]; then
  [ "${go_minor:-0}" -ge 21 ] || die "Go $(go env GOVERSION) is too old to fetch a newer toolchain; install Go >= 1.21"
  log "Go $(go env GOVERSION) is older than 1.24: using GOTOOLCHAIN=$NEWER_GO from the module proxy"
  mkdir -p "$CACHE" && echo "$NEWER_GO" > "$CACHE/gotoolchain"
fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing from Debian: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
