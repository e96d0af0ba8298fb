#!/usr/bin/env bash
# Pulls from Debian's docker-registry on 127.0.0.1 in three configurations (plain HTTP;
# TLS with a generated CA and htpasswd Basic auth; token auth with tests/e2e/py/token_server.py),
# with images pushed by skopeo as schema2, OCI, and a manifest list (amd64 + arm64).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/registry_lib.sh"

python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar
python3 "$PY_DIR/fixtures.py" registry
make_ca
htpasswd -Bbn alice 's3cret,"pass"' > htpasswd
start_registry plain
start_registry secure \
  "  tls: {certificate: $WORK/tls/server.crt, key: $WORK/tls/server.key}" \
  "auth: {htpasswd: {realm: test-realm, path: $WORK/htpasswd}}"
TOKEN_PORT=$(free_port)
/usr/bin/python3 "$PY_DIR/token_server.py" "$TOKEN_PORT" tls/token.key tls/token.crt \
  test-service test-issuer bob 'b0b pass' idt-5f0c9e >> token.log 2>&1 &
SERVER_PIDS+=($!)
wait_port "$TOKEN_PORT"
start_registry token \
  "auth: {token: {realm: \"http://127.0.0.1:$TOKEN_PORT/token\", service: test-service, issuer: test-issuer, rootcertbundle: $WORK/tls/token.crt}}"

P=127.0.0.1:$plain_PORT
S=127.0.0.1:$secure_PORT
T=127.0.0.1:$token_PORT
skopeo copy -q --dest-tls-verify=false docker-archive:hello.tar docker://$P/mix3/hello:latest
skopeo copy -q --dest-tls-verify=false --format oci docker-archive:hello.tar docker://$P/mix3/hello-oci:1
skopeo copy -q --dest-tls-verify=false --all oci:multi:1.0 docker://$P/multi:1.0
skopeo copy -q --dest-tls-verify=false --format v2s1 docker-archive:hello.tar docker://$P/mix3/hello-v1:1
mkdir -p certs/$S && cp tls/ca.crt certs/$S/ca.crt
skopeo copy -q --dest-cert-dir certs/$S --dest-creds 'alice:s3cret,"pass"' docker-archive:hello.tar docker://$S/private/hello:2
skopeo copy -q --dest-tls-verify=false --dest-creds 'bob:b0b pass' docker-archive:hello.tar docker://$T/tok/hello:3

# The reference: the same image converted from its docker save archive.
mkdir ref && d2a -o ref hello.tar > /dev/null && unpack_aci ref/mix3-hello-latest-linux-amd64.aci want
# Source-specific: the name, the tag (version label and annotation), and the config digest
# (skopeo rewrites the config when it pushes). Each is checked on its own below.
strip='del(.name, .labels, (.annotations[] | select(.name | IN("appc.io/docker/originalname", "appc.io/docker/registryurl", "appc.io/docker/repository", "appc.io/docker/manifesthash", "appc.io/docker/tag", "appc.io/docker/imageid"))))'
want_manifest=$(manifest_of ref/mix3-hello-latest-linux-amd64.aci | jq -S "$strip")

same_as_archive() {  # same_as_archive ACI LABEL
  rm -rf got && unpack_aci "$1" got
  if $TREE compare want/rootfs got/rootfs > /dev/null; then pass "$2: rootfs equals the docker save conversion"
  else fail "$2: rootfs differs"; fi
  local m; m=$(manifest_of "$1" | jq -S "$strip")
  if [ -n "$want_manifest" ] && [ "$m" = "$want_manifest" ]; then pass "$2: manifest equals apart from source"
  else diff <(echo "$want_manifest") <(echo "$m") || true; fail "$2: manifest differs"; fi
}

mkdir out
d2a -o out --insecure-allow-http docker://$P/mix3/hello:latest > report 2> progress
aci="out/mix3-hello-latest-linux-amd64.aci"
[ -f $aci ] && pass "pull schema2 by tag over plain HTTP" || fail "pull by tag: $(cat progress)"
[ "$(manifest_of $aci | jq -c '[.labels, (.annotations[] | select(.name == "appc.io/docker/tag" or .name == "appc.io/docker/repository" or .name == "appc.io/docker/registryurl") | .value)]')" = \
  "[[{\"name\":\"arch\",\"value\":\"amd64\"},{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"version\",\"value\":\"latest\"}],\"127.0.0.1:$plain_PORT\",\"mix3/hello\",\"latest\"]" ] \
  && pass "labels and source annotations" || fail "labels/annotations: $(manifest_of $aci | jq -c '[.labels, .annotations]')"
config_digest=$(skopeo inspect --tls-verify=false --raw docker://$P/mix3/hello:latest | jq -r .config.digest)
[ "$(manifest_of $aci | jq -r '.annotations[] | select(.name=="appc.io/docker/imageid") | .value')" = "$config_digest" ] &&
  pass "imageid is the config digest" || fail "imageid"
[ "$(manifest_of $aci | jq -r .name)" = "127.0.0.1_$plain_PORT/mix3/hello" ] && pass "name keeps the registry host" || fail "name $(manifest_of $aci | jq -r .name)"
same_as_archive $aci "schema2 by tag"
[ "$(grep -c '^Downloaded sha256:' progress)" = 2 ] && pass "one progress line per layer" || fail "progress: $(cat progress)"
# On a terminal: a bar per layer, redrawn in place.
rm -rf tty-out && mkdir tty-out
d2a_mark
script -qec "$DOCKER2ACI -o tty-out --insecure-allow-http docker://$P/mix3/hello:latest" /dev/null > tty.log
d2a_validate_new
[ -n "$(ls tty-out/*.aci 2>/dev/null)" ] || fail "terminal run wrote no ACI"
[ "$(grep -ac '\[##############################\] .* done' tty.log)" -ge 2 ] && grep -q $'\x1b\[2K' tty.log &&
  pass "terminal: a bar per layer" || fail "terminal progress: $(cat -v tty.log | head -5)"
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://$P/mix3/hello:latest)
[ "$(manifest_of $aci | jq -r '.annotations[] | select(.name=="appc.io/docker/manifesthash") | .value')" = "$digest" ] &&
  pass "manifesthash is the registry's digest" || fail "manifesthash"

rm -rf out && mkdir out
d2a -o out -q --insecure-allow-http "docker://$P/mix3/hello@$digest" > /dev/null
aci=$(ls out/*.aci)
[ "$aci" = out/mix3-hello-linux-amd64.aci ] && pass "pull by digest" || fail "pull by digest: $aci"
same_as_archive "$aci" "by digest"

rm -rf out && mkdir out
if d2a -o out -q --insecure-allow-http docker://$P/mix3/hello-oci:1 > /dev/null; then
  same_as_archive out/mix3-hello-oci-1-linux-amd64.aci "OCI manifest"
else fail "OCI manifest: the pull failed"; fi

rm -rf out && mkdir out
if d2a -o out -q --insecure-allow-http docker://$P/mix3/hello-v1:1 > /dev/null; then
  [ "$(skopeo inspect --tls-verify=false --raw docker://$P/mix3/hello-v1:1 | jq .schemaVersion)" = 1 ] || fail "not schema 1"
  rm -rf got && unpack_aci out/mix3-hello-v1-1-linux-amd64.aci got
  $TREE compare want/rootfs got/rootfs > /dev/null && pass "schema 1: rootfs equals the docker save conversion" || fail "schema 1 tree"
  [ "$(manifest_of out/mix3-hello-v1-1-linux-amd64.aci | jq -c '.app | [.exec, .ports[0].name]')" = \
    '[["/bin/busybox","httpd","-f","-p","5000","-h","/www"],"5000-tcp"]' ] && pass "schema 1: app from v1Compatibility" || fail "schema 1 app"
else fail "schema 1 pull"; fi

for plat in linux/amd64:amd64:amd64 linux/arm64:aarch64:arm64 linux/aarch64:aarch64:arm64; do
  IFS=: read -r p arch content <<<"$plat"
  rm -rf out && mkdir out
  if d2a -o out -q --insecure-allow-http --platform "$p" docker://$P/multi:1.0 > /dev/null &&
     [ "$(tar -xOzf out/multi-1.0-linux-$arch.aci rootfs/which)" = "$content" ]; then
    pass "manifest list: --platform $p"
  else fail "manifest list --platform $p: $(ls out)"; fi
done
set +e
d2a -o out -q --insecure-allow-http --platform linux/s390x docker://$P/multi:1.0 > /dev/null 2> err; rc=$?
d2a -o out -q --insecure-allow-http docker://$P/mix3/hello:nope > /dev/null 2> err2; rc2=$?
d2a -o out -q --insecure-allow-http docker://$P/no/such > /dev/null 2> err3; rc3=$?
set -e
[ $rc = 1 ] && grep -q 'no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8)' err && pass "missing platform listed" || fail "missing platform: $(cat err)"
[ $rc2 = 1 ] && grep -q 'not found' err2 && [ "$(wc -l < err2)" = 1 ] && pass "unknown tag: $(cat err2)" || fail "unknown tag: $(cat err2)"
[ $rc3 = 1 ] && grep -q 'not found' err3 && pass "unknown repository: $(cat err3)" || fail "unknown repository: $(cat err3)"

# TLS + htpasswd.
rm -rf out && mkdir out
if DOCKER2ACI_PASSWORD='s3cret,"pass"' d2a -o out -q --cert-dir certs --username alice docker://$S/private/hello:2 > /dev/null; then
  same_as_archive out/private-hello-2-linux-amd64.aci "TLS + Basic, --cert-dir"
else fail "TLS + Basic with --cert-dir"; fi
rm -rf out && mkdir out
echo 's3cret,"pass"' | SSL_CERT_FILE=tls/ca.crt d2a -o out -q --username alice --password-stdin docker://$S/private/hello:2 > /dev/null &&
  [ -f out/private-hello-2-linux-amd64.aci ] && pass "SSL_CERT_FILE and --password-stdin" || fail "SSL_CERT_FILE"
# SSL_CERT_DIR as OpenSSL reads it: a colon-separated list, the CA under its hashed name.
mkdir -p certdir-empty certdir-hashed
cp tls/ca.crt "certdir-hashed/$(openssl x509 -hash -noout -in tls/ca.crt).0"
rm -rf out && mkdir out
DOCKER2ACI_PASSWORD='s3cret,"pass"' SSL_CERT_DIR="$WORK/certdir-empty:$WORK/certdir-hashed" \
  d2a -o out -q --username alice docker://$S/private/hello:2 > /dev/null &&
  [ -f out/private-hello-2-linux-amd64.aci ] && pass "SSL_CERT_DIR: a list, a hashed name" || fail "SSL_CERT_DIR"
set +e
DOCKER2ACI_PASSWORD=wrong d2a -o out -q --cert-dir certs --username alice docker://$S/private/hello:2 > /dev/null 2> err; rc=$?
d2a -o out -q docker://$S/private/hello:2 > /dev/null 2> err2; rc2=$?
set -e
[ $rc = 1 ] && grep -q unauthorized err && pass "wrong password: $(cat err)" || fail "wrong password: rc=$rc $(cat err)"
[ $rc2 = 1 ] && grep -qi 'certificate' err2 && pass "unknown CA refused: $(cat err2)" || fail "unknown CA: rc=$rc2 $(cat err2)"
# No trusted certificate at all: refused before any request, not retried as a failed one.
set +e
SSL_CERT_FILE=/dev/null SSL_CERT_DIR="$WORK/certdir-empty" d2a --debug -o out docker://$S/private/hello:2 > /dev/null 2> err3; rc3=$?
set -e
[ $rc3 = 1 ] && ! grep -q retrying err3 && [ "$(grep -c . err3)" = "$(grep -c '^debug: ' err3 | awk '{print $1 + 1}')" ] &&
  grep -qx "Error: $S: no trusted CA certificates (install ca-certificates, or give SSL_CERT_FILE, SSL_CERT_DIR or --cert-dir)" err3 &&
  pass "no trusted CA: refused before any request: $(grep -v '^debug: ' err3)" || fail "no trusted CA: rc=$rc3 $(cat err3)"
rm -rf out && mkdir out
DOCKER2ACI_PASSWORD='s3cret,"pass"' d2a -o out -q --insecure-skip-verify --username alice docker://$S/private/hello:2 > /dev/null &&
  pass "--insecure-skip-verify" || fail "--insecure-skip-verify"

# Credentials from a credential helper named in $DOCKER_CONFIG/config.json, and from auths.
mkdir -p bin dockercfg authcfg
cat > bin/docker-credential-d2atest <<'SH'
#!/bin/sh
read -r server
[ "$1" = get ] || exit 1
echo "$server" >> "$(dirname "$0")/../helper.log"
printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret,\\"pass\\""}\n' "$server"
SH
chmod +x bin/docker-credential-d2atest
echo "{\"credHelpers\": {\"$S\": \"d2atest\"}}" > dockercfg/config.json
rm -rf out && mkdir out
PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/dockercfg" d2a -o out -q --cert-dir certs docker://$S/private/hello:2 > /dev/null &&
  [ "$(cat helper.log)" = "$S" ] && pass "credential helper supplies the password" || fail "credential helper"
echo '{"credsStore": "d2atest"}' > dockercfg/config.json
rm -rf out helper.log && mkdir out
PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/dockercfg" d2a -o out -q --cert-dir certs docker://$S/private/hello:2 > /dev/null &&
  [ "$(cat helper.log)" = "$S" ] && pass "credsStore helper supplies the password" || fail "credsStore"
echo "{\"auths\": {\"$S\": {\"auth\": \"$(printf '%s' 'alice:s3cret,"pass"' | base64 -w0)\"}}}" > authcfg/config.json
rm -rf out && mkdir out
DOCKER_CONFIG="$WORK/authcfg" d2a -o out -q --cert-dir certs docker://$S/private/hello:2 > /dev/null && pass "config.json auths" || fail "config.json auths"
rm -rf out && mkdir out
REGISTRY_AUTH_FILE="$WORK/authcfg/config.json" d2a -o out -q --cert-dir certs docker://$S/private/hello:2 > /dev/null && pass "REGISTRY_AUTH_FILE" || fail "REGISTRY_AUTH_FILE"

# Token auth: the realm gets the credentials, and a token lets the pull through.
rm -rf out && mkdir out
if DOCKER2ACI_PASSWORD='b0b pass' d2a -o out -q --insecure-allow-http --username bob docker://$T/tok/hello:3 > /dev/null; then
  same_as_archive out/tok-hello-3-linux-amd64.aci "token auth"
else fail "token auth pull"; fi
grep -q 'GET /token auth' token.log && pass "token server got the credentials" || fail "token log: $(cat token.log)"
set +e
DOCKER2ACI_PASSWORD=nope d2a -o out -q --insecure-allow-http --username bob docker://$T/tok/hello:3 > /dev/null 2> err; rc=$?
set -e
[ $rc = 1 ] && grep -q 'unauthorized' err && grep -q 'bad credentials' err && pass "token auth, wrong password: $(cat err)" || fail "token wrong password: $(cat err)"

# Proxies from the environment, in either spelling: plain requests go through the proxy,
# TLS ones through a CONNECT tunnel (so the proxy never sees the credentials); no_proxy
# bypasses it.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY no_proxy NO_PROXY  # whatever the machine has
PROXY_PORT=$(free_port)
python3 "$PY_DIR/proxy_server.py" "$PROXY_PORT" >> proxy.log 2>&1 &  # appends: the log is emptied between checks
SERVER_PIDS+=($!)
wait_port "$PROXY_PORT"
rm -rf out && mkdir out
HTTP_PROXY=http://127.0.0.1:$PROXY_PORT d2a -o out -q --insecure-allow-http docker://$P/mix3/hello > /dev/null &&
  grep -q "^GET http://$P/v2/mix3/hello/blobs/sha256:" proxy.log &&
  pass "HTTP_PROXY carries plain requests" || fail "HTTP_PROXY: $(cat proxy.log)"
rm -rf out && mkdir out && : > proxy.log
DOCKER2ACI_PASSWORD='s3cret,"pass"' https_proxy=http://127.0.0.1:$PROXY_PORT \
  d2a -o out -q --cert-dir certs --username alice docker://$S/private/hello:2 > /dev/null 2> err &&
  grep -q "^CONNECT $S" proxy.log && ! grep -qv "^CONNECT" proxy.log &&
  pass "https_proxy tunnels TLS with CONNECT" || fail "https_proxy: $(cat err) $(cat proxy.log)"
rm -rf out && mkdir out && : > proxy.log
http_proxy=http://127.0.0.1:$PROXY_PORT NO_PROXY=127.0.0.1 d2a -o out -q --insecure-allow-http docker://$P/mix3/hello > /dev/null &&
  [ ! -s proxy.log ] && pass "NO_PROXY bypasses the proxy" || fail "NO_PROXY: $(cat proxy.log)"

# An identity token (docker login's OAuth2 refresh token) is exchanged by POST at the
# realm, never sent as a password: from config.json, and from a helper ("<token>").
mkdir -p idcfg
echo "{\"auths\": {\"$T\": {\"auth\": \"$(printf 'bob:' | base64 -w0)\", \"identitytoken\": \"idt-5f0c9e\"}}}" > idcfg/config.json
rm -rf out && mkdir out && : > token.log
DOCKER_CONFIG="$WORK/idcfg" d2a -o out -q --insecure-allow-http docker://$T/tok/hello:3 > /dev/null &&
  grep -q 'POST /token noauth refresh_token client_id=docker2aci' token.log && ! grep -q 'GET /token' token.log &&
  same_as_archive out/tok-hello-3-linux-amd64.aci "identity token from config.json" ||
  fail "identity token from config.json: $(cat token.log)"
cat > bin/docker-credential-d2aid <<'SH'
#!/bin/sh
read -r server
printf '{"ServerURL":"%s","Username":"<token>","Secret":"idt-5f0c9e"}\n' "$server"
SH
chmod +x bin/docker-credential-d2aid
echo "{\"credHelpers\": {\"$T\": \"d2aid\"}}" > idcfg/config.json
rm -rf out && mkdir out && : > token.log
PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/idcfg" d2a -o out -q --insecure-allow-http docker://$T/tok/hello:3 > /dev/null &&
  grep -q 'POST /token noauth refresh_token' token.log && [ -f out/tok-hello-3-linux-amd64.aci ] &&
  pass "identity token from a credential helper" || fail "identity token from a helper: $(cat token.log)"
echo "{\"auths\": {\"$T\": {\"identitytoken\": \"expired\"}}}" > idcfg/config.json
set +e
DOCKER_CONFIG="$WORK/idcfg" d2a -o out -q --insecure-allow-http docker://$T/tok/hello:3 > /dev/null 2> err; rc=$?
set -e
[ $rc = 1 ] && [ "$(wc -l < err)" = 1 ] && grep -q 'invalid_grant: unknown refresh token' err &&
  pass "rejected identity token: $(cat err)" || fail "rejected identity token: rc=$rc $(cat err)"
finish
