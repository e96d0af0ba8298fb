#!/usr/bin/env bash
# `cmake --build BUILD --target package` makes .debs as a distribution would ship them:
# docker2aci (the binary, the man page and the bash completion under /usr), libdocker2aci1
# (the shared library the binary runs on), libdocker2aci-dev (headers, CMake package,
# pkg-config file, the .so link); Depends computed from the shared libraries, and apt can
# install all three on Debian 12.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?}"

cmake --build "$BUILD_DIR" --target package > package.log 2>&1 || { cat package.log; fail "package target"; finish; }
deb=$(ls "$BUILD_DIR"/docker2aci_*_amd64.deb)
[ "$(ls "$BUILD_DIR"/*.deb | wc -l)" = 3 ] && pass "three packages" || fail "packages: $(ls "$BUILD_DIR"/*.deb)"
[ -f "$deb" ] && pass "built $(basename "$deb")" || fail "no .deb in $BUILD_DIR"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/docker2aci ./usr/share/man/man1/docker2aci.1 ./usr/share/bash-completion/completions/docker2aci; do
  grep -qx -- "$f" <<<"$contents" && pass "contains $f" || fail "lacks $f: $contents"
done
stray=$(grep -v -e '^\./usr/bin/' -e '^\./usr/share/man/' -e '^\./usr/share/bash-completion/' -e '/$' <<<"$contents" || true)
[ -z "$stray" ] && pass "nothing else in the package" || fail "unexpected files: $stray"
# The program runs on the library: its package depends on that exact version, and on
# what the program links itself; the library's own dependencies come with it.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
grep -q "^libdocker2aci1 (= $(dpkg-deb -f "$deb" Version)), " <<<"$depends" &&
  pass "Depends: its exact library, then shlibdeps: $depends" || fail "Depends: $depends"
libdeb=$(ls "$BUILD_DIR"/libdocker2aci1_*_amd64.deb)
devdeb=$(ls "$BUILD_DIR"/libdocker2aci-dev_*_amd64.deb)
mkdir x && dpkg-deb -x "$deb" x && dpkg-deb -x "$libdeb" x &&
  env -u LD_LIBRARY_PATH x/usr/bin/docker2aci --version | grep -q '^docker2aci version' &&
  pass "the packaged binary runs on the packaged library" || fail "packaged binary"

# The library's packages.
files_of() { dpkg-deb -c "$1" | awk '{print $6}' | grep -v '/$' | sort | tr '\n' ' '; }
[ "$(files_of "$libdeb")" = "./usr/lib/libdocker2aci.so.1 ./usr/lib/libdocker2aci.so.1.18.0 " ] &&
  pass "libdocker2aci1 holds the library and its soname link" || fail "libdocker2aci1: $(files_of "$libdeb")"
dev_files=$(files_of "$devdeb")
for f in ./usr/include/docker2aci/docker2aci.h ./usr/include/docker2aci/docker2aci.hpp ./usr/lib/libdocker2aci.so ./usr/lib/pkgconfig/docker2aci.pc \
         ./usr/lib/cmake/docker2aci/docker2aciConfig.cmake ./usr/lib/cmake/docker2aci/docker2aciTargets.cmake; do
  grep -q -- "$f " <<<"$dev_files" && pass "libdocker2aci-dev contains $f" || fail "libdocker2aci-dev lacks $f: $dev_files"
done
grep -q "libdocker2aci" <<<"$(files_of "$deb")" && fail "the CLI's package holds library files" || true
lib_depends=$(dpkg-deb -f "$libdeb" Depends)
grep -q '\blibarchive13\b' <<<"$lib_depends" && grep -q '\blibcurl4\b' <<<"$lib_depends" &&
  pass "libdocker2aci1 Depends from shlibdeps: $lib_depends" || fail "libdocker2aci1 Depends: $lib_depends"
[ "$(dpkg-deb -f "$devdeb" Depends)" = "libdocker2aci1 (= $(dpkg-deb -f "$libdeb" Version))" ] &&
  pass "libdocker2aci-dev depends on its exact library" || fail "dev Depends: $(dpkg-deb -f "$devdeb" Depends)"
[ "$(dpkg-deb -f "$libdeb" Section)/$(dpkg-deb -f "$devdeb" Section)" = libs/libdevel ] &&
  pass "sections libs and libdevel" || fail "sections"
apt-get install --simulate "$deb" "$libdeb" "$devdeb" > apt.log 2>&1 &&
  grep -q '^Inst docker2aci ' apt.log && grep -q '^Inst libdocker2aci1 ' apt.log && grep -q '^Inst libdocker2aci-dev ' apt.log &&
  pass "apt-get install --simulate resolves all three" || fail "apt: $(tail -5 apt.log)"
finish
