#!/usr/bin/env python3
"""Builds the sample images as `docker save` archives.

  make_sample.py hello OUT.tar  mix3/hello:latest: busybox httpd serving "hello" on 5000/tcp
  make_sample.py date OUT.tar   a dynamically linked /bin/date with exactly the libraries ldd lists
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagegen  # noqa: E402


def busybox_bytes():
    path = shutil.which("busybox") or "/bin/busybox"
    with open(path, "rb") as f:
        data = f.read()
    if b"ELF" not in data[:4]:
        sys.exit("busybox is not a binary; install busybox-static")
    return data


def hello_image():
    base = [("dir", "bin"), ("file", "bin/busybox", busybox_bytes(), 0o755),
            ("symlink", "bin/sh", "busybox"), ("symlink", "bin/httpd", "busybox"),
            ("dir", "etc"),
            ("file", "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/www:/bin/sh\n"),
            ("file", "etc/group", b"root:x:0:\nwww:x:33:\n")]
    site = [("dir", "www"), ("file", "www/index.html", b"hello\n")]
    config = {
        "Entrypoint": ["/bin/busybox", "httpd", "-f", "-p", "5000", "-h", "/www"],
        "ExposedPorts": {"5000/tcp": {}},
        "Env": ["PATH=/bin"],
        "WorkingDir": "/www",
    }
    return imagegen.Image([base, site], config=config)


def date_image():
    date = shutil.which("date")
    ldd = subprocess.run(["ldd", date], check=True, capture_output=True, text=True).stdout
    libs = []
    for line in ldd.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    entries, dirs = [], set()

    def add_file(path):
        real = os.path.realpath(path)
        rel = path.lstrip("/")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append(("dir", d))
        with open(real, "rb") as f:
            entries.append(("file", rel, f.read(), 0o755))

    add_file(date)
    for lib in libs:
        add_file(lib)
    config = {"Cmd": [date, "+%Y-%m-%d"], "Env": ["PATH=/usr/bin:/bin", "TZ=UTC"]}
    return imagegen.Image([entries], config=config)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("hello", "date"):
        sys.exit(__doc__)
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "hello":
        imagegen.write_docker_1_10([(hello_image(), ["mix3/hello:latest"])], out)
    else:
        imagegen.write_docker_1_10([(date_image(), ["local/date:1.0"])], out)


if __name__ == "__main__":
    main()
