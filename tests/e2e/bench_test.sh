#!/usr/bin/env bash
# bench/run.sh on its smallest images, once each: every row it promises is printed, the
# output stays within 3% of gzip -6 (sizes are deterministic, times are never asserted),
# a baseline converter is timed only when its ACI holds our files, and the registry the
# bench starts is stopped with nothing left in TMPDIR.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/tmp" "$WORK/cache" "$WORK/bin"
# bench NAME BASELINE IMAGES...: runs the bench into NAME.out; rc in NAME.rc.
bench() {
  local name=$1 baseline=$2; shift 2
  local rc=0
  (cd "$REPO_DIR" && TMPDIR="$WORK/tmp" RUNS=1 BENCH_CACHE="$WORK/cache" DOCKER2ACI="$DOCKER2ACI" \
    BASELINE_CONVERTER="$baseline" timeout 600 bash bench/run.sh "$@") > "$WORK/$name.out" 2>&1 || rc=$?
  echo "$rc" > "$WORK/$name.rc"
}
row_of() { grep -F -- "$2" "$WORK/$1.out" | grep "^$3 " || true; }

# Baselines: our own binary (same files: timed), one that writes nothing, one whose ACI
# lacks a file.
cat > "$WORK/bin/none" <<'EOF'
#!/bin/sh
exit 0
EOF
cat > "$WORK/bin/short" <<EOF
#!/bin/sh
"$DOCKER2ACI" -q "\$@" > /dev/null || exit 1
python3 "$PY_DIR/checks.py" drop-a-rootfs-file *.aci
EOF
chmod +x "$WORK/bin/none" "$WORK/bin/short"

bench same "$DOCKER2ACI" B-20k pull-B-20k
out=$(cat "$WORK/same.out")
[ "$(cat "$WORK/same.rc")" = 0 ] && pass "bench ran: B-20k and pull-B-20k" || fail "bench: rc $(cat "$WORK/same.rc"): $out"

ours=$(row_of same "docker2aci (gzip default)" B-20k)
size=$(echo "$ours" | sed -n 's/.*size \([0-9.]*\)% of gzip -6.*/\1/p')
[ -n "$size" ] && [ "$(echo "$size <= 103.0 && $size >= 90" | bc)" = 1 ] &&
  pass "B-20k's ACI is $size% of gzip -6 (bound 103%)" || fail "size row: $ours"
echo "$ours" | grep -Eq 'x[0-9.]+ floor, x[0-9.]+ pigz, .*cpu [0-9.]+ s' &&
  pass "ratios to the floor and pigz, and CPU time, on the row" || fail "ratios: $ours"
for tool in "tar | pigz -p2 -6" "tar | igzip -1 -T2 (floor)" "docker2aci --compression none"; do
  [ -n "$(row_of same "$tool" B-20k)" ] && pass "row: $tool" || fail "no row $tool: $out"
done
timed=$(grep -E "^B-20k +$(basename "$DOCKER2ACI") +[0-9.]+ s " "$WORK/same.out" || true)
echo "$timed" | grep -Eq 'docker2aci is [0-9.]+x faster$' &&
  pass "a baseline with the same files is timed: $(echo "$timed" | sed 's/  */ /g')" ||
  fail "baseline not timed: $out"

for tool in "skopeo copy docker://… dir: (download)" "docker2aci, every blob in --cache-dir" \
  "download, then tar | igzip -1 -T2" "docker2aci docker://… (pull + convert)"; do
  [ -n "$(row_of same "$tool" pull-B-20k)" ] && pass "pull row: $tool" || fail "no pull row $tool: $out"
done
pull=$(row_of same "(pull + convert)" pull-B-20k)
echo "$pull" | grep -Eq 'x[0-9.]+ the download alone, x[0-9.]+ download-then-igzip, cpu [0-9.]+ s$' &&
  pass "pull ratios: $(echo "$pull" | sed 's/.*MB \(x.*\)/\1/')" || fail "pull ratios: $pull"
grep -Eq "^pull-B-20k +$(basename "$DOCKER2ACI") +[0-9.]+ s .*docker2aci is [0-9.]+x faster$" "$WORK/same.out" &&
  pass "the baseline is timed on the pull too" || fail "pull baseline: $out"

bench none "$WORK/bin/none" B-20k
grep -Eq '^B-20k +none +FAILED, not timed: wrote no ACI$' "$WORK/none.out" && [ "$(cat "$WORK/none.rc")" = 0 ] &&
  pass "a baseline that writes no ACI is reported as failed, not timed" || fail "none: $(cat "$WORK/none.out")"

bench short "$WORK/bin/short" B-20k
grep -Eq '^B-20k +short +FAILED, not timed: its rootfs differs: 1 files missing' "$WORK/short.out" &&
  pass "a baseline whose rootfs lacks a file is reported as failed, not timed" || fail "short: $(cat "$WORK/short.out")"

# The bench stops the registry it started and removes its work directory.
left=$(pgrep -f "$WORK/tmp/" || true)
[ -z "$left" ] && [ -z "$(ls -A "$WORK/tmp")" ] && pass "no server or file left behind" ||
  fail "left: processes $left, files $(ls -A "$WORK/tmp")"
[ -z "$left" ] || kill $left  # started by this test's bench runs

finish
