#!/usr/bin/env bash
# A mirror's cache and output directories are written by other users and other shards.
# As such a user would: links and hard links planted in the cache lead nothing outside it;
# FIFOs, sockets and directories at blob names neither block nor break a pull; a planted
# partial download of wrong bytes is not trusted; two images that map to one file name
# never replace each other across runs and shards (the first ACI and its signature stay
# byte for byte); names at the NAME_MAX boundary never leave an ACI without its signature;
# a shard's images do not depend on the rest of the batch.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
echo "pinentry-program /bin/false" > "$GNUPGHOME/gpg-agent.conf"
trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true; stop_servers; cleanup' EXIT
gpg --batch --quiet --passphrase '' --quick-gen-key 'mirror <mirror@example.invalid>' rsa2048 sign never 2> /dev/null
fpr=$(gpg --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')

python3 "$PY_DIR/fixtures.py" shared-dirs
start_registry plain
R=127.0.0.1:$plain_PORT
start_registry second  # the same repository on another host
S=127.0.0.1:$second_PORT
skopeo copy -q --dest-tls-verify=false docker-archive:app.tar docker://$R/foo/app:1
skopeo copy -q --dest-tls-verify=false docker-archive:app.tar docker://$S/foo/app:1
for name in dashdash dash taglinux namelinux short digest; do
  tag=$(tar -xOf $name.tar index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"] // empty' | sed 's|^docker.io/||')
  [ -n "$tag" ] || tag=$(tar -xOf $name.tar manifest.json | jq -r '.[0].RepoTags[0]')
  skopeo copy -q --dest-tls-verify=false docker-archive:$name.tar "docker://$R/$tag"
done
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://$R/foo/app:tagged-for-push)
config=$(skopeo inspect --tls-verify=false --raw docker://$R/foo/app:1 | jq -r .config.digest | cut -d: -f2)
layer=$(skopeo inspect --tls-verify=false --raw docker://$R/foo/app:1 | jq -r '.layers[1].digest' | cut -d: -f2)
layer_size=$(skopeo inspect --tls-verify=false --raw docker://$R/foo/app:1 | jq -r '.layers[1].size')
mkdir ref && d2a -q -o ref docker://$R/foo/app:1 --insecure-allow-http > /dev/null && unpack_aci ref/*.aci want

pull() {  # pull CACHE OUT [flags...]: sets RC, ERR (stderr), with a 60 s limit
  local cache=$1 out=$2; shift 2
  mkdir -p "$out"
  set +e
  timeout 60 "$DOCKER2ACI" -q --insecure-allow-http --cache-dir "$cache" -o "$out" "$@" \
    "docker://$R/foo/app:1" > /dev/null 2> err
  RC=$?
  set -e
  ERR=$(cat err)
}
same_tree() { rm -rf got && unpack_aci "$1"/*.aci got && $TREE compare want/rootfs got/rootfs > /dev/null; }
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# --- 1. links in the cache lead nothing outside it ---
# A victim directory with files named as downloads and others, all old enough to be
# "abandoned" if the cache followed a link to it.
make_victim() {
  rm -rf victim && mkdir victim
  printf 'precious' > "victim/$layer.1.2"
  printf 'notes' > victim/notes.txt
  touch -d '2 days ago' victim/*
}
for link in tmp blobs blobs/sha256; do
  make_victim
  before=$(sums victim)
  rm -rf cache-link && mkdir -p "cache-link/$(dirname "$link")"
  ln -s "$WORK/victim" "cache-link/$link"
  pull cache-link out-link
  [ $RC = 1 ] && [ "$ERR" = "Error: cache directory cache-link: cache-link/$link is a symbolic link, not a directory" ] &&
    [ "$(sums victim)" = "$before" ] &&
    pass "a symlinked $link/: refused naming it ($ERR), the directory behind it byte for byte" ||
    fail "symlinked $link: rc=$RC $ERR; victim: $(ls -la victim)"
done
# A hard link to a file outside, planted in tmp/ under a partial download's name.
make_victim
printf 'root:x:0:0::/root:/bin/sh\n' > victim/passwd
before=$(sums victim)
rm -rf cache-hl && mkdir -p cache-hl/tmp
ln victim/passwd "cache-hl/tmp/$layer.1.2"
ln victim/passwd "cache-hl/tmp/$layer.3.4" && touch -d '2 days ago' "cache-hl/tmp/$layer.3.4"
pull cache-hl out-hl --debug
checks="$([ $RC = 0 ] || echo "exit $RC") $([ "$(sums victim)" = "$before" ] || echo "victim changed")"
checks+=" $([ -e "cache-hl/tmp/$layer.1.2" ] && [ -e "cache-hl/tmp/$layer.3.4" ] || echo "a link removed") $(same_tree out-hl || echo "wrong tree")"
for note in "not resumed cache-hl/tmp/$layer.1.2" "left alone cache-hl/tmp/$layer.3.4"; do
  grep -qxF "debug: cache: $note (a file with 3 links)" err || checks+=" no note \"$note\""
done
[ -z "${checks// /}" ] &&
  pass "hard links planted in tmp/: neither resumed nor removed, said in --debug; the file they share byte for byte" ||
  fail "hard link: $checks; stderr: $(grep -v 'GET\|HTTP' err | tr '\n' ' ')"

# --- 2. FIFOs, sockets and directories at blob names never block or break a pull ---
plant() {  # plant KIND PATH
  case $1 in
    fifo) mkfifo "$2" ;;
    socket) python3 "$PY_DIR/net.py" unix-socket "$2" ;;
    directory) mkdir -p "$2/inside" && echo keep > "$2/inside/file" ;;
  esac
}
for kind in fifo socket directory; do
  for which in config layer; do
    blob=$([ $which = config ] && echo "$config" || echo "$layer")
    rm -rf cache-$kind out-$kind && mkdir -p cache-$kind/blobs/sha256
    pull cache-$kind out-$kind   # fills the cache; the image is then unchanged
    rm -f "cache-$kind/blobs/sha256/$blob" && plant $kind "cache-$kind/blobs/sha256/$blob"
    for run in unchanged forced; do
      flags=(); [ $run = forced ] && flags=(--force)
      start=$(date +%s)
      pull cache-$kind out-$kind "${flags[@]}"
      took=$(( $(date +%s) - start ))
      if [ $RC = 0 ] && same_tree out-$kind; then
        pass "a $kind at the $which blob's name, $run image: exit 0 in ${took}s, the right tree"
      else
        fail "a $kind at the $which blob ($run): rc=$RC (124 is a hang) $ERR"
      fi
    done
    if [ $kind = directory ]; then
      [ "$(cat "cache-$kind/blobs/sha256/$blob/inside/file")" = keep ] && pass "the directory at the $which blob's name left as it was" ||
        fail "directory at $which blob touched"
    elif [ $which = layer ]; then  # the layer is fetched again (forced) and replaces it
      [ -f "cache-$kind/blobs/sha256/$blob" ] && [ "$(sha256sum < "cache-$kind/blobs/sha256/$blob" | cut -c1-64)" = "$blob" ] &&
        pass "the $kind at the layer's name replaced by the verified blob" || fail "$kind not replaced: $(ls -la cache-$kind/blobs/sha256/)"
    fi
  done
done

# --- a planted partial of wrong bytes under the blob's name is not trusted ---
for planted in prefix whole; do
  rm -rf cache-wrong out-wrong && mkdir -p cache-wrong/tmp
  n=$([ $planted = prefix ] && echo $((layer_size / 2)) || echo "$layer_size")
  head -c "$n" /dev/urandom > "cache-wrong/tmp/$layer.1.2"
  pull cache-wrong out-wrong
  [ $RC = 0 ] && same_tree out-wrong && [ "$(sha256sum < "cache-wrong/blobs/sha256/$layer" | cut -c1-64)" = "$layer" ] &&
    [ -z "$(ls -A cache-wrong/tmp)" ] &&
    pass "a planted partial of wrong bytes ($planted, $n bytes): fetched again in full, right tree, the cached blob verifies" ||
    fail "wrong partial ($planted): rc=$RC $ERR $(ls -la cache-wrong/tmp)"
done

# --- 3. two images, one file name: never replaced across runs and shards ---
# convert_pair OUT FIRST SECOND: FIRST converted and signed, then SECOND into the same
# directory (also with --force): exit 1 naming both and the file; the first pair intact.
convert_pair() {
  local out=$1 first=$2 second=$3
  rm -rf "$out" && mkdir "$out"
  d2a -q --insecure-allow-http -o "$out" --sign-key "$fpr" "docker://$first" > /dev/null || { fail "$first: first conversion"; return; }
  local file; file=$(cd "$out" && ls *.aci)
  local before; before=$(sums "$out")
  for flags in "" --force; do
    set +e; d2a -q --insecure-allow-http -o "$out" --sign-key "$fpr" $flags "docker://$second" > /dev/null 2> err; local rc=$?; set -e
    if [ $rc = 1 ] && [ "$(sums "$out")" = "$before" ] && [ "$(wc -l < err)" = 1 ] &&
       grep -qF "$out/$file was made from " err && grep -qF "$(cut -d@ -f1 <<<"$first" | sed 's/:[^:/]*$//')" err; then
      pass "$second after $first ${flags:-(no flag)}: exit 1, $file and its signature byte for byte: $(cat err)"
    else
      fail "$second after $first $flags: rc=$rc $(cat err); $(ls "$out")"
    fi
  done
}
convert_pair pair-host "$R/foo/app:1" "$S/foo/app:1"
convert_pair pair-dash "$R/team/my--app:1" "$R/team/my-app:1"
convert_pair pair-linux "$R/foo/app:1-linux" "$R/foo/app-1:linux"
convert_pair pair-digest "$R/foo/app@$digest" "$R/foo:app"
convert_pair pair-digest-rev "$R/foo:app" "$R/foo/app@$digest"
# The same reference again replaces its own ACI (--force), and two spellings of it too.
d2a -q --insecure-allow-http -o pair-host --sign-key "$fpr" --force "docker://$R/foo/app:1" > /dev/null &&
  pass "the same reference replaces its own ACI" || fail "same reference refused: $(cat err)"
# Two shards of one batch at once, into one directory: one image's ACI and signature, the
# other image refused, whichever shard and order.
printf 'docker://%s\n' "$R/foo/app:1" "$S/foo/app:1" > collide.txt
for round in 1 2 3; do
  rm -rf shards && mkdir shards
  pids=()
  for k in 0 1; do
    ( set +e; timeout 120 "$DOCKER2ACI" -q --insecure-allow-http -o shards --sign-key "$fpr" --batch collide.txt \
        --shard $k/2 --json > shard$k.json 2> shard$k.err; echo $? > shard$k.rc ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  errors=$(cat shard0.json shard1.json | jq -r 'select(.error) | .error' | wc -l)
  made=$(cat shard0.json shard1.json | jq -r 'select(.error | not) | .reference')
  from=$(tar -xzOf shards/foo-app-1-linux-amd64.aci manifest | jq -r '.annotations[] | select(.name == "appc.io/docker/originalname") | .value')
  if [ "$errors" = 1 ] && [ "docker://$from" = "$made" ] && [ "$(ls shards)" = "foo-app-1-linux-amd64.aci
foo-app-1-linux-amd64.aci.asc" ] && gpg --batch --verify shards/foo-app-1-linux-amd64.aci.asc shards/foo-app-1-linux-amd64.aci 2> /dev/null; then
    pass "two shards at once, round $round: $from converted and signed, the other refused"
  else
    fail "shards round $round: $errors errors, made $made, ACI from $from; $(cat shard*.err)"
  fi
done

# A discovery site nests ACIs in directories others sharing the site may write: a link
# planted there sends nothing anywhere else, for a new image or an unchanged one.
for state in new unchanged; do
  make_victim
  before=$(sums victim)
  rm -rf site && mkdir site
  if [ $state = unchanged ]; then
    d2a -q -o site --discovery-url https://mirror.example/ --sign-key "$fpr" app.tar > /dev/null
    rm -rf site/mirror.example/foo
  fi
  ln -s "$WORK/victim" site/mirror.example/foo 2> /dev/null || { mkdir -p site/mirror.example && ln -s "$WORK/victim" site/mirror.example/foo; }
  set +e; d2a -q -o site --discovery-url https://mirror.example/ --sign-key "$fpr" app.tar > /dev/null 2> err; rc=$?; set -e
  [ $rc = 1 ] && [ "$(cat err)" = "Error: site/mirror.example/foo is a symbolic link, not a directory: nothing is written through it" ] &&
    [ "$(sums victim)" = "$before" ] &&
    pass "a link planted in a discovery site's tree ($state image): refused, nothing written through it" ||
    fail "site link ($state): rc=$rc $(cat err); victim: $(ls -A victim)"
done

# --- 4. names at the NAME_MAX boundary: never an ACI without its signature ---
for total in 234 235 236 239 240 251 252 255; do
  rm -rf long && mkdir long
  set +e; d2a -q -o long --sign-key "$fpr" long$total.tar > /dev/null 2> err; rc=$?; set -e
  aci=$(find long -name '*.aci' | wc -l); asc=$(find long -name '*.aci.asc' | wc -l)
  if [ $((total + 4)) -le 255 ]; then
    [ $rc = 0 ] && [ $aci = 1 ] && [ $asc = 1 ] && [ -z "$(find long -name '.*')" ] &&
      pass "a $total-byte file name: ACI and signature published" || fail "$total bytes: rc=$rc $aci ACI, $asc signatures $(cat err)"
  else
    [ $rc = 1 ] && [ $aci = 0 ] && [ -z "$(ls -A long)" ] && grep -q "file name too long ($((total + 4)) bytes; at most 255" err &&
      pass "a $total-byte file name (signature $((total + 4))): refused before anything is published: $(cut -c1-60 err)..." ||
      fail "$total bytes: rc=$rc $aci ACI, $asc signatures, $(ls -A long) $(cat err)"
  fi
done

# --- shards are stable whatever else the batch holds ---
refs=()
for i in $(seq 1 12); do refs+=("docker://$R/stable/img$i:1"); done
printf '%s\n' "${refs[@]}" > batch-a.txt
{ printf '%s\n' "${refs[@]}" | tac; for i in $(seq 13 20); do echo "docker://$R/stable/img$i:1"; done; } > batch-b.txt
members() {  # members BATCH K: the references shard K of 3 takes (they all fail: not pushed)
  set +e; "$DOCKER2ACI" -q --insecure-allow-http -o shard-out --json --batch "$1" --shard "$2/3" 2> /dev/null |
    jq -r .reference | sort; set -e
}
mkdir -p shard-out
ok=1
for k in 0 1 2; do
  a=$(members batch-a.txt $k); b=$(members batch-b.txt $k | grep -Fx -f batch-a.txt || true)
  [ "$a" = "$b" ] || ok=0
done
[ $ok = 1 ] && [ "$( (for k in 0 1 2; do members batch-a.txt $k; done) | sort | uniq | wc -l)" = 12 ] &&
  pass "each reference keeps its shard when the batch is reordered and extended" || fail "shard membership changed"
finish
