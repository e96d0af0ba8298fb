#!/usr/bin/env bash
# Installs what building and testing docker2aci needs on Debian 12 (as root). Idempotent.
set -euo pipefail
packages=(
  # build
  cmake ninja-build g++ pkg-config
  libarchive-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev libcxxopts-dev
  libdeflate-dev libisal-dev libzstd-dev libgpgme-dev liblzma-dev zlib1g-dev
  # tests
  libgtest-dev libgmock-dev gnupg python3 jq attr curl gzip xz-utils zstd busybox-static
  bc bsdextrautils groff-base ca-certificates time
  umoci skopeo buildah golang-go golang-github-appc-spec-dev
  docker-registry apache2-utils openssl python3-jwt python3-cryptography
  # fuzzing
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
