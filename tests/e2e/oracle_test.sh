#!/usr/bin/env bash
# Images built by umoci (and hand-made layers added with `umoci raw add-layer`), exported
# by skopeo as docker-archive, converted by docker2aci: the ACI's rootfs must equal what
# `umoci unpack` of the same image gives, entry for entry.
source "$(dirname "$0")/lib.sh"

R=B/rootfs
umoci_start L B

# Layer 1: a base with every entry kind.
mkdir -p $R/etc $R/bin $R/dev $R/data/sub $R/gone/deep $R/replace-dir $R/opq/keep
printf 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' > $R/etc/passwd
echo base > $R/data/file
echo original > $R/data/target
ln $R/data/target $R/data/link1
ln $R/data/target $R/data/link2
echo secret > $R/gone/deep/x
echo lower > $R/opq/keep/a
echo lower > $R/opq/old
echo file > $R/replace-file
echo in-dir > $R/replace-dir/inner
ln -s /etc/passwd $R/abs-link
ln -s ../data/file $R/bin/rel-link
cp /bin/busybox $R/bin/suid && chmod 4755 $R/bin/suid
chmod 2775 $R/data/sub && chmod +t $R/data/sub
# Device nodes need CAP_MKNOD, which some containers (buildah's chroot isolation) lack.
if mknod $R/dev/null-copy c 1 3 2> /dev/null; then
  mknod $R/dev/blk b 7 0
else
  echo "skip - device nodes: mknod is not permitted here"
fi
mkfifo $R/data/fifo
setfattr -n user.comment -v hello $R/data/file
echo kept > $R/data/xattr-file && setfattr -n user.mime -v text/plain $R/data/xattr-file
echo pair > $R/data/pair-a && ln $R/data/pair-a $R/data/pair-b
setfattr -n trusted.overlay.test -v x $R/data/target 2>/dev/null || true
echo big > $R/data/bigid && chown 3000000:3000001 $R/data/bigid
long=$(printf 'n%.0s' $(seq 1 200)); mkdir -p $R/long/$long && echo deep > $R/long/$long/$long
echo unicode > "$R/data/ünï-cødé ☃.txt"
mkdir $R/to-symlink && echo x > $R/to-symlink/f
ln -s data $R/sym-to-dir
umoci_commit L B

# Layer 2: deletions, replacements, a deleted hard-link target, rm -rf and re-create.
rm -rf $R/gone
rm $R/data/target
echo replaced > $R/data/link2.new && mv $R/data/link2.new $R/data/link2
rm $R/replace-file && mkdir $R/replace-file && echo now-dir > $R/replace-file/x
rm -rf $R/replace-dir && echo now-file > $R/replace-dir
rm -rf $R/data/sub && mkdir $R/data/sub && echo fresh > $R/data/sub/new
chmod 0600 $R/etc/passwd
rm -rf $R/to-symlink && ln -s data $R/to-symlink
rm $R/sym-to-dir && mkdir $R/sym-to-dir && echo y > $R/sym-to-dir/g
umoci_commit L B

# Layer 3, hand-made: an opaque whiteout after same-layer content, a whiteout that
# removes a lower file, a file re-created next to its own whiteout.
python3 "$PY_DIR/fixtures.py" oracle-layer3
umoci raw add-layer --image L:t layer3.tar
umoci config --image L:t --config.entrypoint /bin/suid --config.cmd sh \
  --config.user app --config.env FOO=bar --config.workingdir /data \
  --config.exposedports 8080/tcp --config.volume /data/vol >/dev/null 2>&1 ||
  umoci config --image L:t --config.entrypoint /bin/suid --config.cmd sh --config.user app \
  --config.env FOO=bar --config.workingdir /data --config.exposedports 8080/tcp --config.volume /data/vol

skopeo copy -q oci:L:t docker-archive:img.tar:test/oracle:v1
umoci unpack --image L:t expected >/dev/null

if d2a -o "$WORK" img.tar > out.txt; then pass "convert skopeo docker-archive"; else fail "convert"; cat out.txt; fi
ACI=test-oracle-v1-linux-amd64.aci
if validate $ACI; then pass "actool validate"; else fail "actool validate"; fi
unpack_aci $ACI got
ignore="--ignore dev/stdin --ignore dev/stdout --ignore dev/stderr --ignore dev/fd"
if $TREE compare expected/rootfs got/rootfs $ignore; then pass "rootfs equals umoci unpack"; else fail "rootfs differs from umoci unpack"; fi
if [ "$(tar -tf $ACI | sort | uniq -d)" = "" ]; then pass "no duplicate entries"; else fail "duplicate entries"; fi
if ! tar -tf $ACI | grep -q '\.wh\.'; then pass "no whiteout files left"; else fail "whiteout files left"; fi
m=$(manifest_of $ACI)
if [ "$(jq -c '.app | {user, group, exec, workingDirectory}' <<<"$m")" = \
     '{"user":"app","group":"1000","exec":["/bin/suid","sh"],"workingDirectory":"/data"}' ]; then
  pass "user, primary group from /etc/passwd, exec"
else fail "app fields: $(jq -c .app <<<"$m")"; fi
if [ "$(jq -c '.app.mountPoints' <<<"$m")" = '[{"name":"volume-data-vol","path":"/data/vol","readOnly":false}]' ]; then
  pass "mount points"; else fail "mount points: $(jq -c .app.mountPoints <<<"$m")"; fi
# Parents before children and link targets before links, in the tar's own order.
if tar -tvf $ACI | python3 "$PY_DIR/checks.py" parents-first; then pass "tar order"; else fail "tar order"; fi

# The same image straight from the OCI layout, as a directory and as an OCI archive
# (gzip-compressed): the same tree again, and the same manifest but for source annotations.
tar -cf - -C L . | gzip -n > layout.tar.gz
for input in L layout.tar.gz; do
  rm -rf oci && mkdir oci
  if d2a -o oci --image t "$input" > /dev/null; then
    aci=$(ls oci/*.aci)
    validate "$aci" || fail "$input: actool validate"
    unpack_aci "$aci" oci-tree
    if $TREE compare expected/rootfs oci-tree/rootfs $ignore > /dev/null; then pass "OCI $input equals umoci unpack"
    else $TREE compare expected/rootfs oci-tree/rootfs $ignore || true; fail "OCI $input tree"; fi
    # Names and source annotations differ by design; everything else must not.
    strip='del(.name, .labels, (.annotations[] | select(.name | IN("appc.io/docker/originalname", "appc.io/docker/registryurl", "appc.io/docker/repository", "appc.io/docker/tag", "appc.io/docker/manifesthash"))))'
    got_m=$(manifest_of "$aci" | jq -S "$strip")
    want_m=$(manifest_of $ACI | jq -S "$strip")
    if [ -n "$want_m" ] && [ "$got_m" = "$want_m" ] && grep -q '"/bin/suid"' <<<"$got_m"; then
      pass "OCI $input manifest equals the docker-archive one"
    else fail "OCI $input manifest differs"; fi
    rm -rf oci-tree
  else fail "convert OCI $input"; fi
done
finish
