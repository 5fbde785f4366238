#!/usr/bin/env bash
# Stops every process the dev cluster started (by pid file, then by the paths
# only our processes carry), the pods' processes, and unmounts what the
# kubelet and containerd mounted. State stays on disk; the next `up` wipes it.
set -euo pipefail
source "$(dirname "$0")/config.sh"

stop_pid() { # NAME
  local f=$PIDS/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# The kubelet first, so nothing restarts the containers we are about to kill.
stop_pid kubelet
for ctl in pids memory cpu freezer; do
  [ -d /sys/fs/cgroup/$ctl/kubepods ] || continue
  find /sys/fs/cgroup/$ctl/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
done
pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
for name in containerd kube-scheduler kube-controller-manager kube-apiserver etcd registry; do stop_pid "$name"; done
# Anything left from a run whose pid files are gone (e.g. an interrupted up).
pkill -KILL -f "$BIN/|$STATE/" 2>/dev/null || true

# Unmount deepest first: pod volumes, container rootfs, shm, network namespaces.
{ findmnt -rn -o TARGET | grep -E "^($STATE|$RUN)/|^/run/netns/cni-" || true; } | sort -r |
  while read -r m; do umount -l "$m" 2>/dev/null || true; done
rm -f /run/netns/cni-* 2>/dev/null || true
# Empty pod cgroups, deepest first, so the next kubelet starts clean.
for ctl in /sys/fs/cgroup/*/; do
  [ -d "$ctl/kubepods" ] && find "$ctl/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done
log "dev cluster stopped"
