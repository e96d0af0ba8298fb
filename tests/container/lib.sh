# Shared by the container proofs: buildah on vfs storage (no daemon, no overlay), and a
# Debian 12 base image made with debootstrap, since no registry image can be pulled here.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/d2a-container.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt-get install -y -qq debootstrap buildah > /dev/null
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)

# make_base_image: debian:bookworm from a minbase debootstrap (also tagged
# debian:bookworm-slim: minbase is the same minimal package set).
make_base_image() {
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian > "$work/debootstrap.log"
  tar -C "$work/rootfs" -cf "$work/base.tar" .
  local ctr; ctr=$("${B[@]}" from scratch)
  "${B[@]}" add "$ctr" "$work/base.tar" / > /dev/null
  "${B[@]}" commit -q "$ctr" docker.io/library/debian:bookworm > /dev/null
  "${B[@]}" rm "$ctr" > /dev/null
  "${B[@]}" tag docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
  rm -rf "$work/rootfs" "$work/base.tar"
  echo "base image: debian:bookworm (and -slim) from debootstrap"
}

# bud FILE TAG: buildah bud of FILE from a clean clone of the repository.
bud() {
  [ -d "$work/src" ] || git clone -q "$repo" "$work/src"
  local start; start=$(date +%s)
  "${B[@]}" bud --isolation chroot --pull=never -f "$1" -t "$2" "$work/src" > "$work/bud.log" 2>&1 ||
    { tail -40 "$work/bud.log"; echo "buildah bud of $1 failed"; exit 1; }
  echo "buildah bud of $1: $(( $(date +%s) - start )) s"
}
