#!/usr/bin/env bash
# The classic rkt demos, run as rkt would: unpack the ACI, chroot into its rootfs, run
# app.exec with app.environment in app.workingDirectory as app.user.
source "$(dirname "$0")/lib.sh"

python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar
d2a hello.tar > report.txt
ACI=mix3-hello-latest-linux-amd64.aci
grep -qx "$ACI" report.txt && pass "report names the ACI" || fail "report: $(cat report.txt)"
validate $ACI && pass "hello validates" || fail "hello validate"
[ "$(manifest_of $ACI | jq -c '[.name, .app.ports]')" = \
  '["mix3/hello",[{"count":1,"name":"5000-tcp","port":5000,"protocol":"tcp","socketActivated":false}]]' ] \
  && pass "hello manifest name and port" || fail "hello manifest"

run_app $ACI hello
body=""
for _ in $(seq 1 50); do
  body=$(curl -s --max-time 2 http://127.0.0.1:5000/ || true)
  [ -n "$body" ] && break
  sleep 0.1
done
kill "$APP_PID" 2>/dev/null || true
wait "$APP_PID" 2>/dev/null || true
[ "$body" = hello ] && pass "curl 127.0.0.1:5000 answers hello" || fail "hello server answered '$body': $(cat hello.out)"

python3 "$REPO_DIR/testdata/make_sample.py" date date.tar
d2a date.tar > /dev/null
validate local-date-1.0-linux-amd64.aci && pass "date validates" || fail "date validate"
run_app local-date-1.0-linux-amd64.aci date
wait "$APP_PID" && pass "date exits 0" || fail "date failed: $(cat date.out)"
[ "$(cat date.out)" = "$(date -u +%Y-%m-%d)" ] && pass "date prints the date" || fail "date printed '$(cat date.out)'"
finish
