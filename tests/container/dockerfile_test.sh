#!/usr/bin/env bash
# Proves Dockerfile.test without a Docker engine: a Debian 12 base made with debootstrap,
# `buildah bud` (vfs storage, chroot isolation) of Dockerfile.test (which builds and tests
# the project inside), then the resulting image converted by docker2aci itself, validated,
# and the docker2aci built inside it run from a chroot of the ACI. Slow (network to the
# Debian mirror, the whole test suite inside): run by hand, not by scripts/test.sh.
#   bash tests/container/dockerfile_test.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
build=${1:-$repo/build}

make_base_image
bud Dockerfile.test localhost/docker2aci-test:latest
grep -E "tests passed|tests failed" "$work/bud.log" | tail -3

"${B[@]}" push -q localhost/docker2aci-test:latest "docker-archive:$work/image.tar:docker2aci/test:latest"
/usr/bin/time -f "%e s, %M KB peak RSS" "$build/docker2aci" -q -o "$work" "$work/image.tar"
ls -l "$work/image.tar" "$work"/docker2aci-test-latest-linux-amd64.aci
actool validate "$work/docker2aci-test-latest-linux-amd64.aci"
mkdir "$work/aci" && tar -xzf "$work/docker2aci-test-latest-linux-amd64.aci" -C "$work/aci"
chroot "$work/aci/rootfs" /src/build/docker2aci --version
echo "ok: Dockerfile.test built with buildah, converted, validated, and its docker2aci runs from the ACI"
