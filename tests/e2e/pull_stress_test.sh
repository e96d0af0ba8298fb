#!/usr/bin/env bash
# Many pulls of images with several tiny layers from Debian's docker-registry, in parallel,
# with --parallel 1 and 8, with and without a shared --cache-dir: a layer's reader follows
# its download (ArrivingBlob), and no ordering of download and reader may turn a good blob
# into an error. Every pull must succeed and write the same bytes as the first.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"

ROUNDS=${STRESS_ROUNDS:-12}  # pulls per configuration, 4 at a time

# Every read that finds no bytes pauses 2 ms before the reader looks at the download's
# state (tests/e2e/preload/pause_at_eof.c): the interleaving in which a small blob is
# written and completed between a reader's empty read and its next look, which real
# scheduling gives once in thousands of pulls, happens in most pulls here. Under a
# sanitizer, whose runtime must come first, the shim comes after it.
cc -shared -fPIC -O2 -o pause_at_eof.so "$TESTS_DIR/preload/pause_at_eof.c" -ldl
PRELOAD="$WORK/pause_at_eof.so"
runtime=$(ldd "$DOCKER2ACI" | awk '/lib(a|t)san/ {print $3}')
[ -n "$runtime" ] && PRELOAD="$runtime:$PRELOAD"

python3 "$PY_DIR/fixtures.py" pull-stress
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar
start_registry plain
P=127.0.0.1:$plain_PORT
skopeo copy -q --dest-tls-verify=false docker-archive:mixed.tar docker://$P/stress/mixed:1
skopeo copy -q --dest-tls-verify=false docker-archive:tiny.tar docker://$P/stress/tiny:1
skopeo copy -q --dest-tls-verify=false docker-archive:hello.tar docker://$P/mix3/hello:latest

# One pull into out/NAME-CONFIG-I; its stderr kept on failure.
pull_one() {  # pull_one REF CONFIG I [flags...]
  local ref=$1 config=$2 i=$3; shift 3
  local dir="out/$(basename "${ref%%:*}")-$config-$i"
  mkdir -p "$dir"
  LD_PRELOAD="$PRELOAD" timeout 120 "$DOCKER2ACI" -q -o "$dir" --insecure-allow-http "$@" "docker://$P/$ref" \
    > "$dir.log" 2>&1 || { echo "exit $?" >> "$dir.log"; mv "$dir.log" "$dir.failed"; }
}
export -f pull_one
export DOCKER2ACI P PRELOAD

d2a_mark
for ref in stress/tiny:1 stress/mixed:1 mix3/hello:latest; do
  for parallel in 1 8; do
    for cache in none shared; do
      config="p$parallel-$cache"
      flags=(--parallel "$parallel")
      [ "$cache" = shared ] && flags+=(--cache-dir "$WORK/cache-$parallel")
      seq 1 "$ROUNDS" | xargs -P 4 -I{} bash -c 'pull_one "$@"' _ "$ref" "$config" {} "${flags[@]}"
      name=$(basename "${ref%%:*}")
      failed=$(find out -name "$name-$config-*.failed" | wc -l)
      if [ "$failed" -eq 0 ]; then pass "$ref, $config: $ROUNDS pulls, 4 at a time, all succeeded"
      else fail "$ref, $config: $failed of $ROUNDS pulls failed: $(cat out/"$name-$config"-*.failed | head -5 | tr '\n' ' ')"; fi
      n=$(find out -path "out/$name-$config-*/*.aci" | wc -l)
      contents=$(find out -path "out/$name-$config-*/*.aci" -exec sha256sum {} + | awk '{print $1}' | sort -u | wc -l)
      [ "$n" -eq "$ROUNDS" ] && [ "$contents" = 1 ] && pass "$ref, $config: every ACI the same bytes" ||
        fail "$ref, $config: $n ACIs, $contents different contents"
    done
  done
  # The same image with and without the cache, with --parallel 1 and 8: one content.
  [ "$(find out -path "out/$name-*/*.aci" -exec sha256sum {} + | awk '{print $1}' | sort -u | wc -l)" = 1 ] &&
    pass "$ref: the same ACI in every configuration" || fail "$ref: ACIs differ between configurations"
done
d2a_validate_new

# The registry still has every blob and the cache holds each once, verified.
for c in cache-1 cache-8; do
  bad=0
  for f in "$c"/blobs/sha256/*; do
    [ "$(sha256sum "$f" | cut -c1-64)" = "$(basename "$f")" ] || bad=$((bad + 1))
  done
  [ "$bad" -eq 0 ] && [ -z "$(ls -A "$c/tmp")" ] && pass "$c: every cached blob verifies, no download left in tmp/" ||
    fail "$c: $bad blobs do not verify; tmp/ holds $(ls -A "$c/tmp" | wc -l)"
done
finish
