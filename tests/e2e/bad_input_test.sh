#!/usr/bin/env bash
# Broken archives: exit 1, one line on stderr naming the problem, no file left behind.
source "$(dirname "$0")/lib.sh"

python3 - "$REPO_DIR/testdata" <<'PY'
import io, json, sys, tarfile
sys.path.insert(0, sys.argv[1])
import imagegen as g
ok = g.Image([[("file", "a", b"a" * 100000)], [("file", "b", b"b")]], config={"Cmd": ["/a"]})
g.write_docker_1_10([(ok, ["bad/img:1"])], "good.tar")
g.write_docker_25([(ok, ["bad/img:1"])], "good25.tar", compress=True)
data = open("good.tar", "rb").read()
open("truncated.tar", "wb").write(data[: len(data) // 2])
# A layer entry that leaves the root.
evil = g.Image([[("raw", {"name": "../escape", "size": 1}, b"x")]])
g.write_docker_1_10([(evil, ["bad/img:1"])], "traversal.tar")
# A hard link leaving the root.
evil = g.Image([[("raw", {"name": "x", "type": tarfile.LNKTYPE, "linkname": "../../etc/passwd"}, None)]])
g.write_docker_1_10([(evil, ["bad/img:1"])], "link-traversal.tar")
# Malformed whiteouts.
for n, name in (("wh-empty", ".wh."), ("wh-dot", ".wh.."), ("wh-dotdot", ".wh...")):
    evil = g.Image([[("raw", {"name": "d/" + name, "size": 0}, b"")]])
    g.write_docker_1_10([(evil, ["bad/img:1"])], n + ".tar")
# A legacy parent chain that loops.
a, b = "a" * 64, "b" * 64
out = g.TarOut()
out.file("repositories", json.dumps({"bad/img": {"1": a}}).encode())
out.file(a + "/json", json.dumps({"id": a, "parent": b}).encode())
out.file(b + "/json", json.dumps({"id": b, "parent": a}).encode())
out.file(a + "/layer.tar", b""); out.file(b + "/layer.tar", b"")
out.write("loop.tar")
PY
# A corrupt gzip layer: flip bytes in the middle of a layer blob of the Docker 25 archive.
python3 - <<'PY'
import tarfile, io, json
src = tarfile.open("good25.tar")
dst = tarfile.open("corrupt-layer.tar", "w", format=tarfile.PAX_FORMAT)
manifest = json.load(src.extractfile("manifest.json"))
first_layer = manifest[0]["Layers"][0]
for m in src.getmembers():
    data = src.extractfile(m).read() if m.isfile() else None
    if m.name == first_layer:
        data = bytearray(data); mid = len(data) // 2
        for i in range(mid, mid + 16): data[i] ^= 0xFF
        data = bytes(data)
    dst.addfile(m, io.BytesIO(data) if data is not None else None)
dst.close()
PY

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
