#!/usr/bin/env bash
# Mistakes an operator makes in flags and files: each is an error that says what is wrong
# (exit 2 for usage, 1 otherwise), never a silent wrong result.
source "$(dirname "$0")/lib.sh"
python3 - "$REPO_DIR/testdata" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
import imagegen as g
for name in ("one", "two", "three"):
    g.write_docker_1_10([(g.Image([[("file", name, name.encode())]], config={"Cmd": ["/" + name]}), ["op/%s:1" % name])], name + ".tar")
PY
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

# Several batch files, one from standard input, one starting with a byte order mark.
printf '\xef\xbb\xbf%s\n' "$WORK/one.tar" > a.txt
printf '%s\n' "$WORK/two.tar" > b.txt
rm -rf out && mkdir out
printf '%s\n' "$WORK/three.tar" | d2a -q -o out --batch a.txt --batch b.txt --batch - > stdout
[ "$(ls out | sort | tr '\n' ' ')" = "op-one-1-linux-amd64.aci op-three-1-linux-amd64.aci op-two-1-linux-amd64.aci " ] &&
  pass "three batch files (one on stdin, one with a BOM) all read" || fail "batches: $(ls out)"
finish
