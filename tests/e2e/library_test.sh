#!/usr/bin/env bash
# The installed library as other programs use it: a DESTDIR install, then programs built
# outside the tree (tests/library/) against it — C through pkg-config, C++ (the C++ API)
# through CMake's find_package, Go through cgo, Python through ctypes — each converting
# the sample image to the CLI's bytes; a C caller's errors come back as strings and it
# lives on, a C++ caller's as the API's exception types; batches from C and C++; a known
# manifest skipped; only the API is exported; the installed CLI runs on the installed
# library.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?}"
SRC="$REPO_DIR/tests/library"

DESTDIR="$WORK/root" cmake --install "$BUILD_DIR" --prefix /usr > install.log
lib=$(find "$WORK/root" -name libdocker2aci.so.1)
libdir=$(dirname "$lib")
pcdir="$libdir/pkgconfig"
[ -f "$lib" ] && [ -f "$pcdir/docker2aci.pc" ] && [ -f "$WORK/root/usr/include/docker2aci/docker2aci.h" ] &&
  [ -f "$libdir/cmake/docker2aci/docker2aciConfig.cmake" ] &&
  pass "installed: $(cd "$WORK/root" && find . -path '*docker2aci*' -type f | sort | tr '\n' ' ')" ||
  fail "install: $(cat install.log)"
# The installed program finds the installed library beside it (its RUNPATH is relative),
# with no LD_LIBRARY_PATH.
installed_cli=$WORK/root/usr/bin/docker2aci
[ "$(env -u LD_LIBRARY_PATH "$installed_cli" --version | head -1)" = "$(d2a --version | head -1)" ] &&
  [ "$(readlink -f "$(LD_LIBRARY_PATH= ldd "$installed_cli" | awk '/libdocker2aci/ {print $3}')")" = "$(readlink -f "$lib")" ] &&
  pass "the installed CLI runs on the installed libdocker2aci.so.1" ||
  fail "installed CLI: $(LD_LIBRARY_PATH= ldd "$installed_cli" | grep docker2aci)"
export LD_LIBRARY_PATH="$libdir"
# A sanitizer build's library needs its runtime loaded first: the C and C++ programs are
# built with the same sanitizer (so it watches the API's memory and threads as they call
# it; a runtime preloaded into a program built without it was seen to hang at exit, in
# libp11-kit's destructor after a strerror()); Go's and Python's runtimes are not run
# under it.
sanitizer=$(ldd "$lib" | awk '/lib(asan|ubsan|tsan)\.so/ {print $3}' | tr '\n' ' ')
san_flags=
case "$sanitizer" in
  *tsan*) san_flags=-fsanitize=thread ;;
  *asan*) san_flags=-fsanitize=address,undefined ;;
esac

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libdocker2aci.so.1 ] && pass "SONAME $soname" || fail "SONAME: $soname"
# Exactly the C header's functions, and of the C++ inside only the public namespace
# (docker2aci::, with its classes' type information): nothing of d2a:: or libstdc++.
want=$(grep -o 'D2A_API [^(]*(' "$WORK/root/usr/include/docker2aci/docker2aci.h" | grep -o 'd2a_[a-z_]*(' | tr -d '(' | sort)
exported=$(nm -DC --defined-only "$lib" | awk '$2 ~ /^[TDBRVWu]$/ {$1=""; $2=""; sub(/^  /, ""); print}' | sed 's/@.*//')
have=$(grep '^d2a_' <<<"$exported" | sort)
[ "$want" = "$have" ] && pass "nm -D: the C header's $(wc -l <<<"$have") functions" ||
  fail "exported C symbols differ from the header's: $(diff <(echo "$want") <(echo "$have") | head -20)"
others=$(grep -v '^d2a_' <<<"$exported" | grep -Ev '^((typeinfo|typeinfo name|vtable) for )?docker2aci::' || true)
cxx=$(grep -c 'docker2aci::' <<<"$exported")
[ -z "$others" ] && [ "$cxx" -gt 20 ] && pass "nm -D: besides them only docker2aci:: ($cxx symbols)" ||
  fail "exported beyond the API: $(head -20 <<<"$others")"

python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar
mkdir cli && d2a -q -o cli hello.tar > /dev/null
want_aci=cli/mix3-hello-latest-linux-amd64.aci
[ -f $want_aci ] || fail "the CLI wrote no $want_aci"
# same_bytes OUTDIR WHAT: OUTDIR holds the CLI's ACI, byte for byte, and nothing else.
same_bytes() {
  if [ "$(ls "$1")" = mix3-hello-latest-linux-amd64.aci ] && cmp -s "$1/mix3-hello-latest-linux-amd64.aci" $want_aci; then
    pass "$2: the CLI's bytes"
  else fail "$2: $(ls -l "$1")"; fi
}

# C, through pkg-config.
export PKG_CONFIG_PATH="$pcdir"
if cc -std=c99 -Wall -Werror $san_flags -o convert-c "$SRC/convert.c" $(pkg-config --cflags --libs docker2aci) 2> cc.log; then
  pass "a C program builds with pkg-config --cflags --libs docker2aci"
  mkdir c-out
  ./convert-c c-out hello.tar > c.txt 2> c.err && pass "the C program converts" || fail "C: $(cat c.err)"
  same_bytes c-out "C"
  id=$(awk '{print $2}' c.txt)
  want_id="sha512-$(gzip -dc $want_aci | sha512sum | cut -c1-128)"
  [ "$id" = "$want_id" ] && pass "C: image ID as rkt computes it" || fail "C: image ID $id, not $want_id"
  ./convert-c c-out hello.tar > c2.txt && [ "$(cat c2.txt)" = skipped ] && pass "C: unchanged image skipped" ||
    fail "C: second run: $(cat c2.txt)"
  # The tampered archive: a layer whose bytes no longer match its digest.
  python3 "$PY_DIR/checks.py" corrupt-layer-bytes hello.tar tampered.tar
  mkdir errors-out
  ./convert-c --errors tampered.tar > errors.txt 2> errors.err || fail "C --errors exited $?"
  expected="set: -1 unknown compression method: brotli (want gzip or none)
set: -1 unknown option \"no-such-flag\"
set: -1 option \"nosquash\" wants true or false, not \"maybe\"
set: -1 \"json\" is the command line's, not an option of a conversion
convert: no-such-file.tar: No such file or directory (0)"
  if [ "$(head -5 errors.txt)" = "$expected" ]; then pass "C: bad flags and a missing file give their errors"
  else fail "C errors: $(diff <(echo "$expected") <(head -5 errors.txt))"; fi
  if grep -q '^convert: .*sha256:.*(0, no path)$' errors.txt && [ "$(tail -1 errors.txt)" = alive ]; then
    pass "C: the tampered archive's error, and the process lives on: $(sed -n 6p errors.txt)"
  else fail "C tampered: $(cat errors.txt errors.err)"; fi
  [ -z "$(ls -A errors-out)" ] && pass "C: nothing written for the failures" || fail "left: $(ls -A errors-out)"
  # A batch: the later of two images of one file name fails, a missing file fails, and
  # the batch says how many.
  mkdir batch-out
  cp hello.tar hello-copy.tar
  ./convert-c --batch batch-out hello.tar hello-copy.tar no-such.tar > batch.txt 2>&1
  expected="batch: 2 of 3 images failed
hello-copy.tar: error: batch-out/mix3-hello-latest-linux-amd64.aci is also the output of hello.tar in this run; convert one of them into another directory
hello.tar: batch-out/mix3-hello-latest-linux-amd64.aci mix3/hello
no-such.tar: error: no-such.tar: No such file or directory"
  [ "$(LC_ALL=C sort batch.txt)" = "$expected" ] && pass "C: a batch reports each image and the count that failed" ||
    fail "C batch: $(diff <(echo "$expected") <(LC_ALL=C sort batch.txt))"
else fail "C build: $(cat cc.log)"; fi

# C++, through CMake's find_package.
if cmake -S "$SRC" -B cpp-build -DCMAKE_PREFIX_PATH="$WORK/root/usr" -DCMAKE_CXX_FLAGS="$san_flags" \
     -DCMAKE_EXE_LINKER_FLAGS="$san_flags" > cpp.log 2>&1 &&
   cmake --build cpp-build >> cpp.log 2>&1; then
  pass "a C++ program builds with find_package(docker2aci CONFIG)"
  mkdir cpp-out
  cpp-build/convert-cpp cpp-out hello.tar > cpp.txt 2>&1 && pass "the C++ program converts" || fail "C++: $(cat cpp.txt)"
  same_bytes cpp-out "C++"
  mkdir cpp-none
  cpp-build/convert-cpp cpp-none hello.tar compression=none > /dev/null 2>&1 &&
    [ "$(head -c 2 cpp-none/*.aci | od -An -tx1 | tr -d ' ')" != 1f8b ] &&
    pass "C++: options as the CLI's flags (compression=none)" || fail "C++: compression=none"
  # Errors are the API's own exception types, caught across the library.
  cpp-build/convert-cpp --errors x > cpp-errors.txt 2>&1 || true
  expected="UsageError: unknown compression method: brotli (want gzip or none)
Error: no-such-file.tar: No such file or directory"
  [ "$(cat cpp-errors.txt)" = "$expected" ] && pass "C++: UsageError and Error caught by their types" ||
    fail "C++ errors: $(diff <(echo "$expected") cpp-errors.txt)"
  # "known-manifest": an image the caller holds is skipped before anything is written.
  skopeo copy -q docker-archive:hello.tar oci:layout:latest
  mkdir cli-layout
  digest=$(d2a --json -o cli-layout layout | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifestDigest"])')
  mkdir cpp-known
  cpp-build/convert-cpp cpp-known layout known-manifest="$digest" > known.txt 2>&1 &&
    [ "$(cat known.txt)" = "skipped $digest" ] && [ -z "$(ls -A cpp-known)" ] &&
    pass "C++: a known manifest is skipped, nothing written" || fail "C++ known manifest: $(cat known.txt; ls cpp-known)"
  mkdir cpp-batch
  cpp-build/convert-cpp --batch cpp-batch hello.tar layout hello-copy.tar > cpp-batch.txt 2>&1 || true
  expected="0 hello.tar: ok cpp-batch/mix3-hello-latest-linux-amd64.aci mix3/hello
1 layout: ok cpp-batch/layout-latest-linux-amd64.aci layout
2 hello-copy.tar: error: cpp-batch/mix3-hello-latest-linux-amd64.aci is also the output of hello.tar in this run; convert one of them into another directory"
  [ "$(LC_ALL=C sort cpp-batch.txt)" = "$expected" ] && pass "C++: a batch, each outcome with its index" ||
    fail "C++ batch: $(diff <(echo "$expected") <(LC_ALL=C sort cpp-batch.txt))"
else fail "C++ build: $(tail -20 cpp.log)"; fi

if [ -n "$sanitizer" ]; then
  echo "# Python and Go skipped: the library is built with $sanitizer"
  finish
  exit
fi

# Python, through ctypes.
mkdir py-out
if python3 "$SRC/convert.py" "$lib" py-out hello.tar > py.txt 2> py.err; then
  pass "Python (ctypes) converts with $(cat py.err)"
  same_bytes py-out "Python"
else fail "Python: $(cat py.err)"; fi

# Go, through cgo (pkg-config finds the library; no network: the module has no dependencies).
cp -r "$SRC/go" go-src
if (cd go-src && GOCACHE="$WORK/gocache" GOPATH="$WORK/gopath" GOFLAGS=-mod=mod GOPROXY=off \
      go build -o ../convert-go . ) > go.log 2>&1; then
  pass "a Go program builds through cgo"
  mkdir go-out
  ./convert-go go-out hello.tar > go.txt 2> go.err && pass "the Go program converts" || fail "Go: $(cat go.err)"
  same_bytes go-out "Go"
else fail "Go build: $(tail -20 go.log)"; fi
finish
