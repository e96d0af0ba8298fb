#!/usr/bin/env python3
"""The include rule: each folder of src/ is one concept, and the folders read as the
pipeline. A folder may include only the folders written against it below (and itself);
the test fails naming every include that breaks the rule, so the layout cannot drift.

    util      the vocabulary: errors, files, streams, digests, threads
    codec     compression and decompression (gzip, deflate, zstd, xz)
    image     references, configs, platforms; Image = config + self-verifying layers
    registry  HTTP, auth, the registry protocol, the blob cache
    source    docker save, OCI layouts, registry pulls -> Image
    flatten   layers -> one tree
    aci       the appc format: manifest, names, tar, reading ACIs back
    publish   putting ACIs in place: atomic publish, signatures, discovery site
    pipeline  one image, a batch: the library's calls
    api       the public C++ and C APIs (include/docker2aci/) and the flags they are set by
    cli       the docker2aci program: flags in, reports out, on the public API alone
    serve     `docker2aci serve`: a discovery site over HTTP, on the public API alone

Usage: depcheck.py SRC_DIR
"""
import os
import re
import sys

ALLOWED = {
    "util": set(),
    "codec": {"util"},
    "image": {"util", "codec"},
    "registry": {"util"},
    "source": {"util", "codec", "image", "registry"},
    "flatten": {"util"},
    "aci": {"util", "codec", "image", "flatten"},
    "publish": {"util", "aci"},
    "pipeline": {"util", "codec", "image", "registry", "source", "flatten", "aci", "publish"},
    "api": {"util", "image", "source", "aci", "publish", "pipeline"},
    # Only <docker2aci/docker2aci.hpp>: the program links the shared library, which
    # exports nothing else.
    "serve": set(),
    "cli": {"serve"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def violations(src):
    found = []
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            found.append("%s/: a folder the include rule does not know (add it to %s)" % (folder, __file__))
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".cpp", ".hpp")):
                continue
            with open(os.path.join(path, name), encoding="utf-8") as f:
                text = f.read()
            for target in INCLUDE.findall(text):
                if target != folder and target not in ALLOWED[folder]:
                    found.append("%s/%s includes %s/: %s may include only %s" % (
                        folder, name, target, folder, ", ".join(sorted(ALLOWED[folder])) or "itself"))
    return found


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "src")
    found = violations(src)
    for v in found:
        print("not ok - " + v)
    checked = sum(1 for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    print("%d passed, %d failed" % (checked if not found else 0, len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
