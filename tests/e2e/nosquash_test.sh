#!/usr/bin/env bash
# --nosquash: one ACI per layer, flat and uniquely named, each depending on the one below
# by name and that image's own labels, each with a pathWhitelist; rendered the appc way
# (py/render_aci.py) the set gives exactly the squashed tree, on whiteout and hard-link cases.
source "$(dirname "$0")/lib.sh"

python3 "$PY_DIR/fixtures.py" nosquash

mkdir squashed layered
d2a -o squashed img.tar > /dev/null
unpack_aci squashed/layered-app-2-linux-amd64.aci want
if d2a -o layered --nosquash img.tar > report.txt; then pass "--nosquash converts"; else fail "--nosquash"; fi

expected_files="layered-app-2-linux-amd64.aci
layered-app-layer0-2-linux-amd64.aci
layered-app-layer1-2-linux-amd64.aci
layered-app-layer2-2-linux-amd64.aci"
[ "$(ls layered)" = "$expected_files" ] && [ -z "$(find layered -mindepth 1 -type d)" ] &&
  pass "one flat file per layer" || fail "files: $(ls -R layered)"
[ "$(sed -n '/Generated/,$p' report.txt | tail -n +2 | sort)" = "$(ls layered | sed 's|^|layered/|')" ] &&
  pass "report lists every layer ACI" || fail "report: $(cat report.txt)"

# Dependencies: by name, with exactly the lower image's own labels.
ok=1
for i in 1 2 3; do
  if [ $i = 3 ]; then f=layered/layered-app-2-linux-amd64.aci; else f=layered/layered-app-layer$i-2-linux-amd64.aci; fi
  lower=layered/layered-app-layer$((i - 1))-2-linux-amd64.aci
  dep=$(manifest_of $f | jq -c '.dependencies')
  want=$(manifest_of $lower | jq -c '[{imageName: .name, labels: .labels}]')
  [ "$dep" = "$want" ] || { ok=0; echo "layer $i depends on $dep, want $want"; }
done
[ "$(manifest_of layered/layered-app-layer0-2-linux-amd64.aci | jq -c '.dependencies')" = null ] || ok=0
[ $ok = 1 ] && pass "each layer depends on the one below with its own labels" || fail "dependencies"

top=$(manifest_of layered/layered-app-2-linux-amd64.aci)
[ "$(jq -c '.app.ports' <<<"$top")" = "$(manifest_of squashed/layered-app-2-linux-amd64.aci | jq -c '.app.ports')" ] &&
  [ "$(jq -c '[.app.ports[].count]' <<<"$top")" = '[1,3]' ] && pass "top carries the app with port counts" || fail "top app: $top"
[ "$(manifest_of layered/layered-app-layer0-2-linux-amd64.aci | jq -c '.app')" = null ] && pass "lower layers carry no app" || fail "lower app"
wl=$(manifest_of layered/layered-app-layer1-2-linux-amd64.aci | jq -c '.pathWhitelist')
[ "$wl" = '["/data","/data/l1","/data/l2","/data/r","/data/rl","/etc","/etc/motd","/etc/passwd","/gone","/gone/x","/opq","/opq/old","/p1","/p2","/to-file","/to-file/in"]' ] &&
  pass "layer 1 pathWhitelist is the merged tree after it" || fail "layer 1 pathWhitelist: $wl"

if python3 "$PY_DIR/render_aci.py" layered/layered-app-2-linux-amd64.aci rendered; then
  if $TREE compare want/rootfs rendered/rootfs; then pass "rendered layers equal the squashed tree"
  else fail "rendered tree differs"; fi
else fail "rendering failed"; fi

# A hard link to a file of a lower layer: a layer ACI cannot hold it, and the error says so
# (not that the target is missing).
python3 "$PY_DIR/fixtures.py" nosquash-lower-link
mkdir lower-link
set +e; d2a -q --nosquash -o lower-link lower-link.tar > /dev/null 2> err; rc=$?; set -e
[ $rc = 1 ] && [ "$(cat err)" = "Error: layer 2/2: hard link www/index2.html points to www/index.html of a lower layer, which an ACI of one layer cannot hold (convert without --nosquash)" ] &&
  [ -z "$(ls lower-link)" ] && pass "a hard link to a lower layer: $(cat err)" || fail "lower link: rc=$rc $(cat err) $(ls lower-link)"
d2a -q -o lower-link lower-link.tar > /dev/null && pass "the same image converts squashed" || fail "squashed lower link"

# The umoci oracle image (deletions, replacements, hard links, opaque whiteouts), layered.
R=B/rootfs
umoci_start L B
mkdir -p $R/d/sub $R/keep && echo 1 > $R/d/sub/f && echo t > $R/keep/t && ln $R/keep/t $R/keep/l
setfattr -n user.k -v v $R/keep/t
umoci_commit L B
rm -rf $R/d && rm $R/keep/t && echo new > $R/keep/n && chmod 0700 $R/keep
umoci_commit L B
skopeo copy -q oci:L:t docker-archive:oracle.tar:test/layers:v1
mkdir o-squashed o-layered
d2a -o o-squashed oracle.tar > /dev/null || fail "squashed conversion of oracle.tar"
unpack_aci o-squashed/*.aci o-want
if d2a -o o-layered --nosquash oracle.tar > /dev/null &&
   python3 "$PY_DIR/render_aci.py" o-layered/test-layers-v1-linux-amd64.aci o-rendered &&
   $TREE compare o-want/rootfs o-rendered/rootfs; then
  pass "umoci image: rendered layers equal the squashed tree"
else fail "umoci image layered rendering"; fi
finish
