#!/usr/bin/env bash
# Sets up, builds and runs every test, in the builds users and packagers make and under the
# sanitizers:
#   1. RelWithDebInfo                         unit + end-to-end tests
#   2. Release with Debian's packaging flags  unit + end-to-end tests (dpkg-buildflags)
#   3. Debug, ASan + UBSan                    unit + end-to-end tests
#   4. RelWithDebInfo, TSan                   unit + end-to-end tests
#   5. clang                                  builds everything, runs the unit tests
#   6. a short run of each fuzz target (FUZZ_SECONDS, default 45)
# Warnings are errors in these builds only (DOCKER2ACI_WERROR); the default build keeps
# them warnings. Each step says what failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests
jobs=$(nproc)

step() { echo; echo "== $*"; }
failed() { echo "scripts/test.sh: $1 failed"; exit 1; }
configure_and_build() {  # configure_and_build DIR [cmake args...]
  local dir=$1; shift
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja -DDOCKER2ACI_TESTS=ON -DDOCKER2ACI_WERROR=ON "$@" > "$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; failed "configuring $dir"; }
  cmake --build "$dir" -j "$jobs" > "$dir/build-output.log" 2>&1 || { grep -E -A5 'error|FAILED' "$dir/build-output.log" | head -60; failed "building $dir"; }
}
run_ctest() {  # run_ctest DIR [ctest args...]
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure --no-tests=error -j "$jobs" "$@") || failed "the tests in $dir"
}

step "1/6 RelWithDebInfo"
configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest build

step "2/6 Release with dpkg-buildflags"
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
  configure_and_build build-release -DCMAKE_BUILD_TYPE=Release
run_ctest build-release

step "3/6 ASan + UBSan"
configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DDOCKER2ACI_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan

step "4/6 TSan"
configure_and_build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOCKER2ACI_TSAN=ON
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_ctest build-tsan

step "5/6 clang"
CC=clang CXX=clang++ configure_and_build build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest build-clang -E '^e2e_'

step "6/6 fuzz"
bash fuzz/run.sh "${FUZZ_SECONDS:-45}" || failed "fuzzing"
echo
echo "scripts/test.sh: all passed"
