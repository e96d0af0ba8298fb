#!/usr/bin/env bash
# One image written in every docker save generation, compressed every way, read from a
# file and from stdin: every conversion gives the same rootfs, actool accepts each ACI,
# and the manifest is the same apart from the source-specific manifest digest.
source "$(dirname "$0")/lib.sh"

python3 - "$REPO_DIR/testdata" <<'PY'
import sys; sys.path.insert(0, sys.argv[1])
import imagegen as g
layers = [
    [("dir", "etc"), ("file", "etc/os-release", b"ID=test\n"), ("dir", "usr/bin"),
     ("file", "usr/bin/tool", b"#!/bin/sh\necho tool\n", 0o755), ("symlink", "bin", "usr/bin"),
     ("dir", "var/cache"), ("file", "var/cache/a", b"a" * 5000), ("file", "var/cache/b", b"b")],
    [("whiteout", "var/cache/a"), ("file", "etc/motd", b"hi\n"), ("hardlink", "etc/motd2", "etc/motd")],
    # An empty layer (a metadata-only Dockerfile step): stored twice, as docker does.
    [],
    [("opaque", "var/cache"), ("file", "var/cache/c", b"c")],
]
img = g.Image(layers, config={"Cmd": ["/usr/bin/tool"], "Env": ["A=1", "B=x=y"],
                              "Labels": {"org.example": "yes"}})
g.write_docker_legacy([(img, ["example/app:1.0"])], "legacy.tar")
g.write_docker_1_10([(img, ["example/app:1.0"])], "docker-1.10.tar")
g.write_docker_25([(img, ["example/app:1.0"])], "docker-25.tar", compress=False)
g.write_docker_25([(img, ["example/app:1.0"])], "docker-25-gzip.tar", compress=True)
g.write_docker_25([(img, ["example/app:1.0"])], "docker-25-zstd.tar", compress="zstd")
other = g.Image([[("file", "arm", b"arm")]], arch="arm64", variant="v8")
g.write_containerd(img, other, "example/app:1.0", "containerd.tar")
g.write_containerd(img, other, "example/app:1.0", "containerd-oci-only.tar", with_manifest_json=False)
# Two images in one archive.
two = g.Image([[("file", "two", b"2")]], config={"Cmd": ["/two"]})
g.write_docker_1_10([(img, ["example/app:1.0"]), (two, ["example/two:latest", "example/two:2"])], "multi.tar")
PY
gzip -k -n docker-1.10.tar && xz -k docker-1.10.tar && zstd -q -k docker-1.10.tar

ACI=example-app-1.0-linux-amd64.aci
reference=""
for input in legacy.tar docker-1.10.tar docker-25.tar docker-25-gzip.tar docker-25-zstd.tar containerd.tar containerd-oci-only.tar \
             docker-1.10.tar.gz docker-1.10.tar.xz docker-1.10.tar.zst; do
  rm -rf out && mkdir out
  if ! d2a -o out "$input" > log 2> err; then fail "$input: $(cat err)"; continue; fi
  [ -s err ] && fail "$input: stderr not empty: $(cat err)"
  validate out/$ACI || fail "$input: actool validate"
  unpack_aci out/$ACI tree-$input
  if [ -z "$reference" ]; then reference=tree-$input; fi
  if $TREE compare $reference/rootfs tree-$input/rootfs >/dev/null; then
    pass "$input converts to the reference tree"
  else
    $TREE compare $reference/rootfs tree-$input/rootfs || true
    fail "$input tree differs"
  fi
  manifest_of out/$ACI | jq -S 'del(.annotations[] | select(.name == "appc.io/docker/manifesthash" or .name == "appc.io/docker/imageid"))' > man-$input.json
done
for m in man-*.json; do
  grep -q "\"/usr/bin/tool\"" "$m" && cmp -s "$m" man-docker-1.10.tar.json && pass "manifest of ${m#man-} matches" || { diff "$m" man-docker-1.10.tar.json; fail "manifest ${m#man-}"; }
done

# The flattened tree itself.
expect='bin symlink 0777 0:0 -> usr/bin
dev dir 0755 0:0
dev/fd symlink 0777 0:0 -> /proc/self/fd
dev/stderr symlink 0777 0:0 -> /dev/console
dev/stdin symlink 0777 0:0 -> /proc/self/fd/0
dev/stdout symlink 0777 0:0 -> /dev/console
etc dir 0755 0:0
etc/motd file 0644 0:0 size=3 98ea6e4f216f2fb4 link-group=etc/motd
etc/motd2 file 0644 0:0 size=3 98ea6e4f216f2fb4 link-group=etc/motd
etc/os-release file 0644 0:0 size=8 0c3640f695fe2e0d
usr dir 0755 0:0
usr/bin dir 0755 0:0
usr/bin/tool file 0755 0:0 size=20 bf664cf84f00f6ed
var dir 0755 0:0
var/cache dir 0755 0:0
var/cache/c file 0644 0:0 size=1 2e7d2c03a9507ae2'
if [ "$($TREE dump $reference/rootfs)" = "$expect" ]; then pass "exact flattened tree"; else
  diff <(echo "$expect") <($TREE dump $reference/rootfs) || true; fail "flattened tree"; fi

# stdin, compressed, in a pipeline.
rm -rf out && mkdir out
if cat docker-1.10.tar.gz | d2a -o out - > /dev/null && cmp -s out/$ACI <(cd out && cat $ACI) && [ -f out/$ACI ]; then
  unpack_aci out/$ACI tree-stdin
  $TREE compare $reference/rootfs tree-stdin/rootfs > /dev/null && pass "stdin gzip" || fail "stdin tree"
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
if d2a docker-1.10.tar -compression=none -o out > /dev/null && ! gzip -t out/$ACI 2>/dev/null; then
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
