#!/usr/bin/env bash
# Brings up (or reuses) the real single-node dev cluster: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd, kubelet and a registry
# on port 5000 (127.0.0.1 for the host, $NODE_IP for pods). Idempotent: a
# healthy cluster is reused in seconds (its registry restarted alone if its
# config changed); an unhealthy one is stopped, its state wiped, and started anew.
set -euo pipefail
source "$(dirname "$0")/config.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
start_time=$SECONDS

"$HERE/install-deps.sh"
"$HERE/build-kube.sh"
mkdir -p "$LOGS" "$PIDS" "$DEV"

alive() { local pid; pid=$(cat "$PIDS/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
node_ready() {
  [ "$(kubectl_dev get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
wait_for() { # SECONDS WHAT COMMAND...
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what not ready after ${limit}s; logs in $LOGS"
    sleep 0.5
  done
}
start() { # NAME COMMAND...
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
}

gates=()
[ -z "$FEATURE_GATES" ] || gates=(--feature-gates="$FEATURE_GATES")

healthy() {
  [ "$(cat "$RUN/variant" 2>/dev/null)" = "$VARIANT" ] || return 1
  for c in registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do
    alive $c || return 1
  done
  [ -f "$STATE/kubeconfig/admin.conf" ] || return 1
  cp "$STATE/kubeconfig/admin.conf" "$KUBECONFIG_OUT"
  node_ready
}

# The registry listens on every address: containerd and the scripts use
# 127.0.0.1 (pulled over plain HTTP with no hosts.toml), while pods cannot
# reach the host's loopback and push snapshots to $NODE_IP instead. (One
# listener only in distribution 2.8; it has no auth, so this exposes it on
# the VM's other interfaces too: a dev machine's trade-off.)
registry_config() {
  cat <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $CACHE/registry}
  delete: {enabled: true}
http: {addr: "0.0.0.0:${REGISTRY##*:}"}
YAML
}
start_registry() {
  registry_config > "$STATE/registry.yml"
  start registry docker-registry serve "$STATE/registry.yml"
  wait_for 30 registry curl -sf "http://$REGISTRY/v2/"
}
# Only the registry, for a running cluster whose registry config is older
# than this script: its blobs are on disk, so nothing else needs to restart.
restart_registry() {
  local pid; pid=$(cat "$PIDS/registry.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  log "registry config changed: restarting the registry alone"
  start_registry
}

if healthy; then
  cmp -s <(registry_config) "$STATE/registry.yml" || restart_registry
  "$HERE/images.sh"
  "$HERE/runbox-setup.sh"
  log "dev cluster already up ($((SECONDS - start_time)) s); KUBECONFIG=$KUBECONFIG_OUT"
  exit 0
fi

log "starting the dev cluster (Kubernetes $K8S_VERSION, $VARIANT)"
"$HERE/down.sh"
rm -rf "$STATE" "$RUN" /tmp/hostpath_pv
mkdir -p "$STATE" "$RUN" "$PIDS" "$PKI" "$KCONF" "$STATE/cni/net.d" "$CACHE/registry"
: > "$LOGS/up.log"
for f in "$LOGS"/*.log; do : > "$f"; done

# Network: the node address, forwarding and bridge netfilter for pod traffic.
# (No `| grep -q` here: with pipefail, ip's SIGPIPE would fail the check at random.)
[ -n "$(ip -o addr show dev lo to "$NODE_IP/32")" ] || ip addr add "$NODE_IP/32" dev lo
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1

# Certificates and kubeconfigs, offline.
cat > "$STATE/kubeadm.yaml" <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: $NODE_IP, bindPort: 6443}
nodeRegistration: {name: $NODE_NAME}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $K8S_VERSION
clusterName: runbox-dev
certificatesDir: $PKI
controlPlaneEndpoint: $NODE_IP:6443
networking: {serviceSubnet: $SERVICE_CIDR, podSubnet: $POD_CIDR, dnsDomain: cluster.local}
apiServer: {certSANs: [127.0.0.1, localhost, $NODE_IP]}
YAML
"$BIN/kubeadm" init phase certs all --config "$STATE/kubeadm.yaml" >>"$LOGS/up.log" 2>&1
"$BIN/kubeadm" init phase kubeconfig all --config "$STATE/kubeadm.yaml" --kubeconfig-dir "$KCONF" >>"$LOGS/up.log" 2>&1

# Registry (its blobs live in the cache, so images survive a wipe).
start_registry

start etcd "$BIN/etcd" --name runbox-dev --data-dir "$STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster runbox-dev=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
  --quota-backend-bytes 2147483648 --log-level warn
wait_for 30 etcd curl -sf http://127.0.0.1:2381/health

start kube-apiserver "$BIN/kube-apiserver" \
  --advertise-address="$NODE_IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --etcd-servers=http://127.0.0.1:2379 --service-cluster-ip-range="$SERVICE_CIDR" \
  --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --requestheader-allowed-names=front-proxy-client --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true --profiling=false "${gates[@]}"
wait_for 90 kube-apiserver "$BIN/kubectl" --kubeconfig "$KCONF/super-admin.conf" get --raw /readyz

# admin.conf's user is in kubeadm:cluster-admins, which kubeadm init would bind.
"$BIN/kubectl" --kubeconfig "$KCONF/super-admin.conf" create clusterrolebinding kubeadm:cluster-admins \
  --clusterrole=cluster-admin --group=kubeadm:cluster-admins >>"$LOGS/up.log" 2>&1
cp "$KCONF/admin.conf" "$KUBECONFIG_OUT"

start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$KCONF/controller-manager.conf" \
  --authentication-kubeconfig="$KCONF/controller-manager.conf" --authorization-kubeconfig="$KCONF/controller-manager.conf" \
  --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
  --use-service-account-credentials=true --controllers='*,bootstrapsigner,tokencleaner' \
  --enable-hostpath-provisioner=true --profiling=false "${gates[@]}"
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KCONF/scheduler.conf" \
  --authentication-kubeconfig="$KCONF/scheduler.conf" --authorization-kubeconfig="$KCONF/scheduler.conf" \
  --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --profiling=false "${gates[@]}"

kubectl_dev apply -f - >>"$LOGS/up.log" 2>&1 <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: hostpath
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML

# Images before the kubelet: the pause image is every pod's sandbox.
"$HERE/images.sh"

cat > "$STATE/containerd.toml" <<TOML
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REGISTRY/runbox-test/pause:1"
  # No CAP_SYS_RESOURCE here: without this every sandbox fails on oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
TOML
cat > "$STATE/cni/net.d/10-runbox.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "runbox-dev",
  "plugins": [
    {
      "type": "bridge", "bridge": "runbox-cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start containerd containerd --config "$STATE/containerd.toml"
wait_for 30 containerd test -S "$CONTAINERD_SOCK"

cat > "$STATE/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
# The kubelet's default -999 needs CAP_SYS_RESOURCE, which these VMs lack.
oomScoreAdj: 0
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
syncFrequency: 10s
$([ -z "$FEATURE_GATES" ] || echo "featureGates: {${FEATURE_GATES%%=*}: ${FEATURE_GATES#*=}}")
YAML
start kubelet "$BIN/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$KCONF/kubelet.conf" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --root-dir="$STATE/kubelet" \
  --cert-dir="$STATE/kubelet/pki"
wait_for 120 "node $NODE_NAME" node_ready
wait_for 60 "default service account" kubectl_dev get serviceaccount default -n default
"$HERE/runbox-setup.sh"

echo "$VARIANT" > "$RUN/variant"
log "dev cluster up in $((SECONDS - start_time)) s ($VARIANT); KUBECONFIG=$KUBECONFIG_OUT"
