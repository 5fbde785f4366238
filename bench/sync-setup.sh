#!/usr/bin/env bash
# What bench/sync.ts needs beyond the dev cluster, and only it (npm test and CI
# never run this): rsync on the laptop, and a Debian image with rsync in it in
# the local registry. The image is test/cluster/images.sh's Debian root
# filesystem plus one layer holding the files of the rsync packages, unpacked
# with dpkg-deb -x (bookworm packages, like the debootstrap root; dpkg's own
# database in the image does not list them, which a benchmark does not need).
# The .deb files are cached under ~/.cache/runbox-dev/debs; a pushed tag is
# not built again. Prints the image reference.
set -euo pipefail
source "$(dirname "$0")/../test/cluster/config.sh"

if ! command -v rsync >/dev/null; then
  log "installing rsync from Debian (the sync benchmark's reference)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rsync >/dev/null
fi

ref=runbox-test/debian-rsync:bookworm
if ! curl -sf -o /dev/null -I \
  -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REGISTRY/v2/${ref%:*}/manifests/${ref##*:}"; then
  debian_tar=$CACHE/debian-bookworm-minbase.tar
  [ -s "$debian_tar" ] || die "no $debian_tar: run npm run cluster:up first (test/cluster/images.sh makes it)"
  # The minbase root has libacl1, liblz4-1, libxxhash0, libzstd1 and zlib1g already.
  debs=$CACHE/debs
  mkdir -p "$debs" "$CACHE/tmp"
  if ! ls "$debs"/rsync_*.deb "$debs"/libpopt0_*.deb "$debs"/libssl3_*.deb >/dev/null 2>&1; then
    log "downloading rsync, libpopt0, libssl3 (bookworm)"
    (cd "$debs" && { apt-get download rsync libpopt0 libssl3 2>/dev/null || { apt-get update -qq && apt-get download rsync libpopt0 libssl3; }; }) >&2
  fi
  work=$(mktemp -d "$CACHE/tmp/rsync-image.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  for deb in "$debs"/rsync_*.deb "$debs"/libpopt0_*.deb "$debs"/libssl3_*.deb; do dpkg-deb -x "$deb" "$work/root"; done
  # Debian's usrmerge: /lib is a link in the base layer; a directory here would hide it.
  for d in lib lib64 bin sbin; do
    [ -d "$work/root/$d" ] && [ ! -L "$work/root/$d" ] && { mkdir -p "$work/root/usr/$d"; cp -a "$work/root/$d/." "$work/root/usr/$d/"; rm -rf "${work:?}/root/$d"; }
  done
  tar --numeric-owner --owner=0 --group=0 -C "$work/root" -cf "$work/rsync.tar" .
  umoci init --layout "$work/oci"
  umoci new --image "$work/oci:img"
  umoci raw add-layer --image "$work/oci:img" "$debian_tar"
  umoci raw add-layer --image "$work/oci:img" "$work/rsync.tar"
  umoci config --image "$work/oci:img" --os=linux --architecture=amd64 \
    --config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd=/bin/bash
  skopeo copy -q --dest-tls-verify=false "oci:$work/oci:img" "docker://$REGISTRY/$ref"
  log "pushed $REGISTRY/$ref"
fi
echo "$REGISTRY/$ref"
