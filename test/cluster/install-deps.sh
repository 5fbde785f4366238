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
command -v go >/dev/null || die "Go is needed to build the Kubernetes binary (Go >= 1.24 on PATH)"
if [ ${#need[@]} -gt 0 ]; then
  log "installing from Debian: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
