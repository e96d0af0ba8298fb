#!/usr/bin/env bash
# Mistakes an operator makes in flags and files: each is an error that says what is wrong
# (exit 2 for usage, 1 otherwise), never a silent wrong result.
source "$(dirname "$0")/lib.sh"
python3 "$PY_DIR/fixtures.py" operator
expect() {  # expect RC PATTERN ARGS...: exit status RC and PATTERN on stderr
  local want=$1 pattern=$2; shift 2
  rm -rf out && mkdir out
  set +e; d2a -q -o out "$@" > stdout 2> stderr; local rc=$?; set -e
  [ $rc = "$want" ] && grep -q -- "$pattern" stderr && pass "$*: exit $rc, $(head -1 stderr)" ||
    fail "$*: rc=$rc (want $want) $(cat stderr)"
}
expect 1 'the image is for linux/amd64 only, not linux/arm64' --platform linux/arm64 one.tar
[ -z "$(ls out)" ] || fail "an ACI for the wrong platform was written"
expect 2 '--threads must be 0' --threads 100000 one.tar
expect 2 'standard input (-) can be read once' - -
expect 2 'standard input (-) can be read once' --batch - -
mkdir listdir
expect 2 'batch file listdir is a directory' --batch listdir
expect 2 'cannot read batch file missing.txt: No such file' --batch missing.txt
touch afile
expect 1 '^Error: output directory afile is not a directory$' -o afile one.tar
expect 2 '^Error: --output-dir is empty$' -o '' one.tar
expect 2 '^Error: --passphrase-file needs --sign-key$' --passphrase-file afile one.tar
# A batch error names its image once, not twice.
printf 'missing.tar\n' > missing-batch.txt
expect 1 '^Error: missing.tar: No such file or directory$' --batch missing-batch.txt

# Several batch files, one from standard input, one starting with a byte order mark.
printf '\xef\xbb\xbf%s\n' "$WORK/one.tar" > a.txt
printf '%s\n' "$WORK/two.tar" > b.txt
rm -rf out && mkdir out
printf '%s\n' "$WORK/three.tar" | d2a -q -o out --batch a.txt --batch b.txt --batch - > stdout
[ "$(ls out | sort | tr '\n' ' ')" = "op-one-1-linux-amd64.aci op-three-1-linux-amd64.aci op-two-1-linux-amd64.aci " ] &&
  pass "three batch files (one on stdin, one with a BOM) all read" || fail "batches: $(ls out)"

# Interrupted: the image in progress (here waiting on a FIFO nobody writes) gets its JSON
# line and its error line; the process exits 128+signal and leaves no file.
for signal in INT TERM; do
  rm -rf out fifo && mkdir out && mkfifo fifo
  printf '%s\n' "$WORK/one.tar" "$WORK/fifo" > interrupted.txt
  "$DOCKER2ACI" --json -q -o out --batch interrupted.txt > stdout 2> stderr &
  victim=$!
  for _ in $(seq 100); do [ -s stdout ] && break; sleep 0.1; done
  sleep 0.5
  kill -$signal $victim
  # A process that ignores the signal would keep waiting on the FIFO: give it 10 s, then
  # kill it (its exit status then fails the check below).
  for _ in $(seq 100); do kill -0 $victim 2> /dev/null || break; sleep 0.1; done
  kill -0 $victim 2> /dev/null && kill -9 $victim
  rc=0; wait $victim || rc=$?
  want_rc=$(( 128 + $(kill -l $signal) ))
  [ $rc = $want_rc ] && [ "$(sed -n 2p stdout)" = "{\"error\":\"interrupted by SIG$signal before it was converted\",\"reference\":\"$WORK/fifo\"}" ] &&
    [ "$(cat stderr)" = "Error: $WORK/fifo: interrupted by SIG$signal before it was converted" ] &&
    [ "$(ls out)" = op-one-1-linux-amd64.aci ] && pass "SIG$signal mid-batch: the image in progress reported, exit $rc" ||
    fail "SIG$signal: rc=$rc stdout=$(cat stdout) stderr=$(cat stderr) out=$(ls out)"
done

# Threads the system refuses (RLIMIT_NPROC as an unprivileged user): the conversion goes
# on with the threads it has, down to the main thread alone, and the output is the same.
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
  d2a -q -o out --force one.tar > /dev/null
  want=$(sha256sum < out/op-one-1-linux-amd64.aci)
  mkdir -m 777 limited
  chmod 755 "$WORK"
  # Sanitizer builds: LeakSanitizer's tracer at exit is itself a thread the limit would
  # refuse, and ThreadSanitizer keeps a background thread of its own.
  [ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
  own=0; [ -z "${TSAN_OPTIONS:-}" ] || own=1
  for limit in 1 2 3 5; do
    rm -rf limited/out && mkdir -m 777 limited/out
    others=$( (ps -u nobody --no-headers || true) | wc -l)
    set +e
    timeout 120 setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
      "ulimit -u $((others + own + limit)) && exec '$DOCKER2ACI' -q --jobs 4 --threads 4 -o limited/out one.tar two.tar" \
      > /dev/null 2> stderr
    rc=$?
    set -e
    [ $rc = 0 ] && [ "$(sha256sum < limited/out/op-one-1-linux-amd64.aci)" = "$want" ] &&
      [ -f limited/out/op-two-1-linux-amd64.aci ] && pass "ulimit -u $limit (plus $others): converted, same bytes" ||
      fail "ulimit -u $limit: rc=$rc $(cat stderr)"
  done
else
  fail "thread limits need root and setpriv to run as nobody"
fi
finish
