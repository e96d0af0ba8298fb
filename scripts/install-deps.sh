#!/usr/bin/env bash
# Installs what docker2aci needs on Debian 12 (as root). Idempotent and quiet.
#   install-deps.sh          build and run (what scripts/demo.sh needs)
#   install-deps.sh --package  also what `cmake --build build --target package` runs
#   install-deps.sh --tests  also everything the tests, the sanitizer builds and fuzzing use
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config ca-certificates python3 jq busybox-static
  libarchive-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev libcxxopts-dev
  libdeflate-dev libisal-dev libzstd-dev libgpgme-dev liblzma-dev zlib1g-dev libmicrohttpd-dev
)
if [ "${1:-}" = --package ] || [ "${1:-}" = --tests ]; then
  packages+=(dpkg-dev file)
fi
if [ "${1:-}" = --tests ]; then
  packages+=(
    libgtest-dev libgmock-dev libcpp-httplib-dev dpkg-dev gnupg attr curl gzip xz-utils zstd busybox-static
    bc bsdextrautils groff-base time file pigz isal
    umoci skopeo buildah appc-spec
    docker-registry apache2-utils openssl python3-jwt python3-cryptography
    clang libclang-rt-14-dev golang-go
  )
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq > /dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /tmp/docker2aci-apt.log 2>&1 ||
    { tail -20 /tmp/docker2aci-apt.log; echo "install-deps.sh: apt-get install failed"; exit 1; }
fi
