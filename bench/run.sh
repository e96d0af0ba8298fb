#!/usr/bin/env bash
# Benchmarks docker2aci on generated images and, in the same run, the cost of compressing
# its flattened output once with standard tools (the floor no converter can beat).
#
#   bash bench/run.sh [IMAGES...]   default: A A-gzip B C
#     also R (this machine's own files: bench/make_images.py), M (mixed classes of data),
#     also B-20k B-40k B-160k (scaling), A-legacy B-legacy (with the metadata the Go
#     docker2aci reads), pull-IMAGE, e.g. pull-A or pull-A-legacy (the image pushed to
#     Debian's docker-registry on 127.0.0.1, then pulled and converted, against
#     `skopeo copy docker://… dir:` which only downloads it)
#
# Environment: DOCKER2ACI (default build/docker2aci), RUNS (median of, default 3),
# PULL_RATE (MB/s each connection of a pull may receive, through bench/throttle.py, as
# across a real network; default unlimited: loopback, where CPU is the only limit),
# BASELINE_CONVERTER (another converter to time on the same archives, e.g. the Go
# docker2aci: run as `cd DIR && $BASELINE_CONVERTER ARCHIVE`, on pull images as
# `$BASELINE_CONVERTER --insecure-skip-verify --insecure-allow-http docker://…`; its ACI
# must hold the same files as ours, or it is reported as failed, not timed), BENCH_CACHE
# (default bench/cache; images are generated once).
set -euo pipefail
cd "$(dirname "$0")/.."
D2A=${DOCKER2ACI:-build/docker2aci}
RUNS=${RUNS:-3}
CACHE=${BENCH_CACHE:-bench/cache}
IMAGES=("$@")
[ $# -gt 0 ] || IMAGES=(A A-gzip B C)
for tool in /usr/bin/time pigz igzip; do
  command -v $tool > /dev/null || { echo "needs $tool (apt-get install time pigz isal)"; exit 1; }
done
[ -x "$D2A" ] || { echo "build docker2aci first ($D2A)"; exit 1; }
mkdir -p "$CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/d2a-bench.XXXXXX")
registry_pid=
throttle_pid=
cleanup() {
  for pid in $registry_pid $throttle_pid; do kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Timings are kept by name. run_once NAME CMD... runs CMD once and adds its wall and CPU
# (user + system) seconds and its peak RSS to NAME's; summary NAME sets MEDIAN, CPU_S
# (medians), RSS_MB (the largest) and FAILED (set when a run exited non-zero) from them.
# Commands whose times are compared run in turn, round after round, so that the machine's
# drifting speed (10 to 40% here) weighs on each alike.
declare -A WALLS=() CPUS=() PEAKS=() FAILS=()
run_once() {
  local name=$1; shift
  local t m u s
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" > /dev/null 2> "$work/$name.err" ||
    FAILS[$name]="exit status $?"
  read -r t m u s < <(tail -1 "$work/time")
  WALLS[$name]+="$t "
  CPUS[$name]+="$(echo "$u + $s" | bc -l) "
  if [ "$m" -gt "${PEAKS[$name]:-0}" ]; then PEAKS[$name]=$m; fi
}
summary() {
  # shellcheck disable=SC2086 # the lists are space-separated numbers
  MEDIAN=$(median ${WALLS[$1]:-}) CPU_S=$(median ${CPUS[$1]:-})
  RSS_MB=$((${PEAKS[$1]:-0} / 1024)) FAILED=${FAILS[$1]:-}
  unset "WALLS[$1]" "CPUS[$1]" "PEAKS[$1]" "FAILS[$1]"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure NAME CMD...: $RUNS runs in a row, then summary NAME.
measure() {
  for _ in $(seq "$RUNS"); do run_once "$@"; done
  summary "$1"
}

row() {  # row IMAGE TOOL SECONDS MB OUTPUT_BYTES RSS_MB NOTES
  printf '%-10s %-40s %7.2f s %8.0f MB/s %8s MB %9s %s\n' "$1" "$2" "$3" \
    "$(echo "$4 / $3" | bc -l)" "$6" "$(printf '%.1f MB' "$(echo "$5 / 1000000" | bc -l)")" "$7"
}
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

# same_files ACI DIR: the ACI's rootfs holds the same regular files (path and content) and
# symlinks as DIR, ignoring owners, modes and times; prints why not.
same_files() {
  python3 - "$1" "$2" <<'PY'
import hashlib, os, sys, tarfile
def from_aci(path):
    out = {}
    with tarfile.open(path) as t:
        for m in t:
            if not m.name.startswith("rootfs/"):
                continue
            name = m.name[len("rootfs/"):]
            if m.isfile():
                out[name] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
            elif m.issym():
                out[name] = "-> " + m.linkname
    return out
def from_dir(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for f in dirs + files:
            full = os.path.join(d, f)
            name = os.path.relpath(full, root)
            if os.path.islink(full):
                out[name] = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                out[name] = hashlib.sha256(open(full, "rb").read()).hexdigest()
    return out
theirs, ours = from_aci(sys.argv[1]), from_dir(sys.argv[2])
if not theirs:
    sys.exit("its rootfs is empty")
missing = sorted(set(ours) - set(theirs))
extra = sorted(set(theirs) - set(ours))
changed = sorted(n for n in set(ours) & set(theirs) if ours[n] != theirs[n])
if missing or extra or changed:
    sys.exit("its rootfs differs: %d files missing (%s), %d extra, %d changed"
             % (len(missing), ", ".join(missing[:3]), len(extra), len(changed)))
PY
}

# baseline IMAGE TAR_MB OURS_SECONDS TREE CMD...: times the other converter (in a fresh
# directory each run) and reports it, or why its output does not count.
baseline() {
  local img=$1 tar_mb=$2 ours=$3 tree=$4; shift 4
  local dir="$work/baseline"
  measure baseline sh -c 'rm -rf "$0" && mkdir "$0" && cd "$0" && exec "$@"' "$dir" "$@"
  local name; name=$(basename "$BASELINE_CONVERTER")
  local aci; aci=$(find "$dir" -name '*.aci' | head -1)
  local why=
  if [ -n "$FAILED" ]; then why="$FAILED: $(tail -1 "$work/baseline.err")"
  elif [ -z "$aci" ]; then why="wrote no ACI"
  else why=$(same_files "$aci" "$tree" 2>&1) || true
  fi
  if [ -n "$why" ]; then
    printf '%-10s %-40s FAILED, not timed: %s\n' "$img" "$name" "$why"
  else
    row "$img" "$name" "$MEDIAN" "$tar_mb" "$(stat -c %s "$aci")" "$RSS_MB" \
      "docker2aci is $(ratio "$MEDIAN" "$ours")x faster"
  fi
}

# start_registry: Debian's docker-registry on a free loopback port (plain HTTP).
start_registry() {
  [ -z "$registry_pid" ] || return 0
  command -v docker-registry > /dev/null && command -v skopeo > /dev/null ||
    { echo "pull images need docker-registry and skopeo (apt-get install docker-registry skopeo)"; exit 1; }
  REGISTRY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$work/registry" "$REGISTRY_PORT" > "$work/registry.yml"
  docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  registry_pid=$!
  wait_port "$REGISTRY_PORT" || { echo "docker-registry did not start: $(tail -3 "$work/registry.log")"; exit 1; }
  PULL_PORT=$REGISTRY_PORT
  if [ -n "${PULL_RATE:-}" ]; then
    PULL_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 bench/throttle.py "$PULL_PORT" "$REGISTRY_PORT" "$PULL_RATE" &
    throttle_pid=$!
    wait_port "$PULL_PORT" || { echo "throttle did not start"; exit 1; }
  fi
}
wait_port() {
  for _ in $(seq 100); do
    python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
    sleep 0.1
  done
  return 1
}

# prepare IMAGE: generates the archive, converts it once uncompressed and extracts that
# tree (for the floor and for checking baselines); sets ARCHIVE, TAR_BYTES, TAR_MB, TREE,
# GZIP6.
prepare() {
  ARCHIVE="$CACHE/$1.tar"
  [ -f "$ARCHIVE" ] || python3 bench/make_images.py "$1" "$ARCHIVE"
  local out="$work/plain"; rm -rf "$out"; mkdir -p "$out"
  "$D2A" -q -o "$out" --compression none "$ARCHIVE" > /dev/null
  local plain; plain=$(ls "$out"/*.aci)
  TAR_BYTES=$(stat -c %s "$plain")
  TAR_MB=$(echo "$TAR_BYTES / 1000000" | bc -l)
  TREE="$work/tree"; rm -rf "$TREE" "$work/aci"; mkdir "$work/aci"; tar -xf "$plain" -C "$work/aci"
  mv "$work/aci/rootfs" "$TREE"
  GZIP6=$(gzip -6 -c "$plain" | wc -c)
}

# settle: what preparing wrote (the tree, the registry's blobs) goes to disk now, not
# while the next commands are timed.
settle() { sync; }

# The floor: `tar | igzip -1 -T2` of $TREE into $work/igzip.gz, run once by run_once.
floor_cmd() { run_once igzip sh -c "tar -cf - -C '$TREE' . | igzip -1 -T2 > '$work/igzip.gz'"; }

printf '%-10s %-40s %9s %13s %11s %9s %s\n' image tool time throughput "peak RSS" output "ratios"
for img in "${IMAGES[@]}"; do
  out="$work/out"
  rm -rf "$out"; mkdir -p "$out"
  if [[ $img == pull-* ]]; then
    base=${img#pull-}
    prepare "$base"
    start_registry
    skopeo copy -q --dest-tls-verify=false "docker-archive:$ARCHIVE" \
      "docker://127.0.0.1:$REGISTRY_PORT/bench/${base,,}:latest" > /dev/null
    ref="127.0.0.1:$PULL_PORT/bench/${base,,}:latest"
    # The same pull with every blob already in --cache-dir is the conversion's own time on
    # this machine: the least any pull can take, whatever the download costs.
    "$D2A" -q --force --insecure-allow-http --cache-dir "$work/blobs" -o "$out" "docker://$ref" > /dev/null
    measure warm tar -cf "$work/t.tar" -C "$TREE" .
    settle
    for _ in $(seq "$RUNS"); do
      run_once skopeo sh -c 'rm -rf "$0" && skopeo copy -q --src-tls-verify=false "docker://$1" "dir:$0"' "$work/dl" "$ref"
      run_once d2a "$D2A" -q --force --insecure-allow-http -o "$out" "docker://$ref"
      run_once d2a-cached "$D2A" -q --force --insecure-allow-http --cache-dir "$work/blobs" -o "$out" "docker://$ref"
      floor_cmd
    done
    summary skopeo
    skopeo_s=$MEDIAN
    row "$img" "skopeo copy docker://… dir: (download)" "$skopeo_s" "$TAR_MB" "$(du -sb "$work/dl" | cut -f1)" "$RSS_MB" \
      "$(printf 'cpu %.2f s' "$CPU_S")"
    summary d2a-cached
    [ -z "$FAILED" ] || { echo "docker2aci failed: $(cat "$work/d2a-cached.err")"; exit 1; }
    row "$img" "docker2aci, every blob in --cache-dir" "$MEDIAN" "$TAR_MB" "$(stat -c %s "$out"/*.aci)" "$RSS_MB" \
      "$(printf 'x%s the download alone, cpu %.2f s' "$(ratio "$MEDIAN" "$skopeo_s")" "$CPU_S")"
    # No converter can write its first byte before the last layer is in (a whiteout there
    # can remove any file below): for scale, the download followed by compressing the
    # result with the floor's tool, as a converter that did one after the other would.
    summary igzip
    serial_s=$(echo "$skopeo_s + $MEDIAN" | bc -l)
    row "$img" "download, then tar | igzip -1 -T2" "$serial_s" "$TAR_MB" "$(stat -c %s "$work/igzip.gz")" "-" \
      "x$(ratio "$serial_s" "$skopeo_s") the download alone"
    summary d2a
    [ -z "$FAILED" ] || { echo "docker2aci failed: $(cat "$work/d2a.err")"; exit 1; }
    row "$img" "docker2aci docker://… (pull + convert)" "$MEDIAN" "$TAR_MB" "$(stat -c %s "$out"/*.aci)" "$RSS_MB" \
      "x$(ratio "$MEDIAN" "$skopeo_s") the download alone, x$(ratio "$MEDIAN" "$serial_s") download-then-igzip, $(printf 'cpu %.2f s' "$CPU_S")"
    if [ -n "${BASELINE_CONVERTER:-}" ]; then
      baseline "$img" "$TAR_MB" "$MEDIAN" "$TREE" "$BASELINE_CONVERTER" --insecure-skip-verify --insecure-allow-http "docker://$ref"
    fi
    continue
  fi
  prepare "$img"
  measure warm tar -cf "$work/t.tar" -C "$TREE" .
  settle
  measure pigz sh -c "tar -cf - -C '$TREE' . | pigz -p2 -6 > '$work/pigz.gz'"; pigz_s=$MEDIAN
  row "$img" "tar | pigz -p2 -6" "$pigz_s" "$TAR_MB" "$(stat -c %s "$work/pigz.gz")" "-" ""
  for _ in $(seq "$RUNS"); do
    floor_cmd
    run_once d2a "$D2A" -q --force -o "$out" "$ARCHIVE"
  done
  summary igzip
  floor_s=$MEDIAN
  row "$img" "tar | igzip -1 -T2 (floor)" "$floor_s" "$TAR_MB" "$(stat -c %s "$work/igzip.gz")" "-" ""
  summary d2a
  [ -z "$FAILED" ] || { echo "docker2aci failed: $(cat "$work/d2a.err")"; exit 1; }
  d2a_s=$MEDIAN
  size=$(stat -c %s "$out"/*.aci)
  row "$img" "docker2aci (gzip default)" "$d2a_s" "$TAR_MB" "$size" "$RSS_MB" \
    "$(printf 'x%.2f floor, x%.2f pigz, size %.1f%% of gzip -6, cpu %.2f s' "$(echo "$d2a_s / $floor_s" | bc -l)" \
       "$(echo "$d2a_s / $pigz_s" | bc -l)" "$(echo "100 * $size / $GZIP6" | bc -l)" "$CPU_S")"
  measure d2a-none "$D2A" -q --force -o "$out" --compression none "$ARCHIVE"
  row "$img" "docker2aci --compression none" "$MEDIAN" "$TAR_MB" "$TAR_BYTES" "$RSS_MB" ""
  if [ -n "${BASELINE_CONVERTER:-}" ]; then
    baseline "$img" "$TAR_MB" "$d2a_s" "$TREE" "$BASELINE_CONVERTER" "$(realpath "$ARCHIVE")"
  fi
done
