#!/usr/bin/env bash
# npm run cluster:down — stops every process cluster:up started (and the pod processes the
# kubelet started), removes the pod network namespaces, their veths, the bridge and the etcd
# tmpfs. Certificates and the binary cache stay, so the next cluster:up is warm.
# Safe to run when nothing is up.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $(id -u) -eq 0 ]] || { log "needs root"; exit 1; }

# One cluster:up or cluster:down at a time: several people may share this tree.
mkdir -p "$state"
exec 9>"$state/lock"
flock -w 600 9 || { log "another cluster:up/down holds $state/lock"; exit 1; }

# The kubelet first, so it does not restart the pods we are about to stop.
stop_pid kubelet "$here/kubelet.ts" 10

# Pod processes live in our network namespaces: those pids are ours by construction.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$netns_prefix"); do
  pids="$(ip netns pids "$ns" 2>/dev/null)"
  if [[ -n "$pids" ]]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for _ in $(seq 1 30); do
      pids="$(ip netns pids "$ns" 2>/dev/null)"
      [[ -z "$pids" ]] && break
      sleep 0.1
    done
    # shellcheck disable=SC2086
    [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
  fi
  ip netns delete "$ns" 2>/dev/null && log "deleted netns $ns" # takes its veth peer with it
done
# A veth whose namespace is gone is removed by the kernel; any host end left is ours by name.
for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^fgv'); do
  ip link delete "$link" 2>/dev/null && log "deleted veth $link"
done
if ip link show "$bridge" >/dev/null 2>&1; then
  ip link delete "$bridge" && log "deleted bridge $bridge"
fi

stop_pid kube-controller-manager "$k8s_bin/kube-controller-manager" 10
stop_pid kube-apiserver "$k8s_bin/kube-apiserver" 15
stop_pid etcd "$etcd_bin" 10
if mountpoint -q "$etcd_dir" 2>/dev/null; then
  umount "$etcd_dir" && log "unmounted $etcd_dir"
fi
rm -rf "$etcd_dir" "$state/pods"

log "down"
