#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS.
#   bash fuzz/run.sh [SECONDS] [TARGET...]      default: 60 s, every target
# The corpus grows in build-fuzz/corpus/<target> (seeded from fuzz/make_seeds.py, plus the
# inputs of past findings in fuzz/regressions/<target>, replayed first);
# a crash stops with the reproducer in build-fuzz/crashes/ and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tar_index flatten manifest reference www_authenticate deflate)
mkdir -p build-fuzz
# Quiet when it works; every failing step shows its own output and says which step failed.
step() {  # step NAME COMMAND...
  local log="build-fuzz/$1.log"; shift
  "$@" > "$log" 2>&1 || { tail -40 "$log"; echo "fuzz/run.sh: '$*' failed (log: $log)"; exit 1; }
}
step configure env CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDOCKER2ACI_FUZZ=ON -DDOCKER2ACI_TESTS=OFF
step build cmake --build build-fuzz
step seeds python3 fuzz/make_seeds.py build-fuzz/seeds
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "fuzzing $t for ${seconds}s"
  build-fuzz/fuzz/fuzz_$t -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="build-fuzz/crashes/$t-" -print_final_stats=1 \
    "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" "fuzz/regressions/$t" 2> "build-fuzz/$t.log" ||
    { tail -40 "build-fuzz/$t.log"; echo "fuzz_$t found a problem"; exit 1; }
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "build-fuzz/$t.log" | tr '\n' ' '
  echo
done
