#!/usr/bin/env bash
# Images built by buildah (one layer per step, a RUN step whose diff holds real whiteouts,
# hard links, setuid), pushed as docker-archive and as an OCI layout: both convert to the
# tree `umoci unpack` gives, and the app runs from the ACI.
source "$(dirname "$0")/lib.sh"

B=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
# buildah cannot run inside some containers (no user namespaces there): say so with the
# line ctest reports as a skip (SKIP_REGULAR_EXPRESSION), never through an exit code that
# a failing command could also return.
if ! "${B[@]}" info > /dev/null 2>&1; then
  echo "skip - buildah cannot run here: $("${B[@]}" info 2>&1 | head -1)"
  trap - EXIT; cleanup; exit 0
fi
mkdir -p ctx/root/bin ctx/root/etc ctx/root/app/olddir
cp "$(command -v busybox)" ctx/root/bin/busybox
printf 'root:x:0:0::/root:/bin/sh\nsvc:x:500:600::/app:/bin/sh\n' > ctx/root/etc/passwd
echo 'hello from buildah' > ctx/root/app/msg
echo old > ctx/root/app/olddir/o
echo gone > ctx/root/app/gone
cat > ctx/Containerfile <<'CF'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox rm -rf /app/olddir /app/gone && /bin/busybox mkdir /app/olddir && echo new > /app/olddir/n && /bin/busybox ln /app/msg /app/msg-link && /bin/busybox ln -s /app/msg /app/msg-sym && /bin/busybox chmod 4755 /app/msg"]
USER svc
ENV GREETING=hi
ENTRYPOINT ["/bin/busybox", "cat", "/app/msg-link"]
CF
"${B[@]}" bud --layers --isolation chroot -q -t localhost/bh/app:1 -f ctx/Containerfile ctx > /dev/null
"${B[@]}" push -q localhost/bh/app:1 docker-archive:bh.tar:bh/app:1
"${B[@]}" push -q localhost/bh/app:1 oci:layout:1
umoci unpack --image layout:1 expected > /dev/null
layers=$(jq -r '.manifests[0].digest' layout/index.json | cut -d: -f2)
[ "$(jq '.layers | length' "layout/blobs/sha256/$layers")" = 2 ] && pass "buildah wrote 2 layers" || fail "layer count"

ignore="--ignore dev/stdin --ignore dev/stdout --ignore dev/stderr --ignore dev/fd"
for input in bh.tar layout; do
  rm -rf out got && mkdir out
  if d2a -o out --image "$([ $input = layout ] && echo 1 || echo bh/app:1)" $input > /dev/null; then
    aci=$(ls out/*.aci)
    unpack_aci "$aci" got
    $TREE compare expected/rootfs got/rootfs $ignore > /dev/null && pass "buildah $input equals umoci unpack" ||
      { $TREE compare expected/rootfs got/rootfs $ignore || true; fail "buildah $input tree"; }
    [ "$(manifest_of "$aci" | jq -c '.app | [.user, .group, .exec]')" = '["svc","600",["/bin/busybox","cat","/app/msg-link"]]' ] &&
      pass "buildah $input app" || fail "buildah $input app: $(manifest_of "$aci" | jq -c .app)"
  else fail "convert buildah $input"; fi
done

run_app out/*.aci app
wait "$APP_PID" && [ "$(cat app.out)" = "hello from buildah" ] && pass "app runs from the ACI" || fail "app: $(cat app.out)"
finish
