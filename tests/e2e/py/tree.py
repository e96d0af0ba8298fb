#!/usr/bin/env python3
"""Canonical listing of a directory tree, for comparing a converted rootfs with an oracle.

  tree.py dump DIR [--ignore PATH]...       one line per entry
  tree.py compare DIR_A DIR_B [--ignore PATH]...   exit 1 and a diff when they differ

A line holds path, type, permission bits, owner, size, SHA-256 of the content, symlink
target, device numbers, xattrs, the hard-link group (the first path of the group) and,
for everything but directories, the modification time in whole seconds. The root itself
comes first as ".", without its mtime. Directory mtimes are left out: extracting an
entry into a directory changes them, and extractors differ in whether they restore them.
"""
import hashlib
import os
import stat
import sys


def listing(root, ignore=()):
    entries = []
    inode_first = {}
    paths = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if any(rel == i or rel.startswith(i + "/") for i in ignore):
                continue
            paths.append((rel, full))
    paths.sort()
    paths.insert(0, (".", root))
    for rel, full in paths:
        st = os.lstat(full)
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
            inode_first.setdefault((st.st_dev, st.st_ino), rel)
    for rel, full in paths:
        st = os.lstat(full)
        mode = st.st_mode
        kind = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink",
                stat.S_IFCHR: "char", stat.S_IFBLK: "block", stat.S_IFIFO: "fifo",
                stat.S_IFSOCK: "sock"}[stat.S_IFMT(mode)]
        fields = [rel, kind, "%04o" % stat.S_IMODE(mode), "%d:%d" % (st.st_uid, st.st_gid)]
        if kind != "dir":
            fields.append("mtime=%d" % int(st.st_mtime))
        if kind == "file":
            h = hashlib.sha256()
            with open(full, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            fields += ["size=%d" % st.st_size, h.hexdigest()[:16]]
            if st.st_nlink > 1:
                fields.append("link-group=" + inode_first[(st.st_dev, st.st_ino)])
        elif kind == "symlink":
            fields.append("-> " + os.readlink(full))
        elif kind in ("char", "block"):
            fields.append("dev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
        if kind != "symlink":
            try:
                for x in sorted(os.listxattr(full, follow_symlinks=False)):
                    fields.append("xattr:%s=%s" % (x, os.getxattr(full, x, follow_symlinks=False).hex()))
            except OSError:
                pass
        entries.append(" ".join(fields))
    return entries


def main():
    args = sys.argv[1:]
    ignore = []
    while "--ignore" in args:
        i = args.index("--ignore")
        ignore.append(args[i + 1])
        del args[i:i + 2]
    if args and args[0] == "dump" and len(args) == 2:
        print("\n".join(listing(args[1], ignore)))
        return 0
    if args and args[0] == "compare" and len(args) == 3:
        a, b = listing(args[1], ignore), listing(args[2], ignore)
        if a == b:
            print("trees equal: %d entries" % len(a))
            return 0
        import difflib
        sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(a, b, args[1], args[2], lineterm=""))
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
