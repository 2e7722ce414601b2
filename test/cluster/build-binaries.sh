#!/usr/bin/env bash
# Builds the test cluster's binaries from the Go module proxy, pinned, and caches them per
# version outside the repository. A binary that is already cached is never rebuilt, so a warm
# run costs a few stat calls.
#
#   kube-apiserver, kube-controller-manager, kubectl  <- k8s.io/kubernetes (KUBERNETES_VERSION)
#   etcd                                              <- go.etcd.io/etcd/server/v3 (ETCD_VERSION)
#   echo-basic                                        <- sigs.k8s.io/gateway-api (GATEWAY_API_VERSION)
#   coredns (only COREDNS_PLUGINS linked in)          <- github.com/coredns/coredns (COREDNS_VERSION)
#
# Prints nothing but progress to stderr; exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off
# A cold build competes with whatever else runs on the machine: stay polite.
NICE=(nice -n 10)

log() { echo "cluster-build: $*" >&2; }

# Fails early, with a clear message, when the local Go is older than a module requires.
check_go_version() { # <module go.mod path> <what>
  local need have
  need="$(awk '$1 == "go" { print $2; exit }' "$1")"
  have="$(go env GOVERSION)"; have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]]; then
    log "$2 needs Go $need, but the local Go is $have (GOTOOLCHAIN=local): install a newer Go"
    exit 1
  fi
}

# go mod download -json <mod@ver> | field
mod_field() { # <module@version> <field: Dir|GoMod|Origin.Hash>
  go mod download -json "$1" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const j = JSON.parse(s); const v = process.argv[1].split(".").reduce((o, k) => o?.[k], j);
      if (j.Error) { console.error(j.Error); process.exit(1); }
      process.stdout.write(v ?? "");
    });' "$2"
}

# A wrapper module in a scratch directory of the cache. go.sum is filled by -mod=mod.
new_wrapper() { # <dir> <module name>
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo %s\n' "$2" "$(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1.0/')" >"$1/go.mod"
}

build_kubernetes() {
  local out="$FLUXGATE_CACHE/k8s/$KUBERNETES_VERSION/bin"
  if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" && -x "$out/kubectl" ]]; then
    return
  fi
  log "building kube-apiserver, kube-controller-manager, kubectl $KUBERNETES_VERSION (cold build: 15-25 min on 2 cores)"
  local work="$FLUXGATE_CACHE/k8s/$KUBERNETES_VERSION/src" gomod staging commit minor
  gomod="$(mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" GoMod)"
  check_go_version "$gomod" "k8s.io/kubernetes $KUBERNETES_VERSION"
  commit="$(mod_field "k8s.io/kubernetes@$KUBERNETES_VERSION" Origin.Hash || true)"
  new_wrapper "$work" fluxgate.test/kubernetes-build
  # Every staging module k8s.io/kubernetes replaces with ./staging/src/... is published as
  # v0.<minor>.<patch>: take the list from the real go.mod, never a hand-typed one.
  staging="$(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod")"
  [[ -n "$staging" ]] || { log "no staging replaces found in $gomod"; exit 1; }
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  {
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    for m in $staging; do echo "	$m => $m $staging_version"; done
    echo ")"
  } >>"$work/go.mod"
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    [[ -n "$commit" ]] && ldflags+=" -X $pkg.gitCommit=$commit"
  done
  mkdir -p "$work/bin"
  (cd "$work" && "${NICE[@]}" go build -trimpath -ldflags "$ldflags" -o bin/ \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl)
  mkdir -p "$out"
  mv "$work/bin/kube-apiserver" "$work/bin/kube-controller-manager" "$work/bin/kubectl" "$out/"
}

build_etcd() {
  local out="$FLUXGATE_CACHE/etcd/$ETCD_VERSION/bin"
  [[ -x "$out/etcd" ]] && return
  log "building etcd $ETCD_VERSION"
  local work="$FLUXGATE_CACHE/etcd/$ETCD_VERSION/src" commit
  check_go_version "$(mod_field "go.etcd.io/etcd/server/v3@$ETCD_VERSION" GoMod)" "etcd $ETCD_VERSION"
  commit="$(mod_field "go.etcd.io/etcd/server/v3@$ETCD_VERSION" Origin.Hash || true)"
  new_wrapper "$work" fluxgate.test/etcd-build
  printf '\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" >>"$work/go.mod"
  mkdir -p "$work/bin"
  (cd "$work" && "${NICE[@]}" go build -trimpath \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${commit:0:8}" \
    -o bin/etcd go.etcd.io/etcd/server/v3)
  mkdir -p "$out"; mv "$work/bin/etcd" "$out/"
}

build_echo_basic() {
  local out="$FLUXGATE_CACHE/echo-basic/$GATEWAY_API_VERSION/bin"
  [[ -x "$out/echo-basic" ]] && return
  log "building echo-basic from sigs.k8s.io/gateway-api $GATEWAY_API_VERSION"
  local work="$FLUXGATE_CACHE/echo-basic/$GATEWAY_API_VERSION/src"
  # echo-basic lives in the conformance module, which is versioned with the main module.
  check_go_version "$(mod_field "sigs.k8s.io/gateway-api/conformance@$GATEWAY_API_VERSION" GoMod)" "gateway-api $GATEWAY_API_VERSION"
  new_wrapper "$work" fluxgate.test/echo-basic-build
  printf '\nrequire (\n\tsigs.k8s.io/gateway-api %s\n\tsigs.k8s.io/gateway-api/conformance %s\n)\n' \
    "$GATEWAY_API_VERSION" "$GATEWAY_API_VERSION" >>"$work/go.mod"
  mkdir -p "$work/bin"
  (cd "$work" && "${NICE[@]}" go build -trimpath -ldflags "-s -w" \
    -o bin/echo-basic sigs.k8s.io/gateway-api/conformance/echo-basic)
  mkdir -p "$out"; mv "$work/bin/echo-basic" "$out/"
}

# CoreDNS with only the plugins the conformance Corefile uses: the full build links every cloud
# provider's SDK and the Kubernetes client for plugins nobody here loads. The main package is
# upstream's own (coremain.Run), with a plugin import list instead of core/plugin's all-in-one.
# The plugin list is stamped next to the binary: changing COREDNS_PLUGINS rebuilds.
build_coredns() {
  local out="$FLUXGATE_CACHE/coredns/$COREDNS_VERSION/bin"
  [[ -x "$out/coredns" && "$(cat "$out/plugins" 2>/dev/null)" == "$COREDNS_PLUGINS" ]] && return
  log "building coredns $COREDNS_VERSION (plugins: $COREDNS_PLUGINS)"
  local work="$FLUXGATE_CACHE/coredns/$COREDNS_VERSION/src" commit p
  check_go_version "$(mod_field "github.com/coredns/coredns@$COREDNS_VERSION" GoMod)" "coredns $COREDNS_VERSION"
  commit="$(mod_field "github.com/coredns/coredns@$COREDNS_VERSION" Origin.Hash || true)"
  new_wrapper "$work" fluxgate.test/coredns-build
  printf '\nrequire github.com/coredns/coredns %s\n' "$COREDNS_VERSION" >>"$work/go.mod"
  {
    echo '// Generated by build-binaries.sh: coredns with the plugins of COREDNS_PLUGINS.'
    echo 'package main'
    echo
    echo 'import ('
    echo '	"github.com/coredns/coredns/coremain"'
    for p in $COREDNS_PLUGINS; do echo "	_ \"github.com/coredns/coredns/plugin/$p\""; done
    echo ')'
    echo
    echo 'func main() { coremain.Run() }'
  } >"$work/main.go"
  mkdir -p "$work/bin"
  (cd "$work" && "${NICE[@]}" go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=${commit:0:7}" \
    -o bin/coredns .)
  mkdir -p "$out"; mv "$work/bin/coredns" "$out/"
  printf '%s' "$COREDNS_PLUGINS" >"$out/plugins"
}

command -v go >/dev/null || { log "go is not installed"; exit 1; }
# Small ones first: they are ready before the long Kubernetes build.
build_echo_basic
build_coredns
build_etcd
build_kubernetes
