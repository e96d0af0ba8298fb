#!/usr/bin/env bash
# The output directory as an appc discovery site, served by a plain static file server
# (Python's http.server: no code of ours), found by appc's own client (`actool discover`):
# signed images converted in two runs, at the server's root and under a path, layered
# images, the public key, and a name never converted that resolves to no file.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"
mirror_key

python3 "$PY_DIR/fixtures.py" discovery
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar

# serve DIR: a static file server for DIR on a free port; sets PORT.
serve() {
  PORT=$(free_port)
  python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$1" > "$WORK/http-$PORT.log" 2>&1 &
  SERVER_PIDS+=($!)
  wait_port "$PORT"
}

# check_discovered NAME VERSION: actool finds the ACI, signature and key; the ACI is the
# image asked for, valid, and signed by the discovered key.
check_discovered() {
  local name=$1 version=$2 found aci asc key
  rm -rf got && mkdir got
  if ! "$ACTOOL" discover --insecure --port "$PORT" --json "$name:$version,os=linux,arch=amd64" > got/discover.out 2>&1; then
    fail "$name: actool discover failed: $(tail -2 got/discover.out)"; return
  fi
  found=$(sed -n '/^{/,$p' got/discover.out)
  aci=$(jq -r '.ACIEndpoints[0].ACI' <<<"$found"); asc=$(jq -r '.ACIEndpoints[0].ASC' <<<"$found")
  key=$(jq -r '.PublicKeys[0]' <<<"$found")
  if ! curl -sf -o got/image.aci "$aci" || ! curl -sf -o got/image.aci.asc "$asc" || ! curl -sf -o got/key.gpg "$key"; then
    fail "$name: downloading $aci, $asc, $key"; return
  fi
  local manifest; manifest=$("$ACTOOL" cat-manifest got/image.aci)
  local labels; labels=$(jq -c '[.labels[] | select(.name != "os" and .name != "arch") | .value]' <<<"$manifest")
  mkdir -m 700 got/keyring
  gpg --homedir got/keyring --batch --quiet --import got/key.gpg 2> /dev/null
  if [ "$(jq -r .name <<<"$manifest")" = "$name" ] && [ "$labels" = "[\"$version\"]" ] &&
     "$ACTOOL" validate got/image.aci > /dev/null &&
     gpg --homedir got/keyring --batch --verify got/image.aci.asc got/image.aci 2> /dev/null; then
    pass "$name:$version discovered, fetched, valid, signature good ($aci)"
  else
    fail "$name:$version: manifest $(jq -c '{name, labels}' <<<"$manifest")"
  fi
  gpgconf --homedir got/keyring --kill gpg-agent 2>/dev/null || true
}

# --- a site at the server's root, filled by two runs ---
mkdir site
serve site
url="http://127.0.0.1:$PORT/"
printf '%s\n' "$WORK/hello.tar" "$WORK/api.tar" > run1.txt
d2a -q -o site --discovery-url "$url" --sign-key "$fpr" --jobs 2 --json --batch run1.txt > run1.json
[ "$(jq -r .discoveryName run1.json | sort | tr '\n' ' ')" = "127.0.0.1/mix3/hello:latest 127.0.0.1/team/api:2.4 " ] &&
  pass "--json reports the discovery names" || fail "discovery names: $(cat run1.json)"
d2a -q -o site --discovery-url "$url" --sign-key "$fpr" --json bar.tar hello.tar > run2.json
[ "$(jq -r 'select(.reference | endswith("hello.tar")) | .skipped' run2.json)" = true ] &&
  pass "an unchanged image stays as it is on the second run" || fail "second run: $(cat run2.json)"
check_discovered 127.0.0.1/mix3/hello latest
check_discovered 127.0.0.1/team/api 2.4
check_discovered 127.0.0.1/quay.io/foo/bar 1.0
page=$(curl -sf "http://127.0.0.1:$PORT/")
for want in '127.0.0.1/mix3/hello' '127.0.0.1/team/api' '127.0.0.1/quay.io/foo/bar' '3 images' \
    "served on port $PORT" 'look for <code>127.0.0.1</code> on port 80' "actool discover --insecure --port $PORT 127.0.0.1/"; do
  grep -qF "$want" <<<"$page" || fail "index page lacks '$want'"
done
! grep -q 'rkt trust\|rkt fetch' <<<"$page" && [ "$(grep -c '>signed<' <<<"$page")" = 3 ] &&
  pass "the index page lists the three images, signed, and says how discovery reaches a site on port $PORT (no rkt commands that would look on port 80)" ||
  fail "index page: $page"
# Without a port, the page tells rkt users how to trust and fetch.
mkdir noport
d2a -q -o noport --discovery-url https://mirror.example.com/aci --sign-key "$fpr" hello.tar > /dev/null
grep -qF '<pre>rkt trust --prefix mirror.example.com/aci</pre>' noport/index.html &&
  grep -qF '<pre>rkt fetch mirror.example.com/aci/mix3/hello:latest</pre>' noport/index.html && ! grep -q 'port' noport/index.html &&
  pass "a site on the default port: the page says how to trust and fetch" || fail "no-port page: $(cat noport/index.html)"
"$ACTOOL" discover --insecure --port "$PORT" --json "127.0.0.1/never/converted:1,os=linux,arch=amd64" > never.out 2>&1 || true
never=$(sed -n '/^{/,$p' never.out | jq -r '.ACIEndpoints[0].ACI')
[ -n "$never" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$never")" = 404 ] &&
  pass "a name never converted resolves to no file" || fail "never converted: $never"

# --- a site under a path, with layered images ---
mkdir -p www/aci
serve www
d2a -q -o www/aci --discovery-url "http://127.0.0.1:$PORT/aci" --sign-key "$fpr" --nosquash layered.tar hello.tar > /dev/null
check_discovered 127.0.0.1/aci/team/layered 3
check_discovered 127.0.0.1/aci/team/layered-layer0 3
check_discovered 127.0.0.1/aci/mix3/hello latest
deps=$("$ACTOOL" cat-manifest www/aci/127.0.0.1/aci/team/layered-3-linux-amd64.aci | jq -r '.dependencies[0].imageName')
[ "$deps" = 127.0.0.1/aci/team/layered-layer0 ] && pass "layers depend on each other by their discoverable names" ||
  fail "dependency: $deps"

# Bad site URLs are usage errors.
for bad in "ftp://x/" "http://Upper.example/" "http://x.example/a//b" "http://x.example/a?q=1" \
    "http://x.example:65536/" "http://x.example:00080/" "http://x.example:0/" "http://x.example:/" "http://x.example:8o/"; do
  set +e; d2a -q -o site --discovery-url "$bad" hello.tar > /dev/null 2> err; rc=$?; set -e
  [ $rc = 2 ] && grep -q 'discovery-url' err || fail "--discovery-url $bad: rc=$rc $(cat err)"
done
set +e; d2a -q -o site --discovery-url "http://x.example:00080/" hello.tar > /dev/null 2> err; set -e
[ "$(head -1 err)" = 'Error: --discovery-url http://x.example:00080/: the port must be a number from 1 to 65535, not "00080"' ] ||
  fail "bad port message: $(cat err)"
pass "bad site URLs refused (ports 65536, 00080, 0 among them)"
finish
