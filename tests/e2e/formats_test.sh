#!/usr/bin/env bash
# One image written in every docker save generation, compressed every way, read from a
# file and from stdin: every conversion gives the same rootfs, actool accepts each ACI,
# and the manifest is the same apart from the source-specific manifest digest.
source "$(dirname "$0")/lib.sh"

python3 "$PY_DIR/fixtures.py" formats
gzip -k -n docker-1.10.tar && xz -k docker-1.10.tar && zstd -q -k docker-1.10.tar

ACI=example-app-1.0-linux-amd64.aci
# Every input must give exactly this tree (written out by hand from the layers above: the
# whiteout, the opaque directory, the hard link, the empty layer) and this manifest.
expect_tree='. dir 0755 0:0
bin symlink 0777 0:0 mtime=1600000000 -> usr/bin
dev dir 0755 0:0
dev/fd symlink 0777 0:0 mtime=0 -> /proc/self/fd
dev/stderr symlink 0777 0:0 mtime=0 -> /dev/console
dev/stdin symlink 0777 0:0 mtime=0 -> /proc/self/fd/0
dev/stdout symlink 0777 0:0 mtime=0 -> /dev/console
etc dir 0755 0:0
etc/motd file 0644 0:0 mtime=1600000000 size=3 98ea6e4f216f2fb4 link-group=etc/motd
etc/motd2 file 0644 0:0 mtime=1600000000 size=3 98ea6e4f216f2fb4 link-group=etc/motd
etc/os-release file 0644 0:0 mtime=1600000000 size=8 0c3640f695fe2e0d
usr dir 0755 0:0
usr/bin dir 0755 0:0
usr/bin/tool file 0755 0:0 mtime=1600000000 size=20 bf664cf84f00f6ed
usr/lib dir 0755 0:0
usr/lib/data file 0644 0:0 mtime=1600000000 size=4208261 bbe93d7d0628937f
usr/share dir 0755 0:0
usr/share/words file 0644 0:0 mtime=1600000000 size=446824 95d1661e19dcd04a
var dir 0755 0:0
var/cache dir 0755 0:0
var/cache/c file 0644 0:0 mtime=1600000000 size=1 2e7d2c03a9507ae2'
expect_manifest='{"acKind":"ImageManifest","acVersion":"0.8.11","annotations":[{"name":"appc.io/docker/cmd","value":"[\"/usr/bin/tool\"]"},{"name":"appc.io/docker/imageid","value":"'"$(cat config-digest)"'"},{"name":"appc.io/docker/originalname","value":"example/app:1.0"},{"name":"appc.io/docker/registryurl","value":"registry-1.docker.io"},{"name":"appc.io/docker/repository","value":"example/app"},{"name":"appc.io/docker/tag","value":"1.0"},{"name":"authors","value":"docker2aci tests"},{"name":"created","value":"2020-09-13T12:26:40Z"}],"app":{"environment":[{"name":"A","value":"1"},{"name":"B","value":"x=y"}],"exec":["/usr/bin/tool"],"group":"0","user":"0","userLabels":{"org.example":"yes"}},"labels":[{"name":"arch","value":"amd64"},{"name":"os","value":"linux"},{"name":"version","value":"1.0"}],"name":"example/app"}'
for input in legacy.tar docker-1.10.tar docker-25.tar docker-25-gzip.tar docker-25-zstd.tar containerd.tar containerd-oci-only.tar \
             docker-1.10.tar.gz docker-1.10.tar.xz docker-1.10.tar.zst; do
  rm -rf out && mkdir out
  if ! d2a -o out "$input" > log 2> err; then fail "$input: $(cat err)"; continue; fi
  [ -s err ] && fail "$input: stderr not empty: $(cat err)"
  validate out/$ACI || fail "$input: actool validate"
  unpack_aci out/$ACI tree-$input
  if [ "$($TREE dump tree-$input/rootfs)" = "$expect_tree" ]; then
    pass "$input converts to the expected tree"
  else
    diff <(echo "$expect_tree") <($TREE dump tree-$input/rootfs) || true
    fail "$input tree differs"
  fi
  # The manifest digest exists only where the input has a manifest; all else is the same.
  # Legacy archives have no config digest: their image ID is the top layer's v1 ID.
  got=$(manifest_of out/$ACI | jq -S -c --arg id "$(cat config-digest)" --arg input "$input" '
    del(.annotations[] | select(.name == "appc.io/docker/manifesthash")) |
    if $input == "legacy.tar" then (.annotations[] | select(.name == "appc.io/docker/imageid") | .value) |=
      (if test("^[0-9a-f]{64}$") then $id else "not a v1 id: " + . end) else . end')
  [ "$got" = "$(jq -S -c . <<<"$expect_manifest")" ] && pass "manifest of $input" ||
    { diff <(jq -S . <<<"$expect_manifest") <(jq -S . <<<"$got") || true; fail "manifest of $input"; }
done

# stdin, compressed, in a pipeline.
rm -rf out && mkdir out
if cat docker-1.10.tar.gz | d2a -o out - > /dev/null && [ -f out/$ACI ]; then
  unpack_aci out/$ACI tree-stdin
  [ "$($TREE dump tree-stdin/rootfs)" = "$expect_tree" ] && pass "stdin gzip" || fail "stdin tree"
else fail "stdin gzip"; fi

# Deterministic: same input, same bytes, whatever the thread count.
mkdir -p d1 d2 d3
d2a -o d1 docker-25-gzip.tar > /dev/null
d2a -o d2 docker-25-gzip.tar > /dev/null
d2a -o d3 --threads 1 docker-25-gzip.tar > /dev/null
if cmp -s d1/$ACI d2/$ACI && cmp -s d1/$ACI d3/$ACI; then pass "same bytes across runs and thread counts"; else fail "output not deterministic"; fi
d2a -o d1 --compression none docker-25-gzip.tar > /dev/null
if [ "$(gzip -dc d2/$ACI | sha512sum)" = "$(sha512sum < d1/$ACI)" ]; then pass "gzip and none hold the same tar"; else fail "gzip/none differ"; fi

# --debug reports counts and where the time went, on stderr only.
rm -rf out && mkdir out
d2a --debug -o out docker-25-gzip.tar > log 2> err
entries=$(tar -tzf out/$ACI | wc -l)  # the manifest and rootfs/ are not image entries
if grep -qx "debug: out/$ACI: $((entries - 2)) entries, $(gzip -dc out/$ACI | wc -c) tar bytes, $(stat -c %s out/$ACI) written" err &&
   grep -Eqx "debug: out/$ACI: scan [0-9]+ ms, write [0-9]+ ms, sync [0-9]+ ms" err &&
   grep -Eqx "debug: docker-25-gzip.tar done in [0-9]+ ms" err && [ "$(wc -l < err)" = 3 ] && grep -qx "out/$ACI" log; then
  pass "--debug: counts and timings on stderr"; else fail "--debug: $(cat err)"; fi

# Original flag spellings: single dash, flags after the image.
rm -rf out && mkdir out
if d2a docker-1.10.tar -compression=none -o out > /dev/null && [ -f out/$ACI ] &&
   [ "$(head -c 2 out/$ACI | od -An -tx1 | tr -d ' ')" != 1f8b ] && [ "$(tar -tf out/$ACI | sed -n 1p)" = manifest ]; then
  pass "Go-style flags after the image"; else fail "Go-style flags"; fi

# Several images: listed, exit 1; --image picks; a missing tag is an error.
rm -rf out && mkdir out
set +e
d2a -o out multi.tar > log 2> err; rc=$?
set -e
if [ $rc = 1 ] && grep -q 'example/app:1.0' err && grep -q 'example/two:latest' err && [ -z "$(ls out)" ]; then
  pass "several images listed"; else fail "several images: rc=$rc $(cat err)"; fi
d2a -o out --image example/two multi.tar > /dev/null && [ -f out/example-two-latest-linux-amd64.aci ] && pass "--image NAME picks latest" || fail "--image NAME"
d2a -o out --image example/two:2 multi.tar > /dev/null && [ -f out/example-two-2-linux-amd64.aci ] && pass "--image NAME:TAG" || fail "--image NAME:TAG"
set +e
d2a -o out --image example/two:3 multi.tar > log 2> err; rc=$?
set -e
if [ $rc = 1 ] && grep -q 'not found' err; then pass "missing tag is an error"; else fail "missing tag: rc=$rc"; fi

# JSON report: path, rkt image ID (SHA-512 of the plain tar), digests, platform.
rm -rf out && mkdir out
d2a -o out --json docker-25-gzip.tar > report.json
id=$(jq -r .imageId report.json)
if [ "$id" = "sha512-$(gzip -dc out/$ACI | sha512sum | cut -d' ' -f1)" ] && [ "$(jq -r .platform report.json)" = linux/amd64 ] \
   && [ "$(jq -r .path report.json)" = out/$ACI ]; then pass "--json report"; else fail "--json: $(cat report.json)"; fi
finish
