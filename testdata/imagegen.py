#!/usr/bin/env python3
"""Writes container images in every on-disk format docker2aci reads.

An image is described by layers of entries; the same image can be written as each
`docker save` generation (legacy < 1.10, 1.10-24, 25+, containerd store), as an OCI
layout directory or an OCI archive. Used by the tests and to build the bundled sample.

Entry tuples:
  ("file", path, bytes_content, mode)        ("dir", path, mode)
  ("symlink", path, target)                  ("hardlink", path, target)
  ("whiteout", path)  -> .wh.NAME            ("opaque", dir) -> dir/.wh..wh..opq
  ("tree", src_dir, prefix)                  add a real directory tree
  ("raw", tarinfo_kwargs, bytes_or_None)     anything else, exactly as given
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile

MTIME = 1_600_000_000


def _ti(name, **kw):
    ti = tarfile.TarInfo(name)
    ti.mtime = kw.pop("mtime", MTIME)
    ti.uid = kw.pop("uid", 0)
    ti.gid = kw.pop("gid", 0)
    ti.uname = kw.pop("uname", "")
    ti.gname = kw.pop("gname", "")
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def layer_tar(entries):
    """Returns the uncompressed tar bytes of one layer."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            kind = e[0]
            if kind == "file":
                _, path, data, *rest = e
                mode = rest[0] if rest else 0o644
                t.addfile(_ti(path, size=len(data), mode=mode), io.BytesIO(data))
            elif kind == "dir":
                _, path, *rest = e
                t.addfile(_ti(path, type=tarfile.DIRTYPE, mode=rest[0] if rest else 0o755))
            elif kind == "symlink":
                t.addfile(_ti(e[1], type=tarfile.SYMTYPE, linkname=e[2], mode=0o777))
            elif kind == "hardlink":
                t.addfile(_ti(e[1], type=tarfile.LNKTYPE, linkname=e[2], mode=0o644))
            elif kind == "whiteout":
                d, b = os.path.split(e[1])
                t.addfile(_ti(os.path.join(d, ".wh." + b), size=0, mode=0))
            elif kind == "opaque":
                t.addfile(_ti(os.path.join(e[1], ".wh..wh..opq"), size=0, mode=0))
            elif kind == "tree":
                _, src, prefix = e
                for root, dirs, files in os.walk(src):
                    dirs.sort()
                    rel = os.path.relpath(root, src)
                    arc_root = prefix if rel == "." else os.path.join(prefix, rel)
                    if arc_root:
                        t.add(root, arcname=arc_root, recursive=False, filter=_fixed)
                    for f in sorted(files):
                        t.add(os.path.join(root, f), arcname=os.path.join(arc_root, f), filter=_fixed)
            elif kind == "raw":
                _, kw, data = e
                kw = dict(kw)
                name = kw.pop("name")
                ti = _ti(name, **kw)
                if data is not None:
                    ti.size = len(data)
                t.addfile(ti, io.BytesIO(data) if data is not None else None)
            else:
                raise ValueError(kind)
    return buf.getvalue()


def _fixed(ti):
    ti.mtime = MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def gz(b):
    return gzip.compress(b, compresslevel=6, mtime=0)


def zst(b):
    import subprocess
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=b, check=True, capture_output=True).stdout


class Image:
    def __init__(self, layers, config=None, arch="amd64", os_name="linux", variant=None,
                 created="2020-09-13T12:26:40Z"):
        self.layer_tars = [layer_tar(l) for l in layers]
        self.diff_ids = ["sha256:" + sha256(t) for t in self.layer_tars]
        cfg = {
            "architecture": arch,
            "os": os_name,
            "created": created,
            "author": "docker2aci tests",
            "config": config or {},
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [{"created": created, "created_by": "imagegen"} for _ in layers],
        }
        if variant:
            cfg["variant"] = variant
        self.config = json.dumps(cfg, sort_keys=True).encode()
        self.config_digest = "sha256:" + sha256(self.config)
        self.platform = {"os": os_name, "architecture": arch}
        if variant:
            self.platform["variant"] = variant

    def set_layer_tars(self, tars, diff_ids=None):
        """Replaces the layers by exact bytes, keeping diff_ids and the config in step
        (diff_ids may be given wrong on purpose)."""
        self.layer_tars = list(tars)
        self.diff_ids = diff_ids or ["sha256:" + sha256(t) for t in self.layer_tars]
        cfg = json.loads(self.config)
        cfg["rootfs"]["diff_ids"] = self.diff_ids
        cfg["history"] = [{"created": cfg["created"], "created_by": "imagegen"} for _ in self.layer_tars]
        self.config = json.dumps(cfg, sort_keys=True).encode()
        self.config_digest = "sha256:" + sha256(self.config)

    def manifest(self, compress=True, docker_types=False):
        """compress: True/"gzip", "zstd" or False."""
        layers = []
        blobs = {}
        for t in self.layer_tars:
            data = zst(t) if compress == "zstd" else gz(t) if compress else t
            d = "sha256:" + sha256(data)
            blobs[d] = data
            if docker_types:
                mt = "application/vnd.docker.image.rootfs.diff.tar.gzip" if compress else \
                    "application/vnd.docker.image.rootfs.diff.tar"
            else:
                mt = "application/vnd.oci.image.layer.v1.tar+zstd" if compress == "zstd" else \
                    "application/vnd.oci.image.layer.v1.tar+gzip" if compress else \
                    "application/vnd.oci.image.layer.v1.tar"
            layers.append({"mediaType": mt, "digest": d, "size": len(data)})
        blobs[self.config_digest] = self.config
        m = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json" if docker_types
            else "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json" if docker_types
                       else "application/vnd.oci.image.config.v1+json",
                       "digest": self.config_digest, "size": len(self.config)},
            "layers": layers,
        }
        mb = json.dumps(m, sort_keys=True).encode()
        return mb, blobs


class TarOut:
    """Collects archive members, then writes them as one tar (optionally compressed)."""

    def __init__(self):
        self.members = []

    def file(self, name, data, mode=0o644):
        self.members.append((name, "file", data, mode))

    def dir(self, name):
        self.members.append((name, "dir", None, 0o755))

    def symlink(self, name, target):
        self.members.append((name, "symlink", target, 0o777))

    def write(self, path):
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
            for name, kind, data, mode in self.members:
                if kind == "file":
                    t.addfile(_ti(name, size=len(data), mode=mode), io.BytesIO(data))
                elif kind == "dir":
                    t.addfile(_ti(name, type=tarfile.DIRTYPE, mode=mode))
                else:
                    t.addfile(_ti(name, type=tarfile.SYMTYPE, linkname=data, mode=mode))


def _v1_ids(image):
    ids, parent = [], ""
    for diff in image.diff_ids:
        parent = sha256((parent + diff).encode())
        ids.append(parent)
    return ids


def _v1_json(cfg, ids, i):
    """A layer's legacy metadata: its parent, and the image config (parsed) on the top
    layer."""
    j = {"id": ids[i], "created": cfg["created"], "os": cfg["os"],
         "architecture": cfg["architecture"]}
    if i:
        j["parent"] = ids[i - 1]
    if i == len(ids) - 1:
        j["config"] = cfg["config"]
        j["author"] = cfg.get("author", "")
    return json.dumps(j).encode()


def write_docker_legacy(images, path):
    """Docker < 1.10: repositories, <id>/json with parent chains, <id>/layer.tar."""
    out, repos = TarOut(), {}
    for img, tags in images:
        ids, cfg = _v1_ids(img), json.loads(img.config)
        for i, lid in enumerate(ids):
            out.dir(lid)
            out.file(lid + "/VERSION", b"1.0")
            out.file(lid + "/json", _v1_json(cfg, ids, i))
            out.file(lid + "/layer.tar", img.layer_tars[i])
        for tag in tags:
            name, t = tag.rsplit(":", 1)
            repos.setdefault(name, {})[t] = ids[-1]
    out.file("repositories", json.dumps(repos).encode())
    out.write(path)


def write_docker_1_10(images, path, v1_metadata=False):
    """Docker 1.10-24: manifest.json, <config>.json, <v1id>/layer.tar; a layer already
    stored under another id is a symlink to it. With v1_metadata, each <v1id>/json holds
    the legacy metadata (parent chain, config) as Docker wrote it, which pre-1.10 readers
    need; without, only the id."""
    out, manifest, repos, stored = TarOut(), [], {}, {}
    for img, tags in images:
        ids, cfg = _v1_ids(img), json.loads(img.config)
        layers = []
        for i, lid in enumerate(ids):
            out.dir(lid)
            out.file(lid + "/VERSION", b"1.0")
            out.file(lid + "/json", _v1_json(cfg, ids, i) if v1_metadata
                     else json.dumps({"id": lid}).encode())
            diff = img.diff_ids[i]
            if diff in stored:
                out.symlink(lid + "/layer.tar", "../" + stored[diff] + "/layer.tar")
            else:
                out.file(lid + "/layer.tar", img.layer_tars[i])
                stored[diff] = lid
            layers.append(lid + "/layer.tar")
        cfg_name = img.config_digest.split(":")[1] + ".json"
        out.file(cfg_name, img.config)
        manifest.append({"Config": cfg_name, "RepoTags": tags or None, "Layers": layers})
        for tag in tags:
            name, t = tag.rsplit(":", 1)
            repos.setdefault(name, {})[t] = ids[-1]
    out.file("manifest.json", json.dumps(manifest).encode())
    out.file("repositories", json.dumps(repos).encode())
    out.write(path)


def write_docker_25(images, path, compress=False):
    """Docker 25+: an OCI layout plus manifest.json whose paths are blobs/sha256/<hex>."""
    out, manifest, index, blobs = TarOut(), [], [], {}
    for img, tags in images:
        mb, bl = img.manifest(compress=compress)
        blobs.update(bl)
        md = "sha256:" + sha256(mb)
        blobs[md] = mb
        lay = json.loads(mb)["layers"]
        manifest.append({"Config": "blobs/sha256/" + img.config_digest[7:], "RepoTags": tags,
                         "Layers": ["blobs/sha256/" + l["digest"][7:] for l in lay]})
        desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                "size": len(mb)}
        if tags:
            desc["annotations"] = {"io.containerd.image.name": "docker.io/" + tags[0],
                                   "org.opencontainers.image.ref.name": tags[0].rsplit(":", 1)[1]}
        index.append(desc)
    _write_blobs(out, blobs)
    out.file("index.json", json.dumps({"schemaVersion": 2, "manifests": index}).encode())
    out.file("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    out.file("manifest.json", json.dumps(manifest).encode())
    out.write(path)


def write_containerd(image, other, tag, path, with_manifest_json=True):
    """Docker 29 with the containerd store: index.json -> image index -> per-platform
    manifests; only the chosen platform's blobs are present (gzip layers)."""
    out, blobs = TarOut(), {}
    mb, bl = image.manifest(compress=True)
    blobs.update(bl)
    md = "sha256:" + sha256(mb)
    blobs[md] = mb
    omb, _ = other.manifest(compress=True)
    od = "sha256:" + sha256(omb)
    idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [
               {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                "size": len(mb), "platform": image.platform},
               {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": od,
                "size": len(omb), "platform": other.platform}]}
    ib = json.dumps(idx).encode()
    idd = "sha256:" + sha256(ib)
    blobs[idd] = ib
    _write_blobs(out, blobs)
    top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idd,
                          "size": len(ib),
                          "annotations": {"io.containerd.image.name": "docker.io/" + tag,
                                          "org.opencontainers.image.ref.name": tag.rsplit(":", 1)[1]}}]}
    out.file("index.json", json.dumps(top).encode())
    out.file("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    lay = json.loads(mb)["layers"]
    if with_manifest_json:
        out.file("manifest.json", json.dumps([{
            "Config": "blobs/sha256/" + image.config_digest[7:], "RepoTags": [tag],
            "Layers": ["blobs/sha256/" + l["digest"][7:] for l in lay]}]).encode())
    out.write(path)


def _write_blobs(out, blobs):
    out.dir("blobs")
    out.dir("blobs/sha256")
    for d in sorted(blobs):
        out.file("blobs/sha256/" + d[7:], blobs[d])


FORMATS = {
    "legacy": lambda img, tag, p: write_docker_legacy([(img, [tag])], p),
    "docker-1.10": lambda img, tag, p: write_docker_1_10([(img, [tag])], p),
    "docker-25": lambda img, tag, p: write_docker_25([(img, [tag])], p, compress=False),
    "docker-25-gzip": lambda img, tag, p: write_docker_25([(img, [tag])], p, compress=True),
}


def write_oci_index_layout(images, tag, path):
    """An OCI layout directory whose index.json names one image index (ref name `tag`)
    holding one manifest per image's platform plus an attestation manifest, as
    `docker buildx --output type=oci` writes."""
    blobs, descs = {}, []
    for img in images:
        mb, bl = img.manifest(compress=True)
        blobs.update(bl)
        md = "sha256:" + sha256(mb)
        blobs[md] = mb
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
                      "size": len(mb), "platform": img.platform})
    att = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": images[0].config_digest, "size": len(images[0].config)},
                      "layers": []}).encode()
    ad = "sha256:" + sha256(att)
    blobs[ad] = att
    descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ad,
                  "size": len(att), "platform": {"os": "unknown", "architecture": "unknown"},
                  "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    ib = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": descs}).encode()
    idd = "sha256:" + sha256(ib)
    blobs[idd] = ib
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
    for d, data in blobs.items():
        with open(os.path.join(path, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idd, "size": len(ib),
             "annotations": {"org.opencontainers.image.ref.name": tag}}]}, f)
