#!/usr/bin/env bash
# Benchmarks docker2aci on generated images and, in the same run, the cost of compressing
# its flattened output once with standard tools (the floor no converter can beat).
#
#   bash bench/run.sh [IMAGES...]        default: A A-gzip B C; also B-20k B-40k B-160k
#
# Environment: DOCKER2ACI (default build/docker2aci), RUNS (median of, default 3),
# BASELINE_CONVERTER (another converter binary to time on the same archives, e.g. the Go
# docker2aci), BENCH_CACHE (default bench/cache; images are generated once).
set -euo pipefail
cd "$(dirname "$0")/.."
D2A=${DOCKER2ACI:-build/docker2aci}
RUNS=${RUNS:-3}
CACHE=${BENCH_CACHE:-bench/cache}
IMAGES=("${@:-A A-gzip B C}")
[ $# -gt 0 ] || IMAGES=(A A-gzip B C)
command -v /usr/bin/time > /dev/null || { echo "needs GNU time (apt-get install time)"; exit 1; }
[ -x "$D2A" ] || { echo "build docker2aci first ($D2A)"; exit 1; }
mkdir -p "$CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/d2a-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# measure NAME CMD...: median wall seconds and max peak RSS (KB) over $RUNS runs.
measure() {
  local name=$1; shift
  local times=() rss=0 t m
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null
    read -r t m < "$work/time"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  MEDIAN=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  RSS_MB=$((rss / 1024))
}

row() {  # row IMAGE TOOL SECONDS MB OUTPUT_BYTES RSS_MB REF_SECONDS...
  printf '%-7s %-34s %7.2f s %8.0f MB/s %8s MB %9s %s\n' "$1" "$2" "$3" \
    "$(echo "$4 / $3" | bc -l)" "$6" "$(printf '%.1f MB' "$(echo "$5 / 1000000" | bc -l)")" "$7"
}

printf '%-7s %-34s %9s %13s %11s %9s %s\n' image tool time throughput "peak RSS" output "ratios"
for img in "${IMAGES[@]}"; do
  archive="$CACHE/$img.tar"
  [ -f "$archive" ] || python3 bench/make_images.py "$img" "$archive"
  out="$work/out"; rm -rf "$out"; mkdir -p "$out"
  "$D2A" -q -o "$out" --compression none "$archive" > /dev/null
  plain=$(ls "$out"/*.aci)
  tar_bytes=$(stat -c %s "$plain")
  tar_mb=$(echo "$tar_bytes / 1000000" | bc -l)
  tree="$work/tree"; rm -rf "$tree"; mkdir "$tree"; tar -xf "$plain" -C "$tree"
  gzip6=$(gzip -6 -c "$plain" | wc -c)

  measure pigz tar -cf "$work/t.tar" -C "$tree" .   # warm the page cache
  measure pigz sh -c "tar -cf - -C '$tree' . | pigz -p2 -6 > '$work/pigz.gz'"; pigz_s=$MEDIAN
  measure igzip sh -c "tar -cf - -C '$tree' . | igzip -1 -T2 > '$work/igzip.gz'"; floor_s=$MEDIAN
  row "$img" "tar | pigz -p2 -6" "$pigz_s" "$tar_mb" "$(stat -c %s "$work/pigz.gz")" "-" ""
  row "$img" "tar | igzip -1 -T2 (floor)" "$floor_s" "$tar_mb" "$(stat -c %s "$work/igzip.gz")" "-" ""

  rm -rf "$out"; mkdir "$out"
  measure d2a "$D2A" -q --force -o "$out" "$archive"
  size=$(stat -c %s "$out"/*.aci)
  row "$img" "docker2aci (gzip default)" "$MEDIAN" "$tar_mb" "$size" "$RSS_MB" \
    "$(printf 'x%.2f floor, x%.2f pigz, size %.1f%% of gzip -6' "$(echo "$MEDIAN / $floor_s" | bc -l)" \
       "$(echo "$MEDIAN / $pigz_s" | bc -l)" "$(echo "100 * $size / $gzip6" | bc -l)")"
  measure d2a-none "$D2A" -q --force -o "$out" --compression none "$archive"
  row "$img" "docker2aci --compression none" "$MEDIAN" "$tar_mb" "$tar_bytes" "$RSS_MB" ""
  if [ -n "${BASELINE_CONVERTER:-}" ]; then
    measure other sh -c "cd '$out' && '$BASELINE_CONVERTER' '$(realpath "$archive")'"
    row "$img" "$(basename "$BASELINE_CONVERTER")" "$MEDIAN" "$tar_mb" 0 "$RSS_MB" ""
  fi
done
