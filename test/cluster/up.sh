#!/usr/bin/env bash
# npm run cluster:up — builds (once, cached) and starts a small real Kubernetes control plane on
# loopback: etcd on tmpfs, kube-apiserver (client certificates, RBAC), kube-controller-manager,
# the Gateway API CRDs of the pinned release, and the process kubelet that plays one node.
# Safe to run again: whatever already runs is kept, whatever is missing is started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || { log "needs root (network namespaces, tmpfs mount)"; exit 1; }
command -v go >/dev/null || { log "needs Go to build the pinned binaries"; exit 1; }
if ! command -v openssl >/dev/null || ! command -v ip >/dev/null || ! command -v curl >/dev/null; then
  bash "$repo/scripts/install-system-deps.sh" openssl iproute2 curl
fi
node_bin="$repo/node_modules/.bin/node"
[[ -x "$node_bin" ]] || node_bin="$(command -v node)"

# One cluster:up or cluster:down at a time: several people may share this tree.
mkdir -p "$state"
exec 9>"$state/lock"
flock -w 600 9 || { log "another cluster:up/down holds $state/lock"; exit 1; }

started=$SECONDS
bash "$here/build-binaries.sh"
mkdir -p "$run" "$logs" "$pki" "$state/bin"
ln -sfn "$k8s_bin/kubectl" "$state/bin/kubectl"
kubectl=("$k8s_bin/kubectl" --kubeconfig "$state/kubeconfig")

# ---- certificates (made once; they outlive cluster:down so a warm start skips openssl) ----
cert() { # <name> <subject> [extensions]
  [[ -f "$pki/$1.crt" && -f "$pki/$1.key" ]] && return
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$pki/$1.key" -subj "$2" -out "$pki/$1.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -out "$pki/$1.crt" -extfile <(printf '%s\n' "${3:-extendedKeyUsage=clientAuth}") 2>/dev/null
  rm -f "$pki/$1.csr"
}
if [[ ! -f "$pki/ca.crt" ]]; then
  rm -f "$pki"/*.crt "$pki"/*.key
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=fluxgate-test-cluster-ca" 2>/dev/null
fi
cert apiserver "/CN=kube-apiserver" "$(printf '%s\n' \
  'extendedKeyUsage=serverAuth' \
  "subjectAltName=IP:127.0.0.1,IP:$bridge_ip,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")"
cert admin "/O=system:masters/CN=fluxgate-admin"
cert controller-manager "/CN=system:kube-controller-manager"
# The process kubelet's API (pods/log): its serving certificate, and the API server's client one.
cert kubelet "/CN=system:node:$node_name" "$(printf '%s\n' \
  'extendedKeyUsage=serverAuth' "subjectAltName=IP:$bridge_ip,IP:127.0.0.1,DNS:$node_name")"
cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client"
if [[ ! -f "$pki/sa.key" ]]; then
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
chmod 600 "$pki"/*.key

kubeconfig() { # <file> <user cert name>
  local b64=(base64 -w0)
  cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: fluxgate-test
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $("${b64[@]}" <"$pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $("${b64[@]}" <"$pki/$2.crt")
    client-key-data: $("${b64[@]}" <"$pki/$2.key")
contexts:
- name: fluxgate-test
  context: { cluster: fluxgate-test, user: $2 }
current-context: fluxgate-test
EOF
  chmod 600 "$1.tmp"; mv "$1.tmp" "$1"
}
kubeconfig "$state/kubeconfig" admin
kubeconfig "$pki/controller-manager.kubeconfig" controller-manager

declare -A PORTS=([etcd]="$etcd_client_port $etcd_peer_port" [kube-apiserver]="$apiserver_port")
# Starts <name> in its own session, detached from this script, unless it already runs.
start() { # <name> <binary> args...
  local name="$1" bin="$2"; shift 2
  if [[ -n "$(live_pid "$name" "$bin")" ]]; then
    log "$name already running"
    return
  fi
  local port
  for port in ${PORTS[$name]:-}; do
    if ss -Htln "sport = :$port" | grep -q .; then
      log "port $port (for $name) is taken by a process this checkout did not start:"
      log "  another test cluster (run its cluster:down) or set FLUXGATE_CLUSTER_*_PORT"
      exit 1
    fi
  done
  # 9>&-: the daemon must not inherit (and so hold) the up/down lock.
  setsid nohup "$bin" "$@" >>"$logs/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$run/$name.pid"
  log "started $name (pid $!, log .cluster/logs/$name.log)"
}

wait_for() { # <what> <seconds> <command...>
  local what="$1" deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out waiting for $what; see .cluster/logs/"
      exit 1
    fi
    sleep 0.3
  done
}

# ---- etcd on tmpfs ----
mkdir -p "$etcd_dir"
mountpoint -q "$etcd_dir" || mount -t tmpfs -o size=2g,mode=0700 fluxgate-etcd "$etcd_dir"
start etcd "$etcd_bin" \
  --name fluxgate --data-dir "$etcd_dir/data" \
  --listen-client-urls "http://127.0.0.1:$etcd_client_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_client_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "fluxgate=http://127.0.0.1:$etcd_peer_port" \
  --listen-metrics-urls "" --unsafe-no-fsync --quota-backend-bytes 1073741824 --log-level warn
etcd_healthy() { [[ "$(curl -fsS "http://127.0.0.1:$etcd_client_port/health" 2>/dev/null)" == *'"health":"true"'* ]]; }
wait_for etcd 30 etcd_healthy

# ---- kube-apiserver on loopback: client certificates, RBAC, service-account tokens ----
start kube-apiserver "$k8s_bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_client_port" \
  --bind-address 127.0.0.1 --secure-port "$apiserver_port" \
  --advertise-address "$bridge_ip" --endpoint-reconciler-type none \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --authorization-mode RBAC --anonymous-auth=false \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --api-audiences https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.96.0.0/16 --allow-privileged \
  --kubelet-preferred-address-types InternalIP \
  --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
  --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority "$pki/ca.crt" \
  --profiling=false --enable-priority-and-fairness=false --v 1
apiserver_ready() { curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://127.0.0.1:$apiserver_port/readyz" >/dev/null; }
wait_for kube-apiserver 90 apiserver_ready
log "kube-apiserver ready after $((SECONDS - started))s"

# ---- kube-controller-manager: only the controllers a node-less test cluster needs ----
start kube-controller-manager "$k8s_bin/kube-controller-manager" \
  --kubeconfig "$pki/controller-manager.kubeconfig" --secure-port 0 \
  --controllers deployment-controller,replicaset-controller,endpointslice-controller,endpointslice-mirroring-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller \
  --use-service-account-credentials \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --leader-elect=false --profiling=false --v 1

# ---- the process kubelet (it needs no CRDs: it starts while they install) ----
export KUBERNETES_VERSION
start kubelet "$node_bin" "$here/kubelet.ts" \
  --kubeconfig "$state/kubeconfig" --node-name "$node_name" --state-dir "$state" \
  --echo-basic "$echo_basic_bin" --coredns "$coredns_bin" --bridge "$bridge" --bridge-ip "$bridge_ip" \
  --pod-cidr "$pod_cidr" --netns-prefix "$netns_prefix" --port "$kubelet_port" \
  --tls-cert-file "$pki/kubelet.crt" --tls-private-key-file "$pki/kubelet.key" --client-ca-file "$pki/ca.crt"

# ---- Gateway API CRDs of the pinned release, straight from the Go module cache ----
bash "$here/install-crds.sh"
log "CRDs ready after $((SECONDS - started))s"

node_ready() {
  [[ "$("${kubectl[@]}" get node "$node_name" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
wait_for "node $node_name Ready" 60 node_ready
# Pods need the default ServiceAccount, which the serviceaccount controller makes.
default_sa() { "${kubectl[@]}" get serviceaccount default -n default; }
wait_for "the default ServiceAccount" 60 default_sa

log "up in $((SECONDS - started))s: .cluster/bin/kubectl --kubeconfig .cluster/kubeconfig get nodes,pods -A"
