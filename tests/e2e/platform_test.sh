#!/usr/bin/env bash
# A multi-platform OCI layout (image index with amd64, arm64/v8, arm/v7 and an attestation
# entry): --platform picks the image, aliases work, attestations are never picked, and a
# platform that is not there is an error naming the ones that are.
source "$(dirname "$0")/lib.sh"

python3 "$PY_DIR/fixtures.py" platform

check_pick() {  # check_pick PLATFORM-ARGS EXPECTED-FILE EXPECTED-CONTENT
  rm -rf out && mkdir out
  if d2a -o out $1 multi > /dev/null && [ -f "out/$2" ] && validate "out/$2" &&
     [ "$(tar -xOzf "out/$2" rootfs/which)" = "$3" ]; then
    pass "${1:-default} -> $2"
  else fail "${1:-default}: got $(ls out)"; fi
}
check_pick "" multi-1.0-linux-amd64.aci amd64
check_pick "--platform linux/arm64" multi-1.0-linux-aarch64.aci arm64
check_pick "--platform linux/aarch64" multi-1.0-linux-aarch64.aci arm64
check_pick "--platform linux/arm/v7" multi-1.0-linux-armv7l.aci armv7
check_pick "--platform linux/armhf" multi-1.0-linux-armv7l.aci armv7

rm -rf out && mkdir out
set +e; d2a -o out --platform linux/s390x multi > /dev/null 2> err; rc=$?; set -e
if [ $rc = 1 ] && grep -q 'no image for platform linux/s390x' err && grep -q 'linux/arm64/v8' err &&
   ! grep -q 'unknown' err && [ -z "$(ls out)" ]; then pass "missing platform: $(cat err)"
else fail "missing platform: rc=$rc $(cat err)"; fi
finish
