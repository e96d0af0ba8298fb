#!/usr/bin/env bash
# A mirroring job against the real registry: a batch with one missing image (the others
# convert, exit 1, the JSON says which), a second run that downloads nothing and skips
# unchanged images, the blob cache (reuse, corruption, two processes at once), shards.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"

python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar
python3 "$REPO_DIR/testdata/make_sample.py" date date.tar
python3 "$PY_DIR/fixtures.py" mirror-small
start_registry mirror
R=127.0.0.1:$mirror_PORT
skopeo copy -q --dest-tls-verify=false docker-archive:hello.tar docker://$R/mix3/hello:latest
skopeo copy -q --dest-tls-verify=false docker-archive:date.tar docker://$R/local/date:1.0
skopeo copy -q --dest-tls-verify=false docker-archive:small.tar docker://$R/small/app:1
cat > batch.txt <<EOT
# images mirrored every night
docker://$R/mix3/hello:latest
docker://$R/local/date:1.0

docker://$R/missing/image:1   # not pushed: must fail alone
docker://$R/small/app:1
EOT
blob_gets() { grep -c '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]* HTTP/1.1" 20[06] .*docker2aci' "$WORK/mirror/log" || true; }
run_batch() {  # run_batch OUT_DIR [args]: sets RC, JSON in $1.json
  local dir=$1; shift
  mkdir -p "$dir"
  set +e
  d2a --batch batch.txt --json --jobs 2 --insecure-allow-http -o "$dir" "$@" > "$dir.json" 2> "$dir.err"
  RC=$?
  set -e
}

run_batch out --cache-dir cache
first=$(blob_gets)
[ $RC = 1 ] && pass "batch with a missing image exits 1" || fail "batch exit $RC"
[ "$(jq -s 'map(select(.skipped == false)) | length' out.json)" = 3 ] && [ "$(ls out | wc -l)" = 3 ] &&
  pass "the other three converted" || fail "converted: $(cat out.json) $(ls out)"
jq -s -e 'map(select(.error)) | length == 1 and (.[0].reference | test("missing/image")) and (.[0].error | test("not found"))' out.json > /dev/null &&
  pass "JSON names the failure" || fail "JSON errors: $(cat out.json)"
jq -s -e 'map(select(.imageId)) | all(.imageId | test("^sha512-[0-9a-f]{128}$")) and all(.platform == "linux/amd64") and all(.manifestDigest | test("^sha256:"))' out.json > /dev/null &&
  pass "JSON carries image IDs, digests and platforms" || fail "JSON fields: $(cat out.json)"
for f in out/*.aci; do
  id=$(jq -r --arg p "$f" 'select(.path == $p) | .imageId' out.json)
  [ "$id" = "sha512-$(gzip -dc "$f" | sha512sum | cut -d' ' -f1)" ] || fail "imageId of $f"
done
[ "$first" -gt 0 ] && pass "first run downloaded $first blobs" || fail "no blob downloads counted"

before=$(stat -c %Y out/*.aci | md5sum)
run_batch out --cache-dir cache
[ $RC = 1 ] && [ "$(jq -s 'map(select(.skipped == true)) | length' out.json)" = 3 ] && pass "second run skips the 3 unchanged images" || fail "second run: $(cat out.json)"
[ "$(blob_gets)" = "$first" ] && pass "second run downloaded no blob" || fail "second run downloaded $(( $(blob_gets) - first )) blobs"
[ "$(stat -c %Y out/*.aci | md5sum)" = "$before" ] && pass "unchanged ACIs left alone" || fail "ACIs rewritten"

run_batch out --cache-dir cache --force
[ "$(jq -s 'map(select(.skipped == false)) | length' out.json)" = 3 ] && [ "$(blob_gets)" = "$first" ] &&
  pass "--force converts again from the cache, no download" || fail "--force: $(blob_gets) vs $first"

# A download killed long ago left its temp file: removed when the cache is next opened; a
# recent one (perhaps another process's live download) stays.
abandoned=cache/tmp/$(printf '%064d' 0).1.2 recent=cache/tmp/$(printf '%064d' 1).1.2
printf 'partial' > "$abandoned" && touch -d '2 days ago' "$abandoned"
printf 'partial' > "$recent"
run_batch out --cache-dir cache
[ ! -e "$abandoned" ] && [ -e "$recent" ] &&
  pass "abandoned cache temp files removed, recent ones kept" || fail "cache temps: $(ls cache/tmp)"
rm -f "$recent"

# A corrupt cache entry is noticed and fetched again.
victim=$(ls cache/blobs/sha256 | head -1)
printf 'garbage' >> "cache/blobs/sha256/$victim"
run_batch out --cache-dir cache --force
[ $RC = 1 ] && [ "$(blob_gets)" = $((first + 1)) ] && [ "$(sha256sum < "cache/blobs/sha256/$victim" | cut -d' ' -f1)" = "$victim" ] &&
  pass "corrupt cache entry replaced (one download)" || fail "corrupt cache: $(blob_gets) vs $first; $(cat out.err)"

# Two processes sharing one new cache at once.
rm -rf shared && (run_batch p1 --cache-dir shared) & pid1=$!
run_batch p2 --cache-dir shared
wait $pid1
[ "$(ls p1/*.aci | wc -l)" = 3 ] && [ "$(ls p2/*.aci | wc -l)" = 3 ] && pass "two processes sharing a cache both convert" || fail "shared cache: $(ls p1 p2)"
for f in p1/*.aci; do cmp -s "$f" "p2/$(basename "$f")" || fail "$f differs between the processes"; done
bad=0; for b in shared/blobs/sha256/*; do [ "$(sha256sum < "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || bad=1; done
[ $bad = 0 ] && [ -z "$(ls -A shared/tmp)" ] && pass "shared cache entries all verify, no temp files left" || fail "shared cache content"

# A cache file swapped while it is in use (another user of a shared cache, say): a layer
# that only deletes is replaced, again and again, by one deleting /etc/passwd. What was
# verified is what is used, so no conversion may lose /etc/passwd.
python3 "$PY_DIR/fixtures.py" mirror-swap
skopeo copy -q --dest-tls-verify=false docker-archive:swap.tar docker://$R/swap/app:1
mkdir swap-out
d2a -q --insecure-allow-http --cache-dir swapcache -o swap-out docker://$R/swap/app:1 > /dev/null ||
  fail "swap image: first conversion"
layer2=$(skopeo inspect --tls-verify=false --raw docker://$R/swap/app:1 | jq -r '.layers[1].digest' | cut -d: -f2)
cp "swapcache/blobs/sha256/$layer2" genuine.layer
( for _ in $(seq 20000); do
    [ -e stop-swapping ] && break
    cp tampered.layer swapcache/swap-a && mv -f swapcache/swap-a "swapcache/blobs/sha256/$layer2"
    cp genuine.layer swapcache/swap-b && mv -f swapcache/swap-b "swapcache/blobs/sha256/$layer2"
  done ) &
swapper=$!
lost=0 converted=0
for i in $(seq 10); do
  rm -rf swap-out swap-tree && mkdir swap-out
  if d2a -q --insecure-allow-http --force --cache-dir swapcache -o swap-out docker://$R/swap/app:1 > /dev/null 2> swap.err; then
    converted=$((converted + 1))
    unpack_aci swap-out/*.aci swap-tree
    [ -f swap-tree/rootfs/etc/passwd ] || lost=$((lost + 1))
  fi
done
touch stop-swapping; wait $swapper
[ $lost = 0 ] && [ $converted -ge 1 ] && pass "cache swapped during use: $converted of 10 runs converted, none lost /etc/passwd" ||
  fail "cache swap: $lost of $converted conversions lost /etc/passwd"

# Shards: a deterministic partition of the batch.
for k in 0 1 2; do run_batch shard$k --shard $k/3; done
all=$(cat shard0.json shard1.json shard2.json | jq -r .reference | sort)
[ "$all" = "$(grep -o 'docker://[^ ]*' batch.txt | sort)" ] && pass "3 shards cover the batch exactly once" || fail "shards: $all"
run_batch again --shard 1/3
[ "$(jq -r .reference again.json | sort)" = "$(jq -r .reference shard1.json | sort)" ] && pass "shards are stable" || fail "shard 1 changed"
finish
