#!/usr/bin/env bash
# npm run demo: brings the dev cluster up and replays the 2019 seed transcript
# with the real CLI, printing each command before its output.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/ensure-node-modules.sh
export PATH="$PWD/node_modules/.bin:$PATH"
npm run -s build
bash test/cluster/up.sh

# The demo's own kubeconfig, whose context namespace is runbox-demo, so the
# commands read exactly as in the talk.
ns=runbox-demo
export KUBECONFIG=$PWD/.runbox-dev/demo-kubeconfig
cp .runbox-dev/kubeconfig "$KUBECONFIG"
kubectl_bin=$HOME/.cache/runbox-dev/bin/v1.34.4/kubectl
"$kubectl_bin" create namespace $ns >/dev/null 2>&1 || true
"$kubectl_bin" config set-context --current --namespace $ns >/dev/null
image=127.0.0.1:5000/runbox-test/debian:bookworm

runbox() { node bin/runbox.js "$@"; }
kubectl() { "$kubectl_bin" "$@"; }
bold=; plain=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
step() {
  printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"
  "$@"
}

runbox delete myrb --yes >/dev/null 2>&1 || true
kubectl wait --for=delete pod -l runbox.dev/env=myrb --timeout=60s >/dev/null 2>&1 || true

step runbox --create myrb --image $image
step kubectl get "pod,deployment"
step runbox myrb hostname
work=$(mktemp -d)
(cd "$work" && touch my_file && printf '\n%s$ cd %s; touch my_file%s\n' "$bold" "$work" "$plain")
step sh -c "cd $work && node $PWD/bin/runbox.js --sync_before --localpath . myrb ls /data"
step kubectl scale --replicas 0 deployment myrb
kubectl wait --for=delete pod -l runbox.dev/env=myrb --timeout=60s >/dev/null
step kubectl get "pod,deployment"
step runbox myrb ls /data
step runbox myrb cd /tmp
step runbox myrb pwd
step runbox myrb cat /sys/fs/cgroup/memory/memory.limit_in_bytes
step runbox -a 2 myrb cat /sys/fs/cgroup/memory/memory.limit_in_bytes
step kubectl get pod
step runbox -u myrb sleep 1
step runbox usage myrb
step runbox --list
step runbox --kill myrb true
step kubectl get deployment myrb
printf '\nThe environment sleeps at zero cost; its files stay on the volume. Clean up with: runbox delete myrb\n'
