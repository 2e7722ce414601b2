#!/usr/bin/env bash
# Installs the Gateway API CRDs of the pinned release from the Go module cache (no download
# beyond the Go module proxy), and FluxGate's own CRDs from manifests/crds, into the cluster at
# .cluster/kubeconfig.
#
# FLUXGATE_GATEWAY_API_CHANNEL=experimental (default) or standard. The experimental channel is a
# superset of the standard one: the same CRDs with the experimental fields, plus the experimental
# kinds. Only one channel can be installed at a time (the CRD names are the same), so the
# default is the one that serves both the standard and the experimental conformance features.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

channel="${FLUXGATE_GATEWAY_API_CHANNEL:-experimental}"
[[ "$channel" == standard || "$channel" == experimental ]] || { log "unknown channel $channel"; exit 1; }
kubectl=("$k8s_bin/kubectl" --kubeconfig "$state/kubeconfig")

# FluxGate's own CRDs (plugins and policies) from this checkout: cheap and idempotent, so
# applied on every start (a warm cluster picks up schema changes too).
"${kubectl[@]}" apply --server-side --force-conflicts -f "$repo/manifests/crds" >/dev/null
"${kubectl[@]}" wait --for condition=Established --timeout 60s \
  $("${kubectl[@]}" get crd -o name | grep -E '\.fluxgate\.io$') >/dev/null
log "installed FluxGate CRDs (manifests/crds)"

dir="$(cd /tmp && GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
crds="$dir/config/crd/$channel"
[[ -d "$crds" ]] || { log "no CRDs at $crds"; exit 1; }

# Already installed from this release and channel: nothing to do (keeps a warm start fast).
have="$("${kubectl[@]}" get crd httproutes.gateway.networking.k8s.io -o \
  'jsonpath={.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}/{.metadata.annotations.gateway\.networking\.k8s\.io/channel}' 2>/dev/null || true)"
if [[ "$have" == "$GATEWAY_API_VERSION/$channel" ]]; then
  log "Gateway API CRDs $GATEWAY_API_VERSION ($channel) already installed"
  exit 0
fi
# The release's safe-upgrades policy forbids moving from standard to experimental in place;
# a test cluster may switch, so drop the policy first (the apply below puts it back).
if [[ -n "$have" ]]; then
  "${kubectl[@]}" delete validatingadmissionpolicybinding,validatingadmissionpolicy \
    safe-upgrades.gateway.networking.k8s.io --ignore-not-found >/dev/null
fi

files=()
for f in "$crds"/*.yaml; do
  [[ "$(basename "$f")" == kustomization.yaml ]] || files+=(-f "$f")
done
"${kubectl[@]}" apply --server-side --force-conflicts "${files[@]}" >/dev/null
"${kubectl[@]}" wait --for condition=Established --timeout 60s \
  $("${kubectl[@]}" get crd -o name | grep -E 'gateway\.networking\.(x-)?k8s\.io$') >/dev/null
log "installed Gateway API CRDs $GATEWAY_API_VERSION ($channel channel)"
