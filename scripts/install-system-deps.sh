#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use, only when one is missing,
# so a warm machine pays nothing.
set -euo pipefail
need=()
for pkg in "$@" curl iproute2 nghttp2-client wrk nginx-light redis-server; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
