# Shared by up.sh and down.sh: where things live and how a process the cluster started is found
# again. Everything the cluster creates is named with the fg- prefix or lives under .cluster/.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

state="$repo/.cluster"
run="$state/run"   # pid files
logs="$state/logs"
pki="$state/pki"
etcd_dir="$state/etcd" # a tmpfs mount while the cluster is up

k8s_bin="$FLUXGATE_CACHE/k8s/$KUBERNETES_VERSION/bin"
etcd_bin="$FLUXGATE_CACHE/etcd/$ETCD_VERSION/bin/etcd"
echo_basic_bin="$FLUXGATE_CACHE/echo-basic/$GATEWAY_API_VERSION/bin/echo-basic"
coredns_bin="$FLUXGATE_CACHE/coredns/$COREDNS_VERSION/bin/coredns"

# Loopback ports; override when something else on the machine already uses them.
apiserver_port="${FLUXGATE_CLUSTER_APISERVER_PORT:-6443}"
etcd_client_port="${FLUXGATE_CLUSTER_ETCD_PORT:-2379}"
etcd_peer_port="${FLUXGATE_CLUSTER_ETCD_PEER_PORT:-2380}"
kubelet_port="${FLUXGATE_CLUSTER_KUBELET_PORT:-10250}" # on the bridge address (pods/log)

# The pod network: a bridge the host reaches pods through, one netns per pod (see kubelet.ts).
bridge="fg-br0"
bridge_ip="10.244.0.1"
pod_cidr="10.244.0.0/16"
netns_prefix="fg-pod-"
node_name="fluxgate-node"

log() { echo "cluster: $*" >&2; }

# The pid in <run>/<name>.pid when that process is alive and still runs <binary>; empty otherwise.
# Checking the executable guards against a recycled pid: we only ever signal our own processes.
live_pid() { # <name> <binary path or substring of the command line>
  local f="$run/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -d "/proc/$pid" ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" && echo "$pid"
  return 0
}

# Stops the process recorded in <name>.pid: SIGTERM, then SIGKILL after <seconds>.
stop_pid() { # <name> <binary> [seconds]
  local pid i
  pid="$(live_pid "$1" "$2")"
  if [[ -n "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < ${3:-10} * 10; i++)); do
      [[ -d "/proc/$pid" ]] || break
      sleep 0.1
    done
    [[ -d "/proc/$pid" ]] && kill -KILL "$pid" 2>/dev/null || true
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$run/$1.pid"
}
