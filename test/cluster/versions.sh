# Pinned versions of everything the test cluster runs. Sourced by the cluster scripts and read
# by the TypeScript helpers (see paths.ts), so this file is the one place to change them.
KUBERNETES_VERSION=v1.37.1
# The etcd minor that this Kubernetes release builds and tests against.
ETCD_VERSION=v3.7.3
# The Gateway API release FluxGate pins everywhere: CRDs and echo-basic come from it.
GATEWAY_API_VERSION=v1.6.3
# The coredns image tag of that release's conformance base manifests (the UDPRoute backend), and
# the plugins its Corefile uses: the build links only these (see build-binaries.sh).
COREDNS_VERSION=v1.12.2
COREDNS_PLUGINS="errors log forward whoami"
FLUXGATE_CACHE="${FLUXGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fluxgate}"
