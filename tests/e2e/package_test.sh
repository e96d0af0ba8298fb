#!/usr/bin/env bash
# `cmake --build BUILD --target package` makes a .deb as a distribution would ship it: the
# binary, the man page and the bash completion under /usr, Depends computed from the
# shared libraries, and apt can install it on Debian 12.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?}"

cmake --build "$BUILD_DIR" --target package > package.log 2>&1 || { cat package.log; fail "package target"; finish; }
deb=$(ls "$BUILD_DIR"/docker2aci_*_amd64.deb)
[ -f "$deb" ] && pass "built $(basename "$deb")" || fail "no .deb in $BUILD_DIR"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/docker2aci ./usr/share/man/man1/docker2aci.1 ./usr/share/bash-completion/completions/docker2aci; do
  grep -qx -- "$f" <<<"$contents" && pass "contains $f" || fail "lacks $f: $contents"
done
stray=$(grep -v -e '^\./usr/bin/' -e '^\./usr/share/man/' -e '^\./usr/share/bash-completion/' -e '/$' <<<"$contents" || true)
[ -z "$stray" ] && pass "nothing else in the package" || fail "unexpected files: $stray"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libarchive13 libcurl4 libgpgme11 libisal2 libdeflate0 libzstd1 libssl3 libc6 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
pass "Depends from shlibdeps: $depends"
mkdir x && dpkg-deb -x "$deb" x && x/usr/bin/docker2aci --version | grep -q '^docker2aci version' &&
  pass "the packaged binary runs" || fail "packaged binary"
apt-get install --simulate "$deb" > apt.log 2>&1 && grep -q '^Inst docker2aci' apt.log &&
  pass "apt-get install --simulate resolves it" || fail "apt: $(tail -5 apt.log)"
finish
