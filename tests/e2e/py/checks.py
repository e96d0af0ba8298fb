#!/usr/bin/env python3
"""Checks and edits the end-to-end tests make on ACIs and archives.

  python3 checks.py NAME ARGS...    exits non-zero with a message when a check fails

Each function says which test uses it; argv[0] is the check's name, as sys.argv would be.
"""
import io
import json
import os
import sys
import tarfile


def corrupt_first_layer(argv):
    """bad_input_test.sh: good25.tar with 16 bytes flipped in the middle of its first layer's blob, as corrupt-layer.tar."""
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


def drop_a_rootfs_file(argv):
    """bench_test.sh: rewrites ACI argv[1] without its first rootfs file (a converter that loses one)."""
    src = argv[1]
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t]
    dropped = [m for m, _ in members if m.isfile() and m.name.startswith("rootfs/")][0]
    with tarfile.open(src, "w:gz") as out:
        for m, data in members:
            if m is not dropped:
                out.addfile(m, None if data is None else io.BytesIO(data))


def rewrite_upper(argv):
    """fault_test.sh: changes the bytes "upper" to "UPPER" in file argv[1], in place."""
    data = open(argv[1], "rb").read()
    with open(argv[1], "r+b") as f:
        f.seek(data.index(b"upper\n"))
        f.write(b"UPPER\n")


def stream_readable(argv):
    """lib.sh: ACI argv[1] is one gzip member that a streaming reader which stops after the
    first member reads to the end, argv[2] bytes of tar."""
    path, want = argv[1], int(argv[2])
    entries = data = 0
    with open(path, "rb") as f, tarfile.open(fileobj=f, mode="r|gz") as t:
        for m in t:
            entries += 1
            if m.isfile():
                data += len(t.extractfile(m).read())
        # Past the tar's end-of-archive blocks: the stream must yield exactly gzip -dc's bytes.
        total = t.fileobj.tell()
        while True:
            chunk = t.fileobj.read(1 << 16)
            if not chunk:
                break
            total += len(chunk)
    if entries < 2 or total != want:
        sys.exit("%s: streamed %d entries, %d bytes of tar; gzip -dc gives %d" % (path, entries, total, want))


def run_app(argv):
    """lib.sh: runs the app of manifest argv[2] in rootfs argv[1] as rkt would, minus isolation."""
    root, manifest = argv[1], json.load(open(argv[2]))
    app = manifest["app"]
    def resolve(name, file):
        if name.isdigit():
            return int(name)
        for line in open(os.path.join(root, "etc", file)):
            f = line.split(":")
            if f[0] == name:
                return int(f[2])
        sys.exit("unknown %s %s" % (file, name))
    uid, gid = resolve(app["user"], "passwd"), resolve(app["group"], "group")
    env = {e["name"]: e["value"] for e in app.get("environment", [])}
    os.chroot(root)
    os.chdir(app.get("workingDirectory", "/"))
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.execve(app["exec"][0], app["exec"], env)


def parents_first(argv):
    """oracle_test.sh: in `tar -tv` output on stdin, every entry comes after its parent
    directory, and every hard link after its target."""
    seen = set()
    for line in sys.stdin:
        name = line.split()[5].rstrip("/")
        parent = name.rsplit("/", 1)[0] if "/" in name else ""
        if parent and parent not in seen:
            sys.exit("child before parent: " + name)
        if " link to " in line:
            target = line.rsplit(" link to ", 1)[1].strip()
            if target not in seen:
                sys.exit("link before target: " + name)
        seen.add(name)


def corrupt_layer_bytes(argv):
    """library_test.sh: docker save archive argv[1] as argv[2] with one byte of its first
    layer's data changed (the layer no longer matches its digest)."""
    src = tarfile.open(argv[1])
    dst = tarfile.open(argv[2], "w", format=tarfile.PAX_FORMAT)
    first_layer = json.load(src.extractfile("manifest.json"))[0]["Layers"][0]
    for m in src.getmembers():
        data = src.extractfile(m).read() if m.isfile() else None
        if m.name == first_layer:
            data = bytearray(data)
            at = len(data) // 3
            data[at] ^= 0x01
            data = bytes(data)
        dst.addfile(m, io.BytesIO(data) if data is not None else None)
    dst.close()


CHECKS = {
    "corrupt-first-layer": corrupt_first_layer,
    "drop-a-rootfs-file": drop_a_rootfs_file,
    "rewrite-upper": rewrite_upper,
    "stream-readable": stream_readable,
    "run-app": run_app,
    "parents-first": parents_first,
    "corrupt-layer-bytes": corrupt_layer_bytes,
}


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        sys.exit("usage: checks.py " + "|".join(CHECKS) + " ARGS...")
    CHECKS[sys.argv[1]](sys.argv[1:])
