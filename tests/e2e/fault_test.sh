#!/usr/bin/env bash
# Network faults a real registry cannot be made to show (tests/e2e/py/fault_server.py):
# 429 with Retry-After, 503 then success, a connection dropped mid-blob (resumed with
# Range), a server that ignores Range, a blob with the wrong bytes, and a redirect to
# another host, which must not receive the credentials, the registry's CA or its client
# certificate; a pull killed mid-download.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"

python3 "$PY_DIR/fixtures.py" fault-store
PORT=$(free_port)
python3 "$PY_DIR/fault_server.py" "$PORT" store requests.log &
SERVER_PIDS+=($!)
wait_port "$PORT"
mkdir ref-out && d2a -o ref-out ref.tar > /dev/null && unpack_aci ref-out/*.aci want

pull() {  # pull NAME [extra args]: converts into out-NAME, sets RC and ERR
  local name=$1; shift
  rm -rf "out-${name//\//-}" && mkdir "out-${name//\//-}"
  set +e
  d2a -o "out-${name//\//-}" --debug --insecure-allow-http "$@" "docker://127.0.0.1:$PORT/$name:1" > out.log 2> err
  RC=$?
  cat out.log err >> all-output.log
  set -e
  ERR=$(cat err)
}
same_tree() {
  rm -rf got && unpack_aci "$(ls "out-${1//\//-}"/*.aci)" got && $TREE compare want/rootfs got/rootfs > /dev/null
}
requests() { grep -c " /v2/$1" requests.log || true; }

start=$(date +%s.%N)
pull r429/app
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
[ $RC = 0 ] && same_tree r429/app && pass "429 then success" || fail "429: $ERR"
[ "$(grep -c '/v2/r429/app/manifests/1 ' requests.log)" = 2 ] && [ "$(echo "$elapsed >= 1" | bc)" = 1 ] &&
  pass "Retry-After obeyed (${elapsed}s)" || fail "429 retry: $(grep r429 requests.log) after $elapsed s"
grep -qx "debug: 127.0.0.1:$PORT/r429/app:1: HTTP 429; retrying in 1000 ms (attempt 2 of 5)" err &&
  pass "--debug reports the retry: $(grep retrying err | head -1)" || fail "no retry notice: $ERR"

pull r503/app
[ $RC = 0 ] && same_tree r503/app && [ "$(grep -c '/v2/r503/app/manifests/1 ' requests.log)" = 3 ] &&
  pass "503 twice then success" || fail "503: $ERR"

pull drop/app
[ $RC = 0 ] && same_tree drop/app && pass "connection dropped mid-blob: converted" || fail "drop: $ERR"
# Every first request was dropped halfway: layer blobs resume where they stopped.
grep -q "GET /v2/drop/app/blobs/sha256:[0-9a-f]* range=bytes=[1-9][0-9]*- " requests.log &&
  pass "resumed with Range" || fail "no Range request: $(grep drop requests.log)"

pull norange/app
[ $RC = 0 ] && same_tree norange/app && pass "server ignoring Range: converted" || fail "norange: $ERR"

# A download that starts over must get the bytes it already has: should the registry send
# other ones (here a first half with other file data, which the scan may already have
# read), the pull fails, even though the blob as finally sent has the right digest.
pull swapped/app
[ $RC = 1 ] && grep -qx "Error: blob sha256:[0-9a-f]*: the registry sent other bytes when the download started over" err &&
  [ "$(grep -vc '^debug:\|^Downloaded ' err)" = 1 ] && [ -z "$(ls out-swapped-app)" ] &&
  pass "a restart with other bytes than the first attempt's is refused: $(grep '^Error:' err)" ||
  fail "swapped: rc=$RC $ERR $(ls out-swapped-app)"

# A blob in --cache-dir is in a file others can open, so its reader hashes it again. Here
# the top layer's cached file gets other (valid) file data after its download was verified,
# while the scan (one layer at a time) still waits for the bottom layer's second half:
# the pull must refuse it.
upper=cache-reread/blobs/sha256/$(sed -n 2p plain-layer-digests | cut -c8-)
mkdir out-reread
d2a_mark
timeout 60 "$DOCKER2ACI" -o out-reread --insecure-allow-http --cache-dir cache-reread --threads 1 \
  "docker://127.0.0.1:$PORT/slow/app:1" > /dev/null 2> reread.err &
reread_pid=$!
for _ in $(seq 30); do [ -f "$upper" ] && break; sleep 0.1; done
python3 "$PY_DIR/checks.py" rewrite-upper "$upper"
RC=0
wait $reread_pid || RC=$?
d2a_validate_new
[ $RC = 1 ] && grep -q "digest mismatch" reread.err && [ -z "$(ls out-reread)" ] &&
  pass "a cached blob changed after its download is refused by its reader: $(grep '^Error:' reread.err)" ||
  fail "reread: rc=$RC $(cat reread.err) $(ls out-reread)"

pull badblob/app
[ $RC = 1 ] && grep -q 'digest mismatch' err && [ "$(wc -l < err)" = 1 ] && [ -z "$(ls out-badblob-app)" ] &&
  pass "wrong blob bytes rejected, nothing left: $ERR" || fail "badblob: rc=$RC $ERR $(ls out-badblob-app)"

pull auth/redirect/app --username u
[ $RC = 1 ] && grep -q 'needs --password-stdin or DOCKER2ACI_PASSWORD' err && pass "no password: clear error" || fail "no password: $ERR"
DOCKER2ACI_PASSWORD=pw-7f3a9c-secret pull auth/redirect/app --username u
[ $RC = 0 ] && same_tree auth/redirect/app && pass "redirected blobs converted" || fail "redirect: $ERR"
grep -q "/v2/auth/redirect/app/blobs/.* auth=yes host=127.0.0.1" requests.log &&
  ! grep -q "auth=yes host=localhost" requests.log && grep -q "auth=no host=localhost" requests.log &&
  pass "the redirect target got no Authorization" || fail "credentials leaked: $(grep redirect requests.log)"
# Every pull's stdout and stderr (all-output.log) and the server's log of what it received.
if grep -rqF -e 'pw-7f3a9c-secret' -e 'dTpwdy03ZjNhOWMtc2VjcmV0' all-output.log requests.log out-*; then fail "credentials in output"
else pass "credentials never printed ($(wc -l < all-output.log) lines of output searched)"; fi

# A blob redirected to another host that then asks for a token from a realm of its own:
# the registry never named that realm, so the credentials must not go there.
DOCKER2ACI_PASSWORD=pw-7f3a9c-secret pull auth/foreign/app --username u
[ $RC = 1 ] && grep -q 'unauthorized at localhost' err && [ "$(wc -l < err)" = 1 ] &&
  pass "a 401 from the redirect target is an error: $ERR" || fail "foreign realm: rc=$RC $ERR"
grep -q "GET /v2/auth/foreign/app/blobs/.* auth=yes host=127.0.0.1" requests.log &&
  ! grep -q "/foreign-token" requests.log && ! grep -q "auth/foreign/app/.* auth=yes host=localhost" requests.log &&
  pass "the foreign realm and the redirect target saw no credentials" ||
  fail "credentials followed a foreign realm: $(grep -e foreign requests.log)"

# A blob whose descriptor gives no size, streamed without end: stopped at the limit, and
# nothing kept in the cache or TMPDIR. The download stops at the limit, and so does the
# scan reading the blob as it arrives (with the other layer's bytes, the image's layers
# pass it first): whichever comes first is the error.
mkdir -p cache-endless tmp-endless
TMPDIR=$PWD/tmp-endless pull endless/app --max-unpacked-size 5000000 --cache-dir cache-endless
[ $RC = 1 ] && [ "$(grep -c '^Error:' err)" = 1 ] &&
  grep -Eqx "Error: (blob sha256:[0-9a-f]{64}: the registry sent more than 5000000 bytes \(--max-unpacked-size\)|layer 1/2: the image's layers add up to more than 5000000 bytes uncompressed)" err && [ -z "$(find cache-endless/tmp tmp-endless -type f)" ] &&
  [ -z "$(ls out-endless-app)" ] && pass "endless blob stopped: $ERR" ||
  fail "endless: rc=$RC $ERR $(find cache-endless tmp-endless -type f)"
layer_gets() { grep -F -f layer-digests requests.log | grep -c "/v2/huge/app/blobs/" || true; }
before=$(layer_gets)
pull huge/app
after=$(layer_gets)
[ $RC = 1 ] && grep -q 'descriptor gives 1125899906842624 bytes, more than the limit' err &&
  [ "$before" = 0 ] && [ "$after" = 0 ] && pass "an absurd declared size is refused before any layer download: $ERR" ||
  fail "huge: rc=$RC $ERR ($before -> $after blob requests)"

# Over TLS: the registry's own CA (--cert-dir) and client certificate are for the registry
# only. A blob redirected to another host ("localhost", same server) is verified against the
# system store alone, and that host is never shown the client certificate.
make_ca
( cd tls && openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=d2a client" 2>/dev/null &&
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.cert -days 2 2>/dev/null )
TLS_PORT=$(free_port)
mkdir -p "certs/127.0.0.1:$TLS_PORT"
cp tls/ca.crt tls/client.cert tls/client.key "certs/127.0.0.1:$TLS_PORT/"
python3 "$PY_DIR/fault_server.py" "$TLS_PORT" store tls-requests.log tls &
SERVER_PIDS+=($!)
wait_port "$TLS_PORT"
tls_pull() {  # tls_pull OUT SYSTEM_CA_FILE: sets RC and ERR
  rm -rf "$1" && mkdir "$1"
  set +e
  SSL_CERT_FILE=$2 SSL_CERT_DIR=/nonexistent d2a -o "$1" -q --cert-dir certs \
    "docker://127.0.0.1:$TLS_PORT/redirect/app:1" > /dev/null 2> err
  RC=$?
  set -e
  ERR=$(cat err)
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout tls/other-ca.key -out tls/other-ca.crt -days 2 \
  -subj "/CN=some other CA" 2>/dev/null
tls_pull out-tls-ca "$PWD/tls/other-ca.crt"
[ $RC = 1 ] && grep -q "^Error: .*localhost:$TLS_PORT: .*certificate" err && [ "$(wc -l < err)" = 1 ] &&
  [ -z "$(ls out-tls-ca)" ] && grep -q "GET /v2/redirect/app/manifests/1 .* cert=yes" tls-requests.log &&
  pass "the registry's CA is not trusted for the host it redirects to: $ERR" ||
  fail "registry CA applied to the redirect target: rc=$RC $ERR $(cat tls-requests.log)"
: > tls-requests.log
tls_pull out-tls "$PWD/tls/ca.crt"
[ $RC = 0 ] && rm -rf got && unpack_aci out-tls/*.aci got && $TREE compare want/rootfs got/rootfs > /dev/null &&
  grep -q "GET /v2/redirect/app/blobs/.* host=127.0.0.1:$TLS_PORT cert=yes" tls-requests.log &&
  grep -q "GET /v2/redirect/app/blobs/.* host=localhost:$TLS_PORT cert=no" tls-requests.log &&
  ! grep -q "host=localhost:$TLS_PORT cert=yes" tls-requests.log &&
  pass "the client certificate went to the registry only, not to the redirect target" ||
  fail "client certificate scope: rc=$RC $ERR $(cat tls-requests.log)"

# A stalled download is reported with --debug long before curl's one-minute limit ends it;
# killed then, its partial blob stays in the cache's tmp/ and the next pull of that blob
# (same digest, another repository) resumes it with Range instead of starting over.
mkdir -p cache-stall
"$DOCKER2ACI" -o out-stall --debug --insecure-allow-http --cache-dir cache-stall \
  "docker://127.0.0.1:$PORT/stall/app:1" > /dev/null 2> stall.err &
victim=$!
mkdir -p out-stall
for _ in $(seq 250); do grep -q "no data for" stall.err && break; sleep 0.1; done
kill -9 "$victim"; wait "$victim" 2> /dev/null || true
grep -Eq "^debug: blob sha256:[0-9a-f]{64}: 127.0.0.1:$PORT: no data for 1[0-9] s \([0-9]+ bytes so far\)$" stall.err &&
  pass "a stall is reported: $(grep 'no data' stall.err | head -1)" || fail "no stall notice: $(cat stall.err)"
partial=$(find cache-stall/tmp -type f -size +100k)
partial_size=$(stat -c %s $partial 2> /dev/null || echo none)
[ -n "$partial" ] && pass "the killed pull's partial blob is in the cache: $partial_size bytes" ||
  fail "no partial: $(ls -la cache-stall/tmp)"
pull plain/app --cache-dir cache-stall
[ $RC = 0 ] && same_tree plain/app && grep -q "GET /v2/plain/app/blobs/sha256:[0-9a-f]* range=bytes=$partial_size- " requests.log &&
  [ -z "$(find cache-stall/tmp -type f)" ] && pass "the next pull resumed it with Range and left tmp/ empty" ||
  fail "resume: rc=$RC $ERR $(grep plain/app requests.log) $(ls cache-stall/tmp)"

# A pull that fails (one layer's bytes are wrong) while another layer's download is
# stalled ends at once: the stalled transfer is cancelled, not left to the server's 30 s
# stall or curl's one-minute limit, and the error is the wrong bytes, not the cancel.
start=$(date +%s.%N)
pull stallbad/app
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
[ $RC = 1 ] && grep -q '^Error: blob sha256:[0-9a-f]*: digest mismatch: got sha256:' err &&
  [ "$(grep -vc '^debug:' err)" = 1 ] && [ -z "$(ls out-stallbad-app)" ] &&
  [ "$(echo "$elapsed < 20" | bc)" = 1 ] &&
  pass "a failed pull cancels its stalled download: exit 1 after $(printf %.1f "$elapsed") s: $(grep -v '^debug:' err)" ||
  fail "stallbad: rc=$RC after $elapsed s: $ERR"

# pull NAME, whose layer N/M holds an entry the scan refuses while a download stalls for
# 30 s: that entry is the one error, at once (no stall notice), and nothing is written.
refused_at_once() {
  pull "$1"
  [ $RC = 1 ] && [ -z "$(ls "out-${1//\//-}")" ] &&
    grep -qx "Error: layer $2: whiteout \".wh.bad\" used as a directory in .wh.bad/x" err &&
    [ "$(grep -c '^Error:' err)" = 1 ] && ! grep -q "no data for" err &&
    pass "$3: $(grep '^Error:' err)" || fail "$1: rc=$RC $ERR"
}
# A layer is scanned while it arrives: the bad entry is in the first half of a blob whose
# second half never comes, and the stalled download is cancelled.
refused_at_once stall/badentry 1/1 "a layer is scanned as it arrives"
# A layer that fails while the next one's download is stalled: the stalled download is
# stopped (its reader would wait for bytes behind the server's 30 s stall, then retries).
refused_at_once stall/badbelow 1/2 "a failed layer stops the download of the next"

# A shared cache: files follow the umask (002: the group can read and replace them), a
# cache whose tmp is a file is named as such, and a blob that cannot be moved into the
# cache (another user's directory) is an error that leaves no copy in tmp/.
mkdir cache-shared
(umask 002 && pull plain/app --cache-dir cache-shared)
modes=$(find cache-shared/blobs -type f -printf '%m\n' | sort -u | tr '\n' ' ')
[ "$modes" = "664 " ] && pass "cache files follow the umask: $modes" || fail "cache modes: $modes"
mkdir cache-tmpfile && touch cache-tmpfile/tmp
pull plain/app --cache-dir cache-tmpfile
[ $RC = 1 ] && [ "$ERR" = "Error: cache directory cache-tmpfile: cache-tmpfile/tmp is not a directory" ] &&
  pass "a tmp that is a file: $ERR" || fail "tmp file: rc=$RC $ERR"
if [ "$(id -u)" = 0 ]; then
  mkdir -p cache-foreign/tmp cache-foreign/blobs/sha256 out-foreign
  chmod 777 cache-foreign/tmp out-foreign && chmod 755 "$WORK" cache-foreign/blobs/sha256
  set +e
  setpriv --reuid=65534 --regid=65534 --clear-groups "$DOCKER2ACI" -q -o out-foreign --insecure-allow-http \
    --cache-dir cache-foreign "docker://127.0.0.1:$PORT/plain/app:1" > /dev/null 2> err
  RC=$?
  set -e
  grep -Eq "^Error: cache: storing sha256:[0-9a-f]{64} in cache-foreign/blobs/sha256: Permission denied$" err &&
    [ $RC = 1 ] && [ -z "$(find cache-foreign/tmp out-foreign -mindepth 1)" ] &&
    pass "a blob the cache cannot take: $(cat err), nothing left in tmp/" ||
    fail "foreign cache: rc=$RC $(cat err) $(find cache-foreign/tmp out-foreign -mindepth 1)"
fi

# Killed (SIGKILL: no handler runs) while a layer is half downloaded: layers are spooled to
# unnamed files and the ACI is unnamed until complete, so nothing is left anywhere.
mkdir tmp-kill out-kill
TMPDIR=$PWD/tmp-kill "$DOCKER2ACI" -o out-kill -q --insecure-allow-http \
  "docker://127.0.0.1:$PORT/stall/app:1" > /dev/null 2>&1 &
victim=$!
for _ in $(seq 100); do grep -q "/stall/app/blobs/" requests.log && break; sleep 0.1; done
sleep 1
kill -9 "$victim"
wait "$victim" 2> /dev/null || true
stalled=$(grep -c "/stall/app/blobs/" requests.log || true)
[ "$stalled" -ge 1 ] && [ -z "$(find tmp-kill out-kill -mindepth 1)" ] &&
  pass "killed mid-download: nothing left in TMPDIR or the output directory" ||
  fail "killed pull left: $(find tmp-kill out-kill -mindepth 1) ($stalled blob requests)"
finish
