#!/usr/bin/env bash
# `docker2aci serve` on a directory filled by a batch run with --discovery-url: found by
# appc's own client (`actool discover`), the ACI, signature and key downloaded with curl
# and verified with gpg; Range (one range, a suffix, past the end), ETag and
# Last-Modified; every hostile path (traversal, encoded dots, slashes and NUL, hidden
# names, planted links to a file and to a directory, a FIFO, an over-long URL and header)
# answered 4xx with the server still serving; an idle connection timed out while others
# are served; an empty directory gets its discovery page; SIGTERM exits 0.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"
mirror_key
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar

# start_serve DIR [FLAGS...]: docker2aci serve for DIR on port $SERVE_PORT or a free one;
# sets PORT, URL, SERVE_PID.
start_serve() {
  local dir=$1; shift
  PORT=${SERVE_PORT:-$(free_port)}
  URL="http://127.0.0.1:$PORT"
  "$DOCKER2ACI" serve --listen "127.0.0.1:$PORT" --discovery-url "$URL/" -o "$dir" "$@" \
    > "serve-$PORT.out" 2> "serve-$PORT.log" &
  SERVE_PID=$!
  SERVER_PIDS+=($SERVE_PID)
  wait_port "$PORT"
}
code() { curl -s --path-as-is -o /dev/null -w '%{http_code}' "$@"; }

mkdir site
SERVE_PORT=$(free_port)  # the site's URL names the port the server will listen on
d2a -q -o site --discovery-url "http://127.0.0.1:$SERVE_PORT/" --sign-key "$fpr" hello.tar > /dev/null
start_serve site
[ "$(head -1 "serve-$PORT.log" | jq -r .listening)" = "$URL/" ] && pass "says where it listens: $(head -1 "serve-$PORT.log")" ||
  fail "first line: $(head -1 "serve-$PORT.log")"

# --- discovery, download, signature ---
rm -rf got && mkdir got
if "$ACTOOL" discover --insecure --port "$PORT" --json "127.0.0.1/mix3/hello:latest,os=linux,arch=amd64" > got/discover.out 2>&1; then
  found=$(sed -n '/^{/,$p' got/discover.out)
  aci_url=$(jq -r '.ACIEndpoints[0].ACI' <<<"$found"); asc_url=$(jq -r '.ACIEndpoints[0].ASC' <<<"$found")
  key_url=$(jq -r '.PublicKeys[0]' <<<"$found")
  curl -sf -o got/image.aci "$aci_url" && curl -sf -o got/image.aci.asc "$asc_url" && curl -sf -o got/key.gpg "$key_url" &&
    mkdir -m 700 got/keyring && gpg --homedir got/keyring --batch --quiet --import got/key.gpg 2> /dev/null &&
    gpg --homedir got/keyring --batch --verify got/image.aci.asc got/image.aci 2> /dev/null &&
    cmp -s got/image.aci site/127.0.0.1/mix3/hello-latest-linux-amd64.aci &&
    pass "actool discover finds it; ACI, signature and key download; gpg verifies" ||
    fail "download or verify: $aci_url $asc_url $key_url"
  gpgconf --homedir got/keyring --kill gpg-agent 2>/dev/null || true
else fail "actool discover: $(tail -3 got/discover.out)"; fi

# --- Range, ETag, Last-Modified ---
aci=site/127.0.0.1/mix3/hello-latest-linux-amd64.aci
path=/127.0.0.1/mix3/hello-latest-linux-amd64.aci
size=$(stat -c %s "$aci")
curl -s -D headers -o part -H 'Range: bytes=100-199' "$URL$path"
[ "$(head -1 headers | tr -d '\r')" = "HTTP/1.1 206 Partial Content" ] &&
  grep -qi "^content-range: bytes 100-199/$size" headers && cmp -s part <(tail -c +101 "$aci" | head -c 100) &&
  pass "Range bytes=100-199: 206, those 100 bytes" || fail "range: $(cat headers)"
curl -s -o part -H 'Range: bytes=-10' "$URL$path"
cmp -s part <(tail -c 10 "$aci") && pass "Range bytes=-10: the last 10 bytes" || fail "suffix range"
curl -s -o part -H "Range: bytes=$((size - 5))-" "$URL$path"
cmp -s part <(tail -c 5 "$aci") && pass "Range from an offset to the end (a resumed download)" || fail "open range"
[ "$(code -H "Range: bytes=$size-" "$URL$path")" = 416 ] && pass "a range past the end: 416" || fail "416"
curl -s -D headers -o /dev/null "$URL$path"
etag=$(awk 'tolower($1) == "etag:" {print $2}' headers | tr -d '\r')
[ -n "$etag" ] && grep -qi '^last-modified: ' headers && grep -qi '^accept-ranges: bytes' headers &&
  [ "$(code -H "If-None-Match: $etag" "$URL$path")" = 304 ] &&
  pass "ETag $etag, Last-Modified; If-None-Match gives 304" || fail "etag: $(cat headers)"
[ "$(curl -s "$URL/127.0.0.1/mix3/hello?ac-discovery=1" | grep -c 'name="ac-discovery')" = 2 ] &&
  pass "any name's ?ac-discovery=1 gives the site's meta tags" || fail "discovery page"

# --- hostile requests ---
ln -s /etc/passwd site/127.0.0.1/mix3/passwd.aci
ln -s /etc site/etc
mkfifo site/127.0.0.1/mix3/fifo.aci
touch site/.d2a-0123456789.tmp.aci
bad=(/../etc/passwd /%2e%2e/etc/passwd /127.0.0.1/..%2fmix3/hello-latest-linux-amd64.aci
     /127.0.0.1%2fmix3%2fhello-latest-linux-amd64.aci "$path%00.txt" /.d2a-0123456789.tmp.aci
     /127.0.0.1/mix3/passwd.aci /etc/passwd.aci /etc/hostname /127.0.0.1/mix3/fifo.aci
     /127.0.0.1/mix3/Hello.aci /127.0.0.1//mix3/hello-latest-linux-amd64.aci /index.html/x.aci)
ok=1
for p in "${bad[@]}"; do
  c=$(timeout 10 curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL$p")
  case "$c" in 4??) ;; *) ok=0; echo "# $p: $c" ;; esac
done
[ $ok = 1 ] && pass "${#bad[@]} hostile paths answered 4xx, no link followed, the FIFO never opened blocking" || fail "hostile paths"
long=$(head -c 5000 /dev/zero | tr '\0' a)
c1=$(code "$URL/$long.aci"); c2=$(code -H "X-Big: $long$long$long$long$long$long$long" "$URL$path")
[[ $c1 == 4?? ]] && [[ $c2 == 4?? ]] && pass "over-long URL ($c1) and header ($c2) refused" || fail "long: $c1 $c2"
[ "$(code -X POST "$URL$path")" = 405 ] && pass "POST: 405" || fail "POST"
[ "$(code "$URL$path")" = 200 ] && pass "still serving after all of them" || fail "not serving"
kill -TERM $SERVE_PID; rc=0; wait $SERVE_PID || rc=$?
[ $rc = 0 ] && [ "$(tail -1 "serve-$PORT.log" | jq -r .stopped)" = SIGTERM ] && pass "SIGTERM: exit 0" ||
  fail "SIGTERM: rc=$rc $(tail -1 "serve-$PORT.log")"

# --- an idle client times out, others are served meanwhile ---
start_serve site --timeout 2
python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never ends its headers
start = time.time()
s.settimeout(30)
data = s.recv(100)
print("closed after %.0f s" % (time.time() - start))' "$PORT" > idle.txt &
idle=$!
sleep 0.5
[ "$(code "$URL$path")" = 200 ] && pass "served while another connection idles" || fail "starved"
wait $idle && grep -q "closed after [1-9] s" idle.txt && pass "the idle connection is dropped: $(cat idle.txt)" ||
  fail "idle: $(cat idle.txt)"
kill -TERM $SERVE_PID; wait $SERVE_PID || true

# --- an empty directory gets its page ---
mkdir empty
SERVE_PORT=
start_serve empty
curl -s "$URL/x/y?ac-discovery=1" | grep -q "<meta name=\"ac-discovery\" content=\"127.0.0.1 $URL/{name}-{version}-{os}-{arch}.{ext}\">" &&
  [ "$(code "$URL/x/y-1-linux-amd64.aci")" = 404 ] && pass "an empty directory: its discovery page, 404 for an ACI" ||
  fail "empty: $(curl -s "$URL/?ac-discovery=1")"
kill -TERM $SERVE_PID; wait $SERVE_PID || true
finish
