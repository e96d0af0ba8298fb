#!/usr/bin/env bash
# Broken archives: exit 1, one line on stderr naming the problem, no file left behind.
source "$(dirname "$0")/lib.sh"

python3 "$PY_DIR/fixtures.py" bad-input
# A corrupt gzip layer: flip bytes in the middle of a layer blob of the Docker 25 archive.
python3 "$PY_DIR/checks.py" corrupt-first-layer

check() {  # check NAME FILE EXPECTED-SUBSTRING
  rm -rf out && mkdir out
  set +e
  d2a -o out "$2" > stdout 2> stderr; local rc=$?
  set -e
  local lines; lines=$(wc -l < stderr)
  if [ $rc = 1 ] && [ "$lines" = 1 ] && grep -q -- "$3" stderr && [ -z "$(ls -A out)" ]; then
    pass "$1: $(cat stderr)"
  else
    fail "$1: rc=$rc lines=$lines files=$(ls -A out | tr '\n' ' ') stderr=$(cat stderr)"
  fi
}
d2a -o . good.tar > /dev/null && pass "the good archive converts" || fail "good archive"
check truncated truncated.tar "truncated"
check corrupt-layer corrupt-layer.tar "corrupt gzip data\|digest mismatch\|checksum mismatch"
check traversal traversal.tar 'leaves the root'
check link-traversal link-traversal.tar 'leaves the root'
check wh-empty wh-empty.tar 'malformed whiteout'
check wh-dot wh-dot.tar 'malformed whiteout'
check wh-dotdot wh-dotdot.tar 'malformed whiteout'
check parent-loop loop.tar 'loops'
check not-an-archive /etc/passwd 'not a tar header'
check missing-file does-not-exist.tar 'No such file'
set +e; d2a --compression=bzip2 good.tar > /dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] && pass "usage error exits 2" || fail "usage error exit $rc"
finish
