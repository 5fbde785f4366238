#!/usr/bin/env bash
# Builds the images the dev cluster and the tests use and pushes them to the
# local registry, skipping any tag the registry already holds. No Docker
# daemon: root filesystems come from busybox-static and debootstrap, layers
# are assembled with umoci and pushed with skopeo.
set -euo pipefail
source "$(dirname "$0")/config.sh"

have_image() { # repo:tag
  curl -sf -o /dev/null -I \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/${1%:*}/manifests/${1##*:}"
}

# push_image REPO:TAG CMD_JSON_ARGS... -- LAYER_TAR...
push_image() {
  local ref=$1; shift
  local cmd=()
  while [ "$1" != -- ]; do cmd+=("--config.cmd=$1"); shift; done; shift
  local work; work=$(mktemp -d "$CACHE/tmp/image.XXXXXX")
  umoci init --layout "$work/oci"
  umoci new --image "$work/oci:img"
  for layer in "$@"; do umoci raw add-layer --image "$work/oci:img" "$layer"; done
  umoci config --image "$work/oci:img" --os=linux --architecture=amd64 \
    --config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${cmd[@]}"
  skopeo copy -q --dest-tls-verify=false "oci:$work/oci:img" "docker://$REGISTRY/$ref"
  rm -rf "$work"
  log "pushed $REGISTRY/$ref"
}

mkdir -p "$CACHE/tmp"

ref=runbox-test/pause:1
if ! have_image $ref; then
  work=$(mktemp -d "$CACHE/tmp/pause.XXXXXX")
  (cd "$REPO_ROOT/test/cluster/images/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/root/pause" .)
  tar --numeric-owner --owner=0 --group=0 -C "$work/root" -cf "$work/layer.tar" .
  push_image $ref /pause -- "$work/layer.tar"
  rm -rf "$work"
fi

ref=runbox-test/busybox:1.35
if ! have_image $ref; then
  work=$(mktemp -d "$CACHE/tmp/busybox.XXXXXX")
  mkdir -p "$work/root/bin" "$work/root/tmp" "$work/root/etc" "$work/root/root"
  cp /bin/busybox "$work/root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$work/root/bin/$applet"
  done
  chmod 1777 "$work/root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$work/root/etc/passwd"
  printf 'root:x:0:\n' > "$work/root/etc/group"
  tar --numeric-owner -C "$work/root" -cf "$work/layer.tar" .
  push_image $ref /bin/sh -- "$work/layer.tar"
  rm -rf "$work"
fi

debian_tar=$CACHE/debian-bookworm-minbase.tar
if [ ! -s "$debian_tar" ]; then
  log "debootstrap bookworm minbase (first time: a few minutes)"
  work=$(mktemp -d "$CACHE/tmp/debian.XXXXXX")
  debootstrap --variant=minbase bookworm "$work/root" http://deb.debian.org/debian >"$LOGS/debootstrap.log" 2>&1 ||
    die "debootstrap failed, see $LOGS/debootstrap.log"
  rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/root" --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf "$debian_tar.tmp" .
  mv "$debian_tar.tmp" "$debian_tar"
  rm -rf "$work"
fi

ref=runbox-test/debian:bookworm
have_image $ref || push_image $ref /bin/bash -- "$debian_tar"

# A Node 24 image for the sidecar, as the official node:24-slim would be
# (Debian, node on PATH): runbox ships its sidecar as a bundle that runs on it.
node_version=$("$REPO_ROOT/node_modules/.bin/node" --version | tr -d v)
ref=runbox-test/node:$node_version
if ! have_image "$ref"; then
  work=$(mktemp -d "$CACHE/tmp/node.XXXXXX")
  mkdir -p "$work/root/usr/local/bin"
  cp -L "$REPO_ROOT/node_modules/.bin/node" "$work/root/usr/local/bin/node"
  tar --numeric-owner --owner=0 --group=0 -C "$work/root" -cf "$work/node.tar" .
  push_image "$ref" node -- "$debian_tar" "$work/node.tar"
  rm -rf "$work"
fi
echo "$REGISTRY/$ref" > "$DEV/node-image"
rm -f "$DEV/sidecar-image"
