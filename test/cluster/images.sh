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

# The sidecar image is tagged by the hash of what goes into it, so a change to
# the sidecar (or the code it shares with the CLI) gives a new tag.
sidecar_tag=$(cd "$REPO_ROOT" && {
  find sidecar src -type f -name '*.ts' ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum
  sha256sum package.json package-lock.json
  node_modules/.bin/node --version
} | sha256sum | cut -c1-16)
ref=runbox/sidecar:$sidecar_tag
if ! have_image $ref; then
  work=$(mktemp -d "$CACHE/tmp/sidecar.XXXXXX")
  app=$work/root/opt/runbox
  mkdir -p "$app" "$work/root/usr/local/bin"
  (cd "$REPO_ROOT" && cp -r package.json package-lock.json src sidecar "$app/")
  find "$app" -name '*.test.ts' -delete
  (cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  cp -L "$REPO_ROOT/node_modules/.bin/node" "$work/root/usr/local/bin/node"
  tar --numeric-owner --owner=0 --group=0 -C "$work/root" -cf "$work/app.tar" .
  push_image $ref /usr/local/bin/node /opt/runbox/sidecar/main.ts -- "$debian_tar" "$work/app.tar"
  rm -rf "$work"
fi
echo "$REGISTRY/$ref" > "$DEV/sidecar-image"
