# Shared helpers for the end-to-end tests. Each test sources this, works in its own
# temporary directory and removes it on exit.
set -euo pipefail

: "${DOCKER2ACI:?DOCKER2ACI must name the docker2aci binary}"
: "${ACTOOL:?ACTOOL must name the appc actool binary}"
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$TESTS_DIR/../.." && pwd)"
PY_DIR="$TESTS_DIR/py"  # the tests' Python: images (fixtures.py), checks, servers
TREE="python3 $PY_DIR/tree.py"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/d2a-e2e.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
finish() {
  if [ -s "$WORK/.invalid-acis" ]; then
    fail "actool rejected: $(tr '\n' ' ' < "$WORK/.invalid-acis")"
  fi
  echo "validated $(wc -l < "$WORK/.validated" 2>/dev/null || echo 0) ACIs with actool"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# Runs docker2aci with a time limit (a hang is a failure); every ACI a run writes must
# pass appc's validator, whatever the exit status (a batch that fails for one image still
# writes the others). Results go to files: d2a may run in a subshell.
d2a() {
  local rc=0
  d2a_mark
  timeout 300 "$DOCKER2ACI" "$@" || rc=$?
  d2a_validate_new
  return $rc
}
# For runs that cannot go through d2a (under `script`, in the background): d2a_mark before,
# d2a_validate_new after.
d2a_mark() { D2A_MARKER=$(mktemp "$WORK/.marker.XXXXXX"); }
d2a_validate_new() {
  local f
  while IFS= read -r f; do
    if "$ACTOOL" validate "$f" > /dev/null 2>&1 && stream_readable "$f"; then echo "$f" >> "$WORK/.validated"
    else echo "$f" >> "$WORK/.invalid-acis"; fi
  done < <(find "$WORK" -name '*.aci' -newer "$D2A_MARKER")
  rm -f "$D2A_MARKER"
}

# stream_readable ACI: a gzip ACI is one member that a streaming reader that stops after
# the first member (Python's tarfile in "r|gz" mode) reads to the end, with every entry
# and byte that gzip -dc gives, and gzip -l reports its true size.
stream_readable() {
  [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" = 1f8b ] || return 0
  local want; want=$(gzip -dc "$1" | wc -c)
  python3 "$PY_DIR/checks.py" stream-readable "$1" "$want" || return 1
  [ "$(gzip -l "$1" | awk 'NR == 2 {print $2}')" = "$want" ] || { echo "$1: gzip -l size differs from $want"; return 1; }
}

# validate ACI: appc's own validator must accept it.
validate() { "$ACTOOL" validate "$1"; }

# unpack_aci ACI DIR: extract as a runtime would (owners, modes, xattrs, devices).
unpack_aci() {
  mkdir -p "$2"
  tar --xattrs --xattrs-include='*' --same-owner --numeric-owner -xpf "$1" -C "$2"
}

manifest_of() { tar -xOf "$1" manifest; }

# umoci helpers: an OCI layout L with image tag t, built layer by layer from bundle B.
umoci_start() { umoci init --layout "$1" && umoci new --image "$1:t" && umoci unpack --image "$1:t" "$2" >/dev/null; }
umoci_commit() { umoci repack --refresh-bundle --image "$1:t" "$2" >/dev/null; }

# run_app ACI DIR: what rkt does with an app, minus isolation: unpack the ACI, chroot into
# its rootfs, run app.exec with app.environment in app.workingDirectory as app.user and
# app.group. Runs in the background with output in DIR.out; sets APP_PID.
run_app() {
  unpack_aci "$1" "$2"
  manifest_of "$1" > "$2.manifest"
  python3 "$PY_DIR/checks.py" run-app "$2/rootfs" "$2.manifest" > "$2.out" 2>&1 &
  APP_PID=$!
}

