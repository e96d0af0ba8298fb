#!/usr/bin/env python3
"""Generates the benchmark images as docker save archives (cached by the caller).

  make_images.py A|B|C|A-gzip OUT.tar

A: ~256 MB in 5 layers, ~20k files, half text and half random data, with whiteouts.
B: 80k small files in 2 layers; B-20k, B-40k, B-160k: the same with other file counts, to
   show that time grows linearly with the number of files.
C: ~1 GB in 4 layers (large and small files).
A-gzip: image A with gzip-compressed layers (Docker 25+ layout), for the decompression path.
R: ~190 MB of this machine's own files in 5 layers (C and C++ headers, Python and Perl
   sources, locales and zoneinfo, programs, documentation), each directory walked in
   name order up to a size: data nobody tuned the compressor on. Its bytes depend on the
   machine, so only ratios within one run compare.
A-legacy, B-legacy: images A and B for side-by-side runs of the Go docker2aci, which
   reads only the legacy docker save metadata (repositories, parent chains): written as
   Docker 1.10-24 did, that metadata beside manifest.json (so skopeo can push them too,
   for pull-A-legacy). A-legacy has no opaque whiteouts: the Go docker2aci ignores them,
   so its rootfs would differ from ours and the bench would not time it.
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata"))
import imagegen  # noqa: E402

WORDS = (b"the quick brown fox jumps over lazy dog config value server client request "
         b"response error warning info debug library module function return import export "
         b"string integer float boolean array object null true false usr bin lib etc var").split()


class Data:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        corpus = bytearray()
        while len(corpus) < 4 << 20:
            line = b" ".join(self.rnd.choice(WORDS) for _ in range(self.rnd.randint(3, 14)))
            corpus += line + b"\n"
        self.corpus = bytes(corpus)
        self.noise = self.rnd.randbytes(8 << 20)

    def text(self, n):
        start = self.rnd.randrange(0, len(self.corpus) - n)
        return self.corpus[start:start + n]

    def random(self, n):
        start = self.rnd.randrange(0, len(self.noise) - n)
        return self.noise[start:start + n]


def image_a(d, opaque=True):
    layers = []
    for L in range(5):
        entries = [("dir", "l%d" % L)]
        for i in range(4000):
            size = d.rnd.randint(1000, 24000)
            data = d.text(size) if i % 2 == 0 else d.random(size)
            entries.append(("file", "l%d/s%d/f%d" % (L, i % 40, i), data, 0o644))
        if L:
            for i in range(0, 400, 9):
                entries.append(("whiteout", "l%d/s%d/f%d" % (L - 1, i % 40, i)))
            if opaque:
                entries.append(("opaque", "l%d/s3" % (L - 1)))
        layers.append(entries)
    return imagegen.Image(layers, config={"Cmd": ["/bin/true"]})


def image_b(d, files=80000):
    layers = []
    for L in range(2):
        layers.append([("file", "b%d/d%d/f%d" % (L, i % 400, i), d.text(d.rnd.randint(100, 600)), 0o644)
                       for i in range(files // 2)])
    return imagegen.Image(layers, config={"Cmd": ["/bin/true"]})


def image_c(d):
    layers = []
    for L in range(4):
        entries = []
        for i in range(4):
            entries.append(("file", "c%d/big%d" % (L, i), (d.text(4 << 20) + d.random(4 << 20)) * 5, 0o644))
        for i in range(5000):
            entries.append(("file", "c%d/small/f%d" % (L, i), d.text(d.rnd.randint(500, 20000)), 0o644))
        layers.append(entries)
    return imagegen.Image(layers, config={"Cmd": ["/bin/true"]})


# Directories of image R, layer by layer, and how many bytes of each layer's files to take.
REAL_LAYERS = [
    (["/usr/include"], 48 << 20),
    (["/usr/lib/python3.11", "/usr/lib/python3", "/usr/share/perl", "/usr/share/perl5"], 40 << 20),
    (["/usr/share/locale", "/usr/share/zoneinfo", "/usr/share/i18n"], 32 << 20),
    (["/usr/bin", "/usr/sbin"], 48 << 20),
    (["/usr/share/doc", "/usr/share/man"], 24 << 20),
]


def image_real():
    layers = []
    for roots, budget in REAL_LAYERS:
        entries, left, seen = [], budget, set()
        for root in roots:
            for top, dirs, files in os.walk(root):
                dirs.sort()
                for name in sorted(files):
                    path = os.path.join(top, name)
                    rel = path.lstrip("/")
                    if rel in seen:
                        continue
                    if os.path.islink(path):
                        entries.append(("symlink", rel, os.readlink(path)))
                    elif os.path.isfile(path) and os.access(path, os.R_OK):
                        size = os.path.getsize(path)
                        if size > left:
                            continue
                        with open(path, "rb") as f:
                            entries.append(("file", rel, f.read(), 0o644))
                        left -= size
                    seen.add(rel)
        layers.append(entries)
    return imagegen.Image(layers, config={"Cmd": ["/bin/true"]})


SCALING = {"B-20k": 20000, "B-40k": 40000, "B-160k": 160000}


def main():
    kind, out = sys.argv[1], sys.argv[2]
    d = Data(42)
    tag = "bench/%s:latest" % kind.lower()
    if kind == "A":
        imagegen.write_docker_1_10([(image_a(d), [tag])], out)
    elif kind == "A-legacy":
        imagegen.write_docker_1_10([(image_a(d, opaque=False), [tag])], out, v1_metadata=True)
    elif kind == "B-legacy":
        imagegen.write_docker_1_10([(image_b(d), [tag])], out, v1_metadata=True)
    elif kind == "A-gzip":
        imagegen.write_docker_25([(image_a(d), [tag])], out, compress=True)
    elif kind == "B":
        imagegen.write_docker_1_10([(image_b(d), [tag])], out)
    elif kind in SCALING:
        imagegen.write_docker_1_10([(image_b(d, SCALING[kind]), [tag])], out)
    elif kind == "R":
        imagegen.write_docker_1_10([(image_real(), [tag])], out)
    elif kind == "C":
        imagegen.write_docker_1_10([(image_c(d), [tag])], out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
