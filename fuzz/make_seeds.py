#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the test fixtures' generators.

  make_seeds.py OUT_DIR     writes OUT_DIR/<target>/seed-N
"""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "testdata"))
import imagegen as g  # noqa: E402

out = sys.argv[1]


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    n = len(os.listdir(d))
    with open(os.path.join(d, "seed-%d" % n), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


layers = [
    [("dir", "etc"), ("file", "etc/passwd", b"root:x:0:0::/:/bin/sh\n"), ("symlink", "l", "/etc"),
     ("hardlink", "h", "etc/passwd"), ("file", "a/b/c", b"c" * 600)],
    [("whiteout", "a/b"), ("opaque", "etc"), ("file", "etc/new", b"n"), ("raw", {"name": "dev/null", "type": b"3",
                                                                                 "devmajor": 1, "devminor": 3}, None)],
]
# fuzz_flatten input: flags (bit 0: the second layer's digest is its own; bit 1: scan on
# two threads), the first layer's length (2 bytes, big-endian), then both layers.
def two_layers(flags, first, second):
    return bytes([flags, len(first) >> 8, len(first) & 0xff]) + first + second
for compress in (lambda b: b, g.gz, g.zst):
    first, second = (compress(g.layer_tar(l)) for l in layers)
    for flags in (1, 3, 0):
        put("flatten", two_layers(flags, first, second))
img = g.Image(layers, config={"Cmd": ["/x"], "Env": ["A=1"], "ExposedPorts": {"80/tcp": {}, "1-3/udp": {}},
                              "Volumes": {"/v": {}}, "User": "app", "Labels": {"k": "v"}, "WorkingDir": "w"})
put("manifest", img.config)
put("manifest", json.dumps({"config": {"Entrypoint": "sh", "Cmd": None}, "rootfs": {"diff_ids": []}}))
with tempfile.TemporaryDirectory() as tmp:
    for name, writer in (("legacy", g.write_docker_legacy), ("v110", g.write_docker_1_10)):
        p = os.path.join(tmp, name + ".tar")
        writer([(img, ["seed/img:1"])], p)
        put("tar_index", open(p, "rb").read())
    p = os.path.join(tmp, "d25.tar")
    g.write_docker_25([(img, ["seed/img:1"])], p, compress=True)
    put("tar_index", open(p, "rb").read())
    subprocess.run(["tar", "--format=gnu", "-cf", os.path.join(tmp, "gnu.tar"), "-C", here, "CMakeLists.txt"], check=True)
    put("tar_index", open(os.path.join(tmp, "gnu.tar"), "rb").read())
for r in ("busybox", "quay.io/foo/bar:1.2", "localhost:5000/a/b@sha256:" + "a" * 64, "docker.io/library/x:latest"):
    put("reference", r)
for h in ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
          'Basic realm="Registry Realm"', 'Bearer scope="a,b", realm="x", error="invalid_token"'):
    put("www_authenticate", h)
# fuzz_deflate input: the level (1 byte), where to cut (2 bytes), then the bytes to encode.
put("deflate", b"\x05\x01\x00" + b"the quick brown fox jumps over the lazy dog " * 40 + bytes(range(256)) + b"\0" * 700)
put("deflate", b"\x00\x00\x10" + bytes((i * i) % 7 + 97 for i in range(5000)))
put("deflate", b"\x05\x30\x00" + bytes(range(256)) * 40 + b"words of a small vocabulary " * 3000)
print("seeds written to", out)
