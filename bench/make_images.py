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
M: ~80 MB of mixed classes in 4 layers: random units repeated at periods up to 32 KiB,
   random runs between text at and around the 2 KiB planning granularity, zero runs,
   base64, a 4-letter alphabet, JSON logs, CSV numbers, text of vocabularies of 60, 2,000
   (Zipf-like frequencies) and 50,000 words, files ending at and around 1 MiB.
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


def zipf_text(rnd, vocabulary, n):
    """Lines of words drawn with Zipf-like frequencies (rank r weighs 1/r) from
    `vocabulary` made-up words of 2 to 12 letters, as prose and source code have."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rnd.choice(letters) for _ in range(rnd.randint(2, 12))) for _ in range(vocabulary)]
    weights = [1.0 / (r + 1) for r in range(vocabulary)]
    out, size = [], 0
    while size < n:
        line = " ".join(rnd.choices(words, weights, k=rnd.randint(4, 16))) + "\n"
        out.append(line)
        size += len(line)
    return "".join(out).encode()[:n]


def image_mixed(d):
    import base64
    import json
    rnd = d.rnd
    classes = []
    # Random units repeated: copies of one small compressed file, a key stored twice.
    for period in (255, 1000, 2047, 4096, 9000, 16384, 32000):
        unit = d.random(period)
        classes.append(("repeat-%d" % period, (unit * ((3 << 20) // period + 1))[:3 << 20]))
    # Random runs between text, at and around the 2 KiB chunks the planner judges.
    for run in (1024, 2047, 2048, 2049, 3000, 6144):
        parts = []
        while sum(map(len, parts)) < 2 << 20:
            parts += [d.text(rnd.randint(500, 5000)), d.random(run)]
        classes.append(("runs-%d" % run, b"".join(parts)))
    zeros = bytearray()
    while len(zeros) < 4 << 20:
        zeros += bytes(rnd.randint(1, 200000)) + d.random(rnd.randint(100, 5000))
    classes.append(("zero-runs", bytes(zeros)))
    classes.append(("base64", base64.encodebytes(d.random(3 << 20))))
    classes.append(("dna", "".join(rnd.choices("ACGT", k=4 << 20)).encode()))
    logs = []
    for i in range(60000):
        logs.append(json.dumps({"ts": 1700000000 + i * 7, "level": rnd.choice(["info", "warn", "error", "debug"]),
                                "msg": rnd.choice(["request done", "cache miss", "retrying", "connection reset"]),
                                "id": rnd.randrange(1 << 32), "ms": round(rnd.expovariate(0.01), 3)}))
    classes.append(("logs.json", ("\n".join(logs) + "\n").encode()))
    rows = ["%d,%.6f,%d,%s" % (i, rnd.gauss(0, 1000), rnd.randrange(10 ** 9), rnd.choice(["a", "b", "c"]))
            for i in range(120000)]
    classes.append(("numbers.csv", ("\n".join(rows) + "\n").encode()))
    classes.append(("vocabulary-60", d.text(4 << 20)))
    for vocabulary in (2000, 50000):
        classes.append(("zipf-%d" % vocabulary, zipf_text(rnd, vocabulary, 6 << 20)))
    # Files that end at and around the compressor's 1 MiB blocks.
    for delta in (-1, 0, 1, 4096):
        classes.append(("mib%+d" % delta, d.text((1 << 20) + delta)))
    layers = [[] for _ in range(4)]
    for i, (name, data) in enumerate(classes):
        layers[i % 4].append(("file", "m%d/%s" % (i % 4, name), data, 0o644))
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
    elif kind == "M":
        imagegen.write_docker_1_10([(image_mixed(d), [tag])], out)
    elif kind == "C":
        imagegen.write_docker_1_10([(image_c(d), [tag])], out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
