#!/usr/bin/env bash
# Proves the runtime image (Containerfile) that the README's Kubernetes Job runs, without a
# Docker engine: `buildah bud` on a debootstrap base, then the image converted by
# docker2aci, validated, checked to hold the binary and its runtime only, and run as its
# unprivileged user from a chroot of the ACI to convert and sign the bundled sample.
# Slow (network to the Debian mirror): run by hand, not by scripts/test.sh.
#   bash tests/container/runtime_image_test.sh [BUILD_DIR]
source "$(dirname "$0")/lib.sh"
build=${1:-$repo/build}

make_base_image
bud Containerfile localhost/docker2aci:latest
"${B[@]}" push -q localhost/docker2aci:latest "docker-archive:$work/image.tar:docker2aci:latest"
aci=$("$build/docker2aci" -q -o "$work" "$work/image.tar")  # docker.io/library/docker2aci
actool validate "$aci"
echo "image: $(( $(stat -c %s "$work/image.tar") / 1000000 )) MB as docker-archive, ACI $(( $(stat -c %s "$aci") / 1000000 )) MB"
python3 - "$work/image.tar" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
for i, name in enumerate(json.load(t.extractfile("manifest.json"))[0]["Layers"]):
    size = t.getmember(name).size
    print("layer %d: %d MB%s" % (i + 1, size // 1000000, " (the debootstrap base)" if i == 0 else ""))
PY
# What the runtime layer holds, biggest first (what a smaller image would have to drop).
python3 - "$work/image.tar" <<'PY'
import io, json, sys, tarfile
t = tarfile.open(sys.argv[1])
layer = json.load(t.extractfile("manifest.json"))[0]["Layers"][-1]
inner = tarfile.open(fileobj=io.BytesIO(t.extractfile(layer).read()))
by_dir = {}
for m in inner.getmembers():
    if m.isfile():
        top = "/".join(m.name.split("/")[:4])
        by_dir[top] = by_dir.get(top, 0) + m.size
for name, size in sorted(by_dir.items(), key=lambda kv: -kv[1])[:8]:
    print("  %6.1f MB  %s" % (size / 1e6, name))
PY

mkdir "$work/aci" && tar -xzf "$aci" -C "$work/aci"
root=$work/aci/rootfs
jq -c '.app | {exec, user, group}' "$work/aci/manifest"
[ "$(jq -c '.app | [.exec, .user, .group]' "$work/aci/manifest")" = '[["/usr/bin/docker2aci","--help"],"10001","10001"]' ] ||
  { echo "unexpected app section"; exit 1; }
for f in usr/bin/docker2aci usr/lib/libdocker2aci.so.1 usr/bin/gpg usr/bin/gpg-agent etc/ssl/certs/ca-certificates.crt; do
  [ -e "$root/$f" ] || { echo "missing /$f"; exit 1; }
done
for f in usr/bin/cmake usr/bin/g++ usr/bin/cc usr/bin/ninja src usr/include/archive.h tmp/debs; do
  [ ! -e "$root/$f" ] || { echo "build leftovers in the runtime image: /$f"; exit 1; }
done
file "$root/usr/bin/docker2aci" | grep -q ', stripped' || { echo "binary not stripped"; exit 1; }
[ -z "$(find "$root/var/cache/apt/archives" "$root/var/lib/apt/lists" -name '*.deb' -o -name '*_Packages' 2>/dev/null)" ] ||
  { echo "apt's downloads or lists left in the runtime image"; exit 1; }
echo "holds the binary, CA certificates and gpg; no compiler, headers or sources"

# Run it as the Job would: its own user, a key for --sign-key, the sample image as input.
python3 "$repo/testdata/make_sample.py" hello "$root/tmp/hello.tar"
export GNUPGHOME=$root/tmp/gpg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key mirror@example.invalid rsa2048 sign never 2> /dev/null
gpgconf --kill gpg-agent
mkdir "$root/tmp/out"
chown -R 10001:10001 "$root/tmp/gpg" "$root/tmp/out"
unshare --mount --propagation private sh -c "
  mount --rbind /dev '$root/dev' && mount -t proc proc '$root/proc' &&
  chroot --userspec=10001:10001 '$root' /usr/bin/docker2aci -o /tmp/out --gpg-home /tmp/gpg \
    --sign-key mirror@example.invalid /tmp/hello.tar"
out=$root/tmp/out/mix3-hello-latest-linux-amd64.aci
actool validate "$out"
gpg --batch --quiet --verify "$out.asc" "$out"
echo "ok: Containerfile built with buildah, converted, validated; as uid 10001 it converted and signed the sample"
