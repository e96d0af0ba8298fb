#!/usr/bin/env python3
"""Writes the bad-input corpus: one input per case plus cases.json with what must happen.

  make_hostile.py OUT_DIR

Each case: {"input": file or dir, "expect": "ok" | "error", "match": substring of
the error, "args": extra flags, "present"/"absent": paths that must / must not be in the
ACI, and optionally "app", "created", "entries": see case()).
"""
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagegen as g  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
os.chdir(out)
cases = {}


def case(name, expect, match="", args=(), present=(), absent=(), input_name=None, app=None,
         created=None, entries=None):
    """app: the manifest's exact "app"; created: its exact "created" annotation ("" for
    none); entries: the ACI's exact entry list."""
    cases[name] = {"input": input_name or name + ".tar", "expect": expect, "match": match,
                   "args": list(args), "present": list(present), "absent": list(absent)}
    for key, value in (("app", app), ("created", created), ("entries", entries)):
        if value is not None:
            cases[name][key] = value


def archive(name, layers, config=None, **kw):
    img = g.Image(layers, config=config or {"Cmd": ["/x"]})
    g.write_docker_1_10([(img, ["hostile/img:1"])], name + ".tar")
    return img


def raw(name, **kw):
    data = kw.pop("data", None)
    return ("raw", dict(name=name, **kw), data)


# --- entry names ---
archive("name-dotdot", [[raw("a/../../x", size=1, data=b"x")]])
case("name-dotdot", "error", "leaves the root")
archive("name-absolute", [[("file", "/etc/abs", b"a")]])
case("name-absolute", "ok", present=["rootfs/etc/abs"])
archive("name-double-slash", [[("file", "a//b", b"b")]])
case("name-double-slash", "ok", present=["rootfs/a/b"])
archive("name-nul", [[raw("a\0hidden", size=1, data=b"n")]])
# A NUL ends a tar name: the entry is "a", as every tar reader sees it.
STDIO = ["rootfs/dev", "rootfs/dev/stdin", "rootfs/dev/stdout", "rootfs/dev/stderr", "rootfs/dev/fd"]
case("name-nul", "ok", entries=["manifest", "rootfs", "rootfs/a"] + STDIO)
archive("dot-file", [[raw(".", size=1, data=b"x")]])
case("dot-file", "error", "root entry")
archive("symlink-root", [[raw("/.", type=tarfile.SYMTYPE, linkname="/etc")]])
case("symlink-root", "error", "root entry")
archive("deep-path", [[("file", "a/" * 2100 + "f", b"deep")]])
case("deep-path", "error", "longer than 4096")
archive("duplicate-entries", [[("file", "d", b"first"), ("file", "d", b"second")]])
case("duplicate-entries", "ok", present=["rootfs/d"])

# --- whiteouts ---
for n, w in (("wh-empty", ".wh."), ("wh-dot", ".wh.."), ("wh-dotdot", ".wh...")):
    archive(n, [[("file", "d/f", b"f")], [raw("d/" + w, size=0, data=b"")]])
    case(n, "error", "malformed whiteout")
archive("wh-not-regular", [[("file", "d/x", b"x")], [raw("d/.wh.x", type=tarfile.DIRTYPE)]])
case("wh-not-regular", "ok", absent=["rootfs/d/x"])
archive("wh-under-symlink", [[("dir", "real"), ("file", "real/f", b"f"), ("symlink", "alias", "real")],
                             [("whiteout", "alias/f")]])
case("wh-under-symlink", "ok", present=["rootfs/real/f", "rootfs/alias"])
archive("wh-as-directory", [[("file", "d/.wh.x/y", b"y")]])
case("wh-as-directory", "error", "used as a directory")

# --- links ---
archive("hardlink-escape", [[raw("x", type=tarfile.LNKTYPE, linkname="../../etc/passwd")]])
case("hardlink-escape", "error", "leaves the root")
archive("hardlink-missing", [[("hardlink", "x", "nothing")]])
case("hardlink-missing", "error", "points to missing")
archive("hardlink-to-dir", [[("dir", "d"), ("hardlink", "x", "d")]])
case("hardlink-to-dir", "error", "points to directory")
archive("hardlink-before-target", [[("hardlink", "x", "t"), ("file", "t", b"t")]])
case("hardlink-before-target", "error", "points to missing")
archive("through-symlink-parent", [[("symlink", "foo", "/")], [("file", "foo/etc/x", b"inside")]])
case("through-symlink-parent", "ok", present=["rootfs/foo/etc/x"], absent=["rootfs/etc/x"])
archive("symlink-escape", [[("symlink", "evil", "../../../../../etc")]])
case("symlink-escape", "ok", present=["rootfs/evil"])

# --- sizes, truncation, numbers ---
data = open("name-absolute.tar", "rb").read()
open("truncated-archive.tar", "wb").write(data[: len(data) * 2 // 3])
case("truncated-archive", "error", "truncated")
layer = g.layer_tar([("file", "big", b"z" * 100000)])
img = g.Image([[]])
img.set_layer_tars([layer[:60000]])
g.write_docker_1_10([(img, ["hostile/img:1"])], "truncated-layer.tar")
case("truncated-layer", "error", "runcated")
pax = g.layer_tar([raw("huge", size=0, data=b"", pax_headers={"size": "99999999999999"})])
img = g.Image([[]])
img.set_layer_tars([pax])
g.write_docker_1_10([(img, ["hostile/img:1"])], "pax-absurd-size.tar")
case("pax-absurd-size", "error", "")
archive("base256-ids", [[("raw", dict(name="f", size=1, uid=2 ** 31 + 5, gid=3000000), b"u")]])
case("base256-ids", "ok", present=["rootfs/f"])
archive("ids-out-of-range", [[("raw", dict(name="f", size=1, uid=2 ** 40, gid=2 ** 33), b"u")]])
case("ids-out-of-range", "error", "out of range")
# A GNU sparse file of 100 GiB holds almost no bytes; its size counts against the limit.
os.makedirs("sparse-src", exist_ok=True)
with open("sparse-src/holes", "wb") as f:
    f.truncate(100 << 30)
subprocess.run(["tar", "--sparse", "--format=gnu", "-cf", "sparse-layer.tar", "-C", "sparse-src", "holes"], check=True)
shutil.rmtree("sparse-src")
img = g.Image([[]])
img.set_layer_tars([open("sparse-layer.tar", "rb").read()])
os.unlink("sparse-layer.tar")
g.write_docker_1_10([(img, ["hostile/img:1"])], "gnu-sparse-huge.tar")
case("gnu-sparse-huge", "error", "files add up to more than")

# --- compression ---
zeros = g.layer_tar([("file", "zeros", b"\0" * (80 << 20))])
img = g.Image([[]])
img.set_layer_tars([zeros])
g.write_docker_25([(img, ["hostile/img:1"])], "gzip-bomb.tar", compress=True)
case("gzip-bomb", "error", "more than 50000000 bytes", args=["--max-unpacked-size", "50000000"])
zbomb_tar = g.layer_tar([("file", "zeros", b"\0" * (300 << 20))])
img = g.Image([[]])
img.set_layer_tars([zbomb_tar])
g.write_docker_25([(img, ["hostile/img:1"])], "zstd-bomb.tar", compress="zstd")
case("zstd-bomb", "error", "compression ratio")
part = g.layer_tar([("file", "a", b"a" * 3000), ("file", "b", b"b" * 3000)])
img = g.Image([[]])
img.set_layer_tars([gzip.compress(part[:2048], mtime=0) + gzip.compress(part[2048:], mtime=0)],
                   diff_ids=["sha256:" + g.sha256(part)])
g.write_docker_1_10([(img, ["hostile/img:1"])], "gzip-members.tar")
case("gzip-members", "ok", present=["rootfs/a", "rootfs/b"])
# Corruption inside a file's data, which the first pass skips rather than reads.
big = g.layer_tar([("file", "big", b"".join(b"%d " % (i * 7919) for i in range(200000))), ("file", "after", b"x")])
bad = bytearray(g.zst(big))
for i in range(len(bad) // 2, len(bad) // 2 + 64):
    bad[i] ^= 0xFF
img = g.Image([[]])
img.set_layer_tars([bytes(bad)], diff_ids=["sha256:" + g.sha256(big)])
g.write_docker_1_10([(img, ["hostile/img:1"])], "corrupt-skipped-data.tar")
case("corrupt-skipped-data", "error", "corrupt zstd data")

# --- digests ---
img = g.Image([[]])
img.set_layer_tars([g.layer_tar([("file", "f", b"f")])], diff_ids=["sha256:" + "0" * 64])
g.write_docker_1_10([(img, ["hostile/img:1"])], "diffid-mismatch.tar")
case("diffid-mismatch", "error", "diff_id")


def oci_layout(name, layers, mutate=None):
    img = g.Image(layers)
    d = name
    os.makedirs(d + "/blobs/sha256", exist_ok=True)
    mb, blobs = img.manifest(compress=True)
    md = "sha256:" + g.sha256(mb)
    blobs[md] = mb
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": md, "size": len(mb),
                                                "annotations": {"org.opencontainers.image.ref.name": "1"}}]}
    if mutate:
        mutate(blobs, index, json.loads(mb))
    for dg, data in blobs.items():
        open(d + "/blobs/sha256/" + dg[7:], "wb").write(data)
    open(d + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
    open(d + "/index.json", "w").write(json.dumps(index))


def corrupt_layer(blobs, index, manifest):
    ld = manifest["layers"][0]["digest"]
    data = bytearray(blobs[ld]); data[len(data) // 2] ^= 0xff; blobs[ld] = bytes(data)
oci_layout("oci-blob-mismatch", [[("file", "f", b"x" * 5000)]], corrupt_layer)
case("oci-blob-mismatch", "error", "", input_name="oci-blob-mismatch")


def wrong_size(blobs, index, manifest):
    # The manifest claims one byte fewer for the layer than the blob holds.
    md = index["manifests"][0]["digest"]
    doc = json.loads(blobs[md]); doc["layers"][0]["size"] -= 1
    nb = json.dumps(doc).encode(); del blobs[md]
    nd = "sha256:" + g.sha256(nb); blobs[nd] = nb
    index["manifests"][0].update(digest=nd, size=len(nb))
oci_layout("oci-size-mismatch", [[("file", "f", b"y" * 5000)]], wrong_size)
case("oci-size-mismatch", "error", "bytes its descriptor gives", input_name="oci-size-mismatch")


def traversal_digest(blobs, index, manifest):
    index["manifests"][0]["digest"] = "sha256:../../../etc/passwd"
oci_layout("oci-digest-traversal", [[("file", "f", b"f")]], traversal_digest)
case("oci-digest-traversal", "error", "invalid digest", input_name="oci-digest-traversal")


def both(blobs, index, manifest):
    md = index["manifests"][0]["digest"]
    doc = json.loads(blobs[md]); doc["manifests"] = []
    nb = json.dumps(doc).encode(); del blobs[md]
    nd = "sha256:" + g.sha256(nb); blobs[nd] = nb
    index["manifests"][0].update(digest=nd, size=len(nb), mediaType="")
oci_layout("oci-index-and-manifest", [[("file", "f", b"f")]], both)
case("oci-index-and-manifest", "error", "both an index and a manifest", input_name="oci-index-and-manifest")


def zstd_as_gzip(blobs, index, manifest):
    pass
img = g.Image([[("file", "z", b"zstd bytes")]])
mb, blobs = img.manifest(compress="zstd")
doc = json.loads(mb)
for l in doc["layers"]:
    l["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"   # says gzip, holds zstd
mb = json.dumps(doc).encode()
os.makedirs("mediatype-mismatch/blobs/sha256")
md = "sha256:" + g.sha256(mb)
blobs[md] = mb
for dg, data in blobs.items():
    open("mediatype-mismatch/blobs/sha256/" + dg[7:], "wb").write(data)
open("mediatype-mismatch/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
open("mediatype-mismatch/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(mb)}]}))
case("mediatype-mismatch", "ok", present=["rootfs/z"], input_name="mediatype-mismatch")

# --- tampered layers: the bytes of layer 2 replaced, its digests left as they were ---
# Whatever the replacement does (delete, empty a directory, change metadata, link to a
# lower file, change a file), nothing of it may reach an ACI: the conversion must fail.
TAMPER_BASE = [("dir", "etc"), ("file", "etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
               ("dir", "bin"), ("file", "bin/sh", b"#!shell", 0o755)]
TAMPER_GOOD = [("file", "app/ok", b"genuine")]
TAMPERED = {
    "whiteout": [("whiteout", "etc/passwd")],
    "opaque": [("opaque", "")],
    "metadata": [raw("bin", type=tarfile.DIRTYPE, mode=0o777, uid=1000, gid=1000)],
    "hardlink": [("hardlink", "app/passwd-link", "etc/passwd")],
    "file": [("file", "app/ok", b"evil!!!")],
}


def replace_members(src, dst, replacements):
    """Copies tar `src` to `dst` with the data of the named members replaced."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read() if m.isfile() else None
            if m.name in replacements:
                data = replacements[m.name]
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)


def tar_directory(src, dst):
    t = g.TarOut()
    for root, dirs, files in sorted(os.walk(src)):
        rel = os.path.relpath(root, src)
        if rel != ".":
            t.dir(rel)
        for f in sorted(files):
            name = f if rel == "." else rel + "/" + f
            t.file(name, open(os.path.join(root, f), "rb").read())
    t.write(dst)


for kind, entries in TAMPERED.items():
    good = g.Image([TAMPER_BASE, TAMPER_GOOD], config={"Cmd": ["/bin/sh"]})
    evil = g.layer_tar(entries)
    # docker save 1.10-24: <id>/layer.tar, checked against the config's diff_id only.
    img = g.Image([TAMPER_BASE, TAMPER_GOOD], config={"Cmd": ["/bin/sh"]})
    img.set_layer_tars([img.layer_tars[0], evil], diff_ids=good.diff_ids)
    g.write_docker_1_10([(img, ["hostile/img:1"])], "tamper-%s-docker110.tar" % kind)
    case("tamper-%s-docker110" % kind, "error", "diff_id): digest mismatch")
    # docker save 25+: blobs/sha256/<digest>, plain and gzip.
    for compress, suffix, data in ((False, "docker25", evil), (True, "docker25gz", g.gz(evil))):
        g.write_docker_25([(good, ["hostile/img:1"])], "good-%s.tar" % suffix, compress=compress)
        layer2 = good.manifest(compress=compress)[0]
        digest = json.loads(layer2)["layers"][1]["digest"]
        replace_members("good-%s.tar" % suffix, "tamper-%s-%s.tar" % (kind, suffix),
                        {"blobs/sha256/" + digest[7:]: data})
        os.unlink("good-%s.tar" % suffix)
        case("tamper-%s-%s" % (kind, suffix), "error", "digest mismatch: expected " + digest)

    swapped = []

    def swap_layer2(blobs, index, manifest, evil=evil):
        swapped.append(manifest["layers"][1]["digest"])
        blobs[swapped[0]] = g.gz(evil)
    oci_layout("tamper-%s-oci" % kind, [TAMPER_BASE, TAMPER_GOOD], swap_layer2)
    # The error names the blob; a different size is caught before the digest.
    case("tamper-%s-oci" % kind, "error", "blobs/sha256/%s: " % swapped[0][7:],
         input_name="tamper-%s-oci" % kind)
    tar_directory("tamper-%s-oci" % kind, "tamper-%s-ociarchive.tar" % kind)
    case("tamper-%s-ociarchive" % kind, "error", "blobs/sha256/%s: " % swapped[0][7:])
# A replacement that ends after one end-of-archive block: libarchive takes the failed read
# that follows (where the digest check fires) for the end of the archive.
img = g.Image([TAMPER_BASE, TAMPER_GOOD], config={"Cmd": ["/bin/sh"]})
good = g.Image([TAMPER_BASE, TAMPER_GOOD], config={"Cmd": ["/bin/sh"]})
img.set_layer_tars([img.layer_tars[0], b"\0" * 944], diff_ids=good.diff_ids)
g.write_docker_1_10([(img, ["hostile/img:1"])], "tamper-short-end-docker110.tar")
case("tamper-short-end-docker110", "error", "diff_id): digest mismatch")
# The same images untampered convert, and keep what the tampering would remove or change.
oci_layout("tamper-control-oci", [TAMPER_BASE, TAMPER_GOOD])
case("tamper-control-oci", "ok", present=["rootfs/etc/passwd", "rootfs/bin/sh", "rootfs/app/ok"],
     input_name="tamper-control-oci")
tar_directory("tamper-control-oci", "tamper-control-ociarchive.tar")
case("tamper-control-ociarchive", "ok", present=["rootfs/etc/passwd", "rootfs/app/ok"])

# --- metadata documents ---
def docker_archive_with(name, manifest_json=None, config=None, repositories=None, extra=()):
    t = g.TarOut()
    if manifest_json is not None:
        t.file("manifest.json", manifest_json)
    if config is not None:
        t.file(config[0], config[1])
    if repositories is not None:
        t.file("repositories", repositories)
    for n, d in extra:
        t.file(n, d)
    t.write(name + ".tar")

docker_archive_with("manifest-too-big", manifest_json=b"[" + b" " * (5 << 20) + b"]")
case("manifest-too-big", "error", "over the limit")
big_cfg = json.dumps({"config": {"Env": ["A=" + "x" * (5 << 20)]}, "rootfs": {"type": "layers", "diff_ids": []}}).encode()
docker_archive_with("config-too-big", manifest_json=json.dumps([{"Config": "c.json", "RepoTags": ["a:1"], "Layers": []}]).encode(),
                    config=("c.json", big_cfg))
case("config-too-big", "error", "over the limit")
deep = b"[" * 200000 + b"]" * 200000
docker_archive_with("json-deep", manifest_json=deep)
case("json-deep", "error", "nested deeper")
docker_archive_with("no-config", manifest_json=json.dumps([{"RepoTags": ["a:1"], "Layers": []}]).encode())
case("no-config", "error", "lacks Config")
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/x"]},
                  "rootfs": {"type": "layers", "diff_ids": []}}).encode()
docker_archive_with("no-layers", manifest_json=json.dumps([{"Config": "c.json", "RepoTags": ["empty/img:1"], "Layers": []}]).encode(),
                    config=("c.json", cfg))
case("no-layers", "ok", present=["rootfs"])
docker_archive_with("config-traversal", manifest_json=json.dumps([{"Config": "../../etc/passwd", "RepoTags": ["a:1"], "Layers": []}]).encode())
case("config-traversal", "error", "leaves the root")
docker_archive_with("tag-dotdot", manifest_json=json.dumps([{"Config": "c.json", "RepoTags": ["a/../b:1"], "Layers": []}]).encode(),
                    config=("c.json", cfg))
case("tag-dotdot", "error", "invalid image reference")
docker_archive_with("legacy-id-traversal", repositories=json.dumps({"a": {"1": "../../x"}}).encode())
case("legacy-id-traversal", "error", "invalid image id")
a, b = "a" * 64, "b" * 64
docker_archive_with("parent-loop", repositories=json.dumps({"a": {"1": a}}).encode(),
                    extra=[(a + "/json", json.dumps({"id": a, "parent": b}).encode()),
                           (b + "/json", json.dumps({"id": b, "parent": a}).encode()),
                           (a + "/layer.tar", b""), (b + "/layer.tar", b"")])
case("parent-loop", "error", "loops")
open("not-a-tar.tar", "wb").write(os.urandom(4096))
case("not-a-tar", "error", "not a tar header")
open("empty.tar", "wb").write(b"")
case("empty", "error", "not a docker save archive")

# --- config values ---
archive("env-no-equals", [[("file", "f", b"f")]], config={"Cmd": ["/f"], "Env": ["FOO", "BAR=1"]})
case("env-no-equals", "ok", app={"environment": [{"name": "BAR", "value": "1"}], "exec": ["/f"],
                                "group": "0", "user": "0"})
img = g.Image([[("file", "f", b"f")]], config={"Cmd": ["/f"]}, created="last tuesday")
g.write_docker_1_10([(img, ["hostile/img:1"])], "created-not-rfc3339.tar")
case("created-not-rfc3339", "ok", created="", app={"exec": ["/f"], "group": "0", "user": "0"})
archive("relative-workdir", [[("file", "f", b"f")]], config={"Cmd": ["/f"], "WorkingDir": "app"})
case("relative-workdir", "ok", app={"exec": ["/f"], "group": "0", "user": "0", "workingDirectory": "/app"})
archive("port-range", [[("file", "f", b"f")]], config={"Cmd": ["/f"], "ExposedPorts": {"8000-8010/tcp": {}}})
case("port-range", "ok", app={"exec": ["/f"], "group": "0", "user": "0", "ports": [
    {"count": 11, "name": "8000-8010-tcp", "port": 8000, "protocol": "tcp", "socketActivated": False}]})
archive("port-too-high", [[("file", "f", b"f")]], config={"Cmd": ["/f"], "ExposedPorts": {"70000/tcp": {}}})
case("port-too-high", "error", "out of range")
archive("volume-dotdot", [[("file", "f", b"f")]], config={"Cmd": ["/f"], "Volumes": {"/../../etc": {}}})
case("volume-dotdot", "error", "leaves the root")
archive("many-entries", [[("file", "f%d" % i, b"") for i in range(50)]])
case("many-entries", "error", "more than 10 entries", args=["--max-entries", "10"])
archive("devices", [[raw("dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3),
                     raw("dev/loop", type=tarfile.BLKTYPE, devmajor=7, devminor=0),
                     raw("fifo", type=tarfile.FIFOTYPE)]])
case("devices", "ok", present=["rootfs/dev/null", "rootfs/fifo"])

json.dump(cases, open("cases.json", "w"), indent=1, sort_keys=True)
print("%d cases" % len(cases))
