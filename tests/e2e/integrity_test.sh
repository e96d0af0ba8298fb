#!/usr/bin/env bash
# What a run may touch, and what it must leave alone: no image field cuts or leaves a file
# name; two images of one batch never share a file; a failed run (bad key, bad input, kill)
# leaves the previous ACI and signature byte for byte; an unchanged ACI is trusted only
# when whole, and signed only as it is.
source "$(dirname "$0")/lib.sh"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
echo "pinentry-program /bin/false" > "$GNUPGHOME/gpg-agent.conf"  # no prompt can hang a test
stop_agent() { gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true; cleanup; }
trap stop_agent EXIT

python3 "$PY_DIR/fixtures.py" integrity
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar

# --- file names ---
mkdir names
printf 'victim bytes' > names/victim-app-1-linux-amd64.aci
printf 'victim signature' > names/victim-app-1-linux-amd64.aci.asc
sums() { (cd "$1" && sha256sum -- * 2>/dev/null | sort); }
before=$(sums names)
for input in nul-os slash-arch; do
  set +e; d2a -q -o names "$input.tar" > /dev/null 2> err; rc=$?; set -e
  field=$([ $input = nul-os ] && echo 'os "linux-amd64.aci\x00"' || echo 'architecture "../../../escape"')
  [ $rc = 1 ] && [ "$(wc -l < err)" = 1 ] && grep -qF "$field" err && [ "$(sums names)" = "$before" ] &&
    [ -z "$(find "$WORK" -name escape)" ] &&
    pass "$input: refused naming the field, other files intact: $(cat err)" ||
    fail "$input: rc=$rc $(cat err) $(ls -A names)"
done

# --- one file, one image per batch ---
printf '%s\n' "$WORK/quay.tar" "$WORK/ghcr.tar" > batch.txt
for jobs in 1 2 2 2; do
  rm -rf shared && mkdir shared
  set +e; d2a -q -o shared --jobs $jobs --json --batch batch.txt > report.json 2> err; rc=$?; set -e
  origin=$(tar -xzOf shared/foo-app-1-linux-amd64.aci rootfs/from 2>/dev/null || true)
  [ $rc = 1 ] && [ "$(ls shared)" = foo-app-1-linux-amd64.aci ] && [ "$origin" = quay ] &&
    grep -q "ghcr.tar: .*foo-app-1-linux-amd64.aci is also the output of .*quay.tar" err &&
    [ "$(jq -r 'select(.error) | .reference' report.json)" = "$WORK/ghcr.tar" ] &&
    pass "--jobs $jobs: the later image of two with one file name fails, the first stands" ||
    fail "--jobs $jobs: rc=$rc from=$origin $(cat err) $(ls shared)"
done

# --- the previous ACI and signature survive a failed run ---
gpg --batch --quiet --passphrase '' --quick-gen-key 'signer <signer@example.invalid>' rsa2048 sign never 2> /dev/null
gpg --batch --quiet --passphrase secret --pinentry-mode loopback \
  --quick-gen-key 'locked <locked@example.invalid>' rsa2048 sign never 2> /dev/null
fpr=$(gpg --with-colons --list-secret-keys signer@example.invalid | awk -F: '/^fpr/ {print $10; exit}')
mkdir site
aci=site/mix3-hello-latest-linux-amd64.aci
d2a -q -o site --sign-key "$fpr" hello.tar > /dev/null
gpg --batch --verify "$aci.asc" "$aci" 2> /dev/null && pass "a signed pair to protect" || fail "no signed pair"
pair=$(sums site)
aci_sum=$(sha256sum < "$aci")
attempt() {  # attempt NAME EXPECTED-ERROR ARGS...: must fail and leave the pair as it was
  local name=$1 want=$2; shift 2
  set +e; d2a -q -o site "$@" > /dev/null 2> err; local rc=$?; set -e
  [ $rc = 1 ] && grep -q -- "$want" err && [ "$(sums site)" = "$pair" ] && [ "$(ls -A site | wc -l)" = 2 ] &&
    pass "$name: exit 1, pair intact: $(cat err)" || fail "$name: rc=$rc $(cat err) $(ls -A site)"
}
attempt "unknown key, --force" "no secret key \"nobody@example.invalid\"" --force --sign-key nobody@example.invalid hello-v2.tar
attempt "unknown key, unchanged image" "no secret key \"nobody@example.invalid\"" --sign-key nobody@example.invalid hello.tar
attempt "key behind a passphrase" "signing: " --force --sign-key locked@example.invalid hello-v2.tar
attempt "missing --gpg-home" "signing: " --force --sign-key "$fpr" --gpg-home "$WORK/no-such-home" hello-v2.tar
attempt "tampered new image" "digest mismatch" --force --sign-key "$fpr" hello-bad.tar
"$DOCKER2ACI" -q -o site --force --sign-key "$fpr" --threads 1 hello-big.tar > /dev/null 2>&1 &
victim=$!
sleep 1
kill -9 $victim 2> /dev/null && killed=yes || killed=no
wait $victim 2> /dev/null || true
[ $killed = yes ] && [ "$(sums site)" = "$pair" ] && [ "$(ls -A site | wc -l)" = 2 ] &&
  pass "killed mid-conversion: pair intact" || fail "kill (killed=$killed): $(ls -A site)"

# --- an unchanged ACI is trusted only when whole, and signed as it is ---
gpg --batch --yes --local-user "$fpr" --detach-sign --armor -o "$aci.asc" hello.tar
d2a -o site --json --sign-key "$fpr" hello.tar > report.json
[ "$(jq -r .skipped report.json)" = true ] && [ "$(sha256sum < "$aci")" = "$aci_sum" ] &&
  gpg --batch --verify "$aci.asc" "$aci" 2> /dev/null &&
  pass "unchanged ACI kept, its wrong signature replaced by one of its bytes" || fail "re-sign: $(cat report.json)"
asc_before=$(sha256sum < "$aci.asc")
d2a -o site --json --sign-key "$fpr" hello.tar > report.json
[ "$(jq -r .skipped report.json)" = true ] && [ "$(sha256sum < "$aci.asc")" = "$asc_before" ] &&
  pass "a good signature of an unchanged ACI is left as it is" || fail "good signature rewritten"
truncate -s -100 "$aci"
d2a -o site --json --sign-key "$fpr" hello.tar > report.json
[ "$(jq -r .skipped report.json)" = false ] && gzip -t "$aci" && gpg --batch --verify "$aci.asc" "$aci" 2> /dev/null &&
  pass "a truncated ACI is converted again, not trusted" || fail "truncated: $(cat report.json)"
finish
