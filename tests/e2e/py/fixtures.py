#!/usr/bin/env python3
"""The end-to-end tests' own images, written with testdata/imagegen.py.

  python3 fixtures.py NAME    writes test NAME's archives and files into the current directory

Each function says which test uses it.
"""
import json
import os
import random
import sys
import tarfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "testdata"))
import imagegen as g  # noqa: E402


def bad_input():
    """bad_input_test.sh"""
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


def compression():
    """compression_test.sh: one file of each class the gzip planner tells apart, small
    versions of bench image M's: random units repeated at periods up to the window, random
    runs around the 2 KiB planning chunk between text, zero runs, base64, a 4-letter
    alphabet, JSON logs, CSV numbers, text of 60 words and of Zipf-like frequencies over
    2,000, files ending at and around 1 MiB."""
    import base64
    rnd = random.Random(29)
    words60 = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9))).encode()
               for _ in range(60)]
    words2k = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 12))).encode()
               for _ in range(2000)]

    def text(words, n, weights=None):
        out = bytearray()
        while len(out) < n:
            out += b" ".join(rnd.choices(words, weights, k=rnd.randint(4, 16))) + b"\n"
        return bytes(out[:n])

    files = []
    for period in (1000, 3000, 16384, 32767):
        unit = rnd.randbytes(period)
        files.append(("repeat-%d" % period, (unit * ((1 << 20) // period + 1))[:1 << 20]))
    for run in (2047, 2048, 2049, 5000):
        parts = []
        while sum(map(len, parts)) < 1 << 20:
            parts += [text(words60, rnd.randint(500, 5000)), rnd.randbytes(run)]
        files.append(("runs-%d" % run, b"".join(parts)))
    zeros = bytearray()
    while len(zeros) < 1 << 20:
        zeros += bytes(rnd.randint(1, 100000)) + rnd.randbytes(rnd.randint(100, 3000))
    files.append(("zero-runs", bytes(zeros)))
    files.append(("base64", base64.encodebytes(rnd.randbytes(600000))))
    files.append(("dna", "".join(rnd.choices("ACGT", k=1 << 20)).encode()))
    files.append(("logs.json", "".join(json.dumps({"ts": 1700000000 + i, "level": rnd.choice(["info", "warn"]),
                                                   "id": rnd.randrange(1 << 32)}) + "\n"
                                       for i in range(20000)).encode()))
    files.append(("numbers.csv", "".join("%d,%.6f,%d\n" % (i, rnd.gauss(0, 1000), rnd.randrange(10 ** 9))
                                         for i in range(30000)).encode()))
    files.append(("zipf-2000", text(words2k, 2 << 20, [1.0 / (r + 1) for r in range(2000)])))
    for delta in (-1, 0, 1):
        files.append(("mib%+d" % delta, text(words60, (1 << 20) + delta)))
    files.append(("random", rnd.randbytes(3 << 20)))
    layers = [[("file", "c/" + name, data, 0o644) for name, data in files[i::2]] for i in range(2)]
    img = g.Image(layers, config={"Cmd": ["/bin/true"]})
    g.write_docker_1_10([(img, ["example/classes:1"])], "classes.tar")


def discovery():
    """discovery_test.sh"""
    def archive(path, tag, files):
        g.write_docker_1_10([(g.Image([[("file", f, f.encode())] for f in files], config={"Cmd": ["/" + files[0]]}), [tag])], path)
    archive("api.tar", "team/api:2.4", ["api"])
    archive("bar.tar", "quay.io/foo/bar:1.0", ["bar"])
    archive("layered.tar", "team/layered:3", ["bottom", "top"])


def fault_store():
    """fault_test.sh"""
    img = g.Image([[("file", "data/big", os.urandom(300000)), ("file", "data/text", b"t" * 1000)],
                   [("file", "data/upper", b"upper\n")]], config={"Cmd": ["/data/upper"]})
    g.write_docker_25([(img, ["fault/app:1"])], "ref.tar", compress=True)
    mb, blobs = img.manifest(compress=True, docker_types=True)
    os.makedirs("store/blobs")
    for d, data in blobs.items():
        open("store/blobs/" + d[7:], "wb").write(data)
    def serve(name, manifest):
        os.makedirs("store/manifests/" + name)
        open("store/manifests/%s/1" % name, "wb").write(manifest)
        open("store/manifests/%s/1.type" % name, "w").write("application/vnd.docker.distribution.manifest.v2+json")
    for name in ("r429/app", "r503/app", "drop/app", "norange/app", "badblob/app", "auth/redirect/app", "redirect/app", "plain/app",
                 "stall/app", "stallbad/app", "auth/foreign/app"):
        serve(name, mb)
    # Descriptors without a size (as schema 1 has none) and with an absurd one.
    doc = json.loads(mb)
    for layer in doc["layers"]:
        layer["size"] = 0
    serve("endless/app", json.dumps(doc).encode())
    doc["layers"][0]["size"] = 1 << 50
    serve("huge/app", json.dumps(doc).encode())
    def serve_image(name, image):
        manifest, image_blobs = image.manifest(compress=True, docker_types=True)
        for d, data in image_blobs.items():
            open("store/blobs/" + d[7:], "wb").write(data)
        serve(name, manifest)
    # A layer whose first entry the scan refuses, before 300 kB that do not compress; then the
    # same bad entry in a small first layer, above which a big one stalls.
    big = ("file", "data/big", os.urandom(300000))
    serve_image("stall/badentry", g.Image([[("file", ".wh.bad/x", b"x"), big]], config={"Cmd": ["/data/big"]}))
    serve_image("stall/badbelow", g.Image([[("file", ".wh.bad/x", b"x")], [big]], config={"Cmd": ["/data/big"]}))
    # Uncompressed layers, so that other bytes in a file's data still make a valid tar.
    plain_layers, plain_blobs = img.manifest(compress=False, docker_types=True)
    for d, data in plain_blobs.items():
        open("store/blobs/" + d[7:], "wb").write(data)
    serve("swapped/app", plain_layers)
    serve("slow/app", plain_layers)
    open("plain-layer-digests", "w").write("\n".join(l["digest"] for l in json.loads(plain_layers)["layers"]) + "\n")
    open("layer-digests", "w").write("\n".join(l["digest"] for l in doc["layers"]) + "\n")


def formats():
    """formats_test.sh"""
    layers = [
        [("dir", "etc"), ("file", "etc/os-release", b"ID=test\n"), ("dir", "usr/bin"),
         ("file", "usr/bin/tool", b"#!/bin/sh\necho tool\n", 0o755), ("symlink", "bin", "usr/bin"),
         # Several 1 MiB gzip blocks, text and random, so that the ACI's member spans many.
         ("file", "usr/lib/data", b"".join(b"%d\n" % (i * 7919) for i in range(300000)) +
          random.Random(1).randbytes(1 << 20)),
         # Words of a small vocabulary: deflated by the encoder for such text (deflate_encoder.hpp).
         ("file", "usr/share/words", b" ".join(random.Random(2).choices(
             b"alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split(), k=80000))),
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
    open("config-digest", "w").write(img.config_digest)


def integrity():
    """integrity_test.sh"""
    def archive(path, tag, layers=None, **kw):
        img = g.Image(layers or [[("file", "bin/app", b"app")]], config={"Cmd": ["/bin/app"]}, **kw)
        g.write_docker_1_10([(img, [tag])], path)
        return img
    archive("nul-os.tar", "victim/app:1", os_name="linux-amd64.aci\0")
    archive("slash-arch.tar", "victim/app:1", arch="../../../escape")
    archive("quay.tar", "quay.io/foo/app:1", [[("file", "from", b"quay")]])
    archive("ghcr.tar", "ghcr.io/foo/app:1", [[("file", "from", b"ghcr")]])
    archive("hello-v2.tar", "mix3/hello:latest", [[("file", "v2", b"second version")]])
    bad = archive("hello-bad.tar", "mix3/hello:latest")
    good = g.Image([[("file", "bin/app", b"app")]])
    bad.set_layer_tars([g.layer_tar([("whiteout", "bin")])], diff_ids=good.diff_ids)
    g.write_docker_1_10([(bad, ["mix3/hello:latest"])], "hello-bad.tar")
    # Text that deflates slowly enough (seconds on one thread) for a kill to land mid-write.
    archive("hello-big.tar", "mix3/hello:latest", [[("file", "big", b"".join(b"%x " % (i * 2654435761 % 2**32) for i in range(20_000_000)))]])


def mirror_small():
    """mirror_test.sh"""
    img = g.Image([[("file", "a", b"a" * 10000)], [("file", "b", b"b")]], config={"Cmd": ["/a"]})
    g.write_docker_1_10([(img, ["small/app:1"])], "small.tar")


def mirror_swap():
    """mirror_test.sh"""
    img = g.Image([[("dir", "etc"), ("file", "etc/passwd", b"root:x:0:0::/:/bin/sh\n"), ("file", "tmp/junk", b"j")],
                   [("whiteout", "tmp/junk")]], config={"Cmd": ["/x"]})
    g.write_docker_1_10([(img, ["swap/app:1"])], "swap.tar")
    open("tampered.layer", "wb").write(g.gz(g.layer_tar([("whiteout", "etc/passwd")])))


def nosquash():
    """nosquash_test.sh"""
    layers = [
        [("dir", "etc", 0o700), ("file", "etc/passwd", b"root:x:0:0::/:/bin/sh\n"),
         ("dir", "data"), ("file", "data/t", b"target"), ("hardlink", "data/l1", "data/t"),
         ("hardlink", "data/l2", "data/t"), ("file", "data/r", b"replace me"), ("hardlink", "data/rl", "data/r"),
         ("dir", "opq"), ("file", "opq/old", b"o"), ("dir", "gone"), ("file", "gone/x", b"x"),
         ("dir", "to-file"), ("file", "to-file/in", b"i"), ("file", "p1", b"pair"), ("hardlink", "p2", "p1")],
        # Implied parents only: etc keeps mode 0700 when rendered.
        [("whiteout", "data/t"), ("file", "data/r", b"replaced"), ("file", "etc/motd", b"hi")],
        [],  # an empty layer, as a metadata-only Dockerfile step gives
        [("opaque", "opq"), ("file", "opq/new", b"n"), ("whiteout", "gone"), ("file", "to-file", b"now a file"),
         ("dir", "data"), ("file", "data/new", b"new")],
    ]
    img = g.Image(layers, config={"Entrypoint": ["/bin/sh"], "ExposedPorts": {"80/tcp": {}, "9000-9002/udp": {}}})
    g.write_docker_1_10([(img, ["layered/app:2"])], "img.tar")


def nosquash_lower_link():
    """nosquash_test.sh"""
    img = g.Image([[("dir", "www"), ("file", "www/index.html", b"hello")],
                   [("hardlink", "www/index2.html", "www/index.html")]], config={"Cmd": ["/x"]})
    g.write_docker_1_10([(img, ["links/app:1"])], "lower-link.tar")


def operator():
    """operator_test.sh"""
    for name in ("one", "two", "three"):
        g.write_docker_1_10([(g.Image([[("file", name, name.encode())]], config={"Cmd": ["/" + name]}), ["op/%s:1" % name])], name + ".tar")


def oracle_layer3():
    """oracle_test.sh"""
    open("layer3.tar", "wb").write(g.layer_tar([
        ("dir", "opq"), ("file", "opq/new", b"upper\n"), ("opaque", "opq"),
        ("whiteout", "bin/rel-link"),
        ("file", "data/file", b"rewritten\n"), ("whiteout", "data/file"),
    ]))


def platform():
    """platform_test.sh"""
    imgs = [g.Image([[("file", "which", b"amd64\n")]], arch="amd64"),
            g.Image([[("file", "which", b"arm64\n")]], arch="arm64", variant="v8"),
            g.Image([[("file", "which", b"armv7\n")]], arch="arm", variant="v7")]
    g.write_oci_index_layout(imgs, "1.0", "multi")


def pull_stress():
    """pull_stress_test.sh"""
    # Six layers of a few bytes to 0.2 kB (each written in one piece as it arrives) over one of
    # 64 kB, and an image of tiny layers alone.
    layers = [[("file", "big", bytes(range(256)) * 256)]]
    layers += [[("file", "l%d" % i, b"x" * (3 + 40 * i))] for i in range(6)]
    g.write_docker_25([(g.Image(layers, config={"Cmd": ["/big"]}), ["stress/mixed:1"])], "mixed.tar", compress=True)
    tiny = [[("file", "t%d" % i, b"%d\n" % i)] for i in range(8)]
    g.write_docker_25([(g.Image(tiny, config={"Cmd": ["/t0"]}), ["stress/tiny:1"])], "tiny.tar", compress=True)


def registry():
    """registry_test.sh"""
    imgs = [g.Image([[("file", "which", b"amd64\n")]], arch="amd64", config={"Cmd": ["/which"]}),
            g.Image([[("file", "which", b"arm64\n")]], arch="arm64", variant="v8", config={"Cmd": ["/which"]})]
    g.write_oci_index_layout(imgs, "1.0", "multi")


def shared_dirs():
    """shared_dirs_test.sh"""
    def archive(path, tag, origin, **kw):
        img = g.Image([[("file", "bin/app", b"app " * 3000)], [("file", "from", origin.encode())]],
                      config={"Cmd": ["/bin/app"]}, **kw)
        g.write_docker_25([(img, [tag])], path, compress=True)
    archive("app.tar", "foo/app:1", "app")
    for name, tag in [("dashdash", "team/my--app:1"), ("dash", "team/my-app:1"),
                      ("taglinux", "foo/app:1-linux"), ("namelinux", "foo/app-1:linux"),
                      ("short", "foo:app"), ("digest", "foo/app:tagged-for-push")]:
        archive(name + ".tar", tag, name)
    # Names whose ACI file name is 234 to 255 bytes ("r-<a...>-1-linux-amd64.aci": 20 + n).
    for total in (234, 235, 236, 239, 240, 251, 252, 255):
        archive("long%d.tar" % total, "r/" + "a" * (total - 20) + ":1", "long")


FIXTURES = {
    "bad-input": bad_input,
    "discovery": discovery,
    "fault-store": fault_store,
    "formats": formats,
    "integrity": integrity,
    "mirror-small": mirror_small,
    "mirror-swap": mirror_swap,
    "nosquash": nosquash,
    "nosquash-lower-link": nosquash_lower_link,
    "compression": compression,
    "operator": operator,
    "oracle-layer3": oracle_layer3,
    "platform": platform,
    "pull-stress": pull_stress,
    "registry": registry,
    "shared-dirs": shared_dirs,
}


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in FIXTURES:
        sys.exit("usage: fixtures.py " + "|".join(FIXTURES))
    FIXTURES[sys.argv[1]]()
