#!/usr/bin/env bash
# Proves Dockerfile.test without a Docker engine: a Debian 12 base made with debootstrap,
# `buildah bud` (vfs storage, chroot isolation) of Dockerfile.test (which builds and tests
# the project inside), then the resulting image converted by docker2aci itself, validated,
# and the docker2aci built inside it run from a chroot of the ACI. Slow (network to the
# Debian mirror, the whole test suite inside): run by hand, not by scripts/test.sh.
#   bash tests/container/dockerfile_test.sh [BUILD_DIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
work=$(mktemp -d "${TMPDIR:-/tmp}/d2a-dockerfile.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt-get install -y -qq debootstrap buildah > /dev/null
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)

debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian > "$work/debootstrap.log"
tar -C "$work/rootfs" -cf "$work/base.tar" .
ctr=$("${B[@]}" from scratch)
"${B[@]}" add "$ctr" "$work/base.tar" / > /dev/null
"${B[@]}" commit -q "$ctr" docker.io/library/debian:bookworm > /dev/null
"${B[@]}" rm "$ctr" > /dev/null
echo "base image: debian:bookworm from debootstrap"

git clone -q "$repo" "$work/src"
start=$(date +%s)
"${B[@]}" bud --isolation chroot --pull=never -f Dockerfile.test -t localhost/docker2aci-test:latest "$work/src" > "$work/bud.log" 2>&1 ||
  { tail -40 "$work/bud.log"; echo "buildah bud of Dockerfile.test failed"; exit 1; }
echo "buildah bud of Dockerfile.test (build and test suite inside): $(( $(date +%s) - start )) s"
grep -E "tests passed|tests failed" "$work/bud.log" | tail -3

"${B[@]}" push -q localhost/docker2aci-test:latest "docker-archive:$work/image.tar:docker2aci/test:latest"
start=$(date +%s.%N)
/usr/bin/time -f "%e s, %M KB peak RSS" "$build/docker2aci" -q -o "$work" "$work/image.tar"
ls -l "$work/image.tar" "$work"/docker2aci-test-latest-linux-amd64.aci
actool validate "$work/docker2aci-test-latest-linux-amd64.aci"
mkdir "$work/aci" && tar -xzf "$work/docker2aci-test-latest-linux-amd64.aci" -C "$work/aci"
chroot "$work/aci/rootfs" /src/build/docker2aci --version
echo "ok: Dockerfile.test built with buildah, converted, validated, and its docker2aci runs from the ACI"
