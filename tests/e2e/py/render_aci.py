#!/usr/bin/env python3
"""Renders a layered ACI set the way appc's acirenderer does, for checking --nosquash.

  render_aci.py TOP.aci DEST     DEST/rootfs gets the rendered tree

Rules (appc spec, pkg/acirenderer): the dependency list starts at the top image (level 0)
and follows each image's dependencies depth first, each found by name with all the
dependency's labels. Images are walked in that order; an entry is taken when
  - it is under rootfs/ (rootfs itself always),
  - a non-directory is in the image's own pathWhitelist (when it has one),
  - it is in the pathWhitelist of the nearest upper image that has one (directories too),
  - no earlier (upper) image already provided that path,
  - no upper image provided one of its parents as a non-directory.
The chosen entries are then extracted lowest image first. A hard link whose target was
not chosen makes the extraction fail: rkt could not render it either.
"""
import glob
import json
import os
import subprocess
import sys
import tarfile


def load(path):
    with tarfile.open(path) as t:
        manifest = json.load(t.extractfile("manifest"))
    return {"path": path, "manifest": manifest}


def labels(m):
    return {l["name"]: l["value"] for l in m.get("labels") or []}


def dep_list(top, pool):
    out = []

    def visit(img, level):
        out.append((img, level))
        for dep in img["manifest"].get("dependencies") or []:
            want = {l["name"]: l["value"] for l in dep.get("labels") or []}
            found = [c for c in pool if c["manifest"]["name"] == dep["imageName"]
                     and all(labels(c["manifest"]).get(k) == v for k, v in want.items())]
            if len(found) != 1:
                sys.exit("dependency %s %s: %d candidates" % (dep["imageName"], want, len(found)))
            visit(found[0], level + 1)

    visit(top, 0)
    return out


def pwl_map(m):
    pwl = m.get("pathWhitelist") or []
    return {os.path.normpath("rootfs/" + p.lstrip("/")) for p in pwl} if pwl else None


def upper_pwlm(imgs, pos):
    pwlm, cur = None, imgs[pos][1]
    for i in range(pos, -1, -1):
        img, level = imgs[i]
        if level < cur and img["manifest"].get("pathWhitelist"):
            pwlm = pwl_map(img["manifest"])
        cur = level
    return pwlm


def main():
    top_path, dest = sys.argv[1], sys.argv[2]
    pool = [load(p) for p in glob.glob(os.path.join(os.path.dirname(top_path) or ".", "*.aci"))]
    top = next(p for p in pool if os.path.samefile(p["path"], top_path))
    imgs = dep_list(top, pool)
    all_files = {}
    chosen = []
    for pos, (img, _) in enumerate(imgs):
        pwlm = upper_pwlm(imgs, pos)
        own = pwl_map(img["manifest"])
        names = []
        with tarfile.open(img["path"]) as t:
            for ti in t:
                clean = os.path.normpath(ti.name)
                if clean == "rootfs" and ti.isdir():
                    names.append(ti.name)
                    all_files[clean] = "dir"
                    continue
                if not clean.startswith("rootfs/"):
                    continue
                if not ti.isdir() and own is not None and clean not in own:
                    continue
                if pwlm is not None and clean not in pwlm:
                    continue
                if clean in all_files:
                    continue
                parent, blocked = os.path.dirname(clean), False
                while parent not in ("", "."):
                    if all_files.get(parent, "dir") != "dir":
                        blocked = True
                        break
                    parent = os.path.dirname(parent)
                if blocked:
                    continue
                names.append(ti.name)
                all_files[clean] = "dir" if ti.isdir() else "other"
        chosen.append((img["path"], names))
    os.makedirs(dest, exist_ok=True)
    for path, names in reversed(chosen):
        listfile = os.path.join(dest, ".names")
        with open(listfile, "wb") as f:
            f.write(b"\0".join(n.encode() for n in names) + b"\0")
        subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--same-owner", "--numeric-owner",
                        "-xpf", path, "-C", dest, "--no-recursion", "--null", "-T", listfile],
                       check=True)
        os.unlink(listfile)
    print("rendered %d images" % len(imgs))


if __name__ == "__main__":
    main()
