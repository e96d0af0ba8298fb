#!/usr/bin/env bash
# Sets up, builds and runs every test: once as a normal build, once under
# AddressSanitizer and UndefinedBehaviorSanitizer, once under ThreadSanitizer (layers are
# read, scanned and compressed on several threads); then a short run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

# Tests ON explicitly: scripts/demo.sh may have configured build/ without them.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOCKER2ACI_TESTS=ON > /dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure --no-tests=error -j "$jobs")

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDOCKER2ACI_SANITIZE=ON -DDOCKER2ACI_TESTS=ON > /dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure --no-tests=error -j "$jobs")

cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOCKER2ACI_TSAN=ON -DDOCKER2ACI_TESTS=ON > /dev/null
cmake --build build-tsan -j "$jobs"
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --output-on-failure --no-tests=error -j "$jobs")

# Fuzz smoke: each libFuzzer target for FUZZ_SECONDS (default 45).
bash fuzz/run.sh "${FUZZ_SECONDS:-45}"
