#!/usr/bin/env bash
# Signed ACIs: --sign-key writes NAME.aci.asc, which `gpg --verify` accepts (and rejects
# once the ACI changes); --nosquash signs every layer; a failed signing leaves nothing.
source "$(dirname "$0")/lib.sh"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
stop_agent() { gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true; cleanup; }
trap stop_agent EXIT

gpg --batch --quiet --passphrase '' --quick-gen-key 'docker2aci test <signer@example.invalid>' ed25519 sign never 2> /dev/null
fpr=$(gpg --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')
[ -n "$fpr" ] && pass "throwaway key $fpr" || fail "no key"
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar

mkdir out
d2a -o out -q --sign-key "$fpr" --gpg-home "$GNUPGHOME" hello.tar > /dev/null
aci=out/mix3-hello-latest-linux-amd64.aci
head -1 "$aci.asc" | grep -q 'BEGIN PGP SIGNATURE' && pass "armored detached signature written" || fail "no .asc"
gpg --batch --verify "$aci.asc" "$aci" 2> verify.log && grep -q 'Good signature' verify.log &&
  pass "gpg --verify accepts it" || fail "verify: $(cat verify.log)"
cp "$aci" tampered.aci && printf 'x' >> tampered.aci
! gpg --batch --verify "$aci.asc" tampered.aci 2> /dev/null && pass "a changed ACI fails verification" || fail "tampered verified"

mkdir layered
d2a -o layered -q --nosquash --sign-key "$fpr" hello.tar > /dev/null
ok=1; for f in layered/*.aci; do gpg --batch --verify "$f.asc" "$f" 2> /dev/null || ok=0; done
[ $ok = 1 ] && [ "$(ls layered/*.asc | wc -l)" = 2 ] && pass "--nosquash signs every layer" || fail "layered signatures"

mkdir bad
set +e
d2a -o bad -q --sign-key nobody@example.invalid hello.tar > /dev/null 2> err; rc=$?
set -e
[ $rc = 1 ] && grep -q 'secret key nobody@example.invalid' err && [ -z "$(ls -A bad)" ] &&
  pass "unknown key: $(cat err), nothing left" || fail "unknown key: rc=$rc $(cat err) $(ls -A bad)"

# Converting again without --sign-key drops the signature that no longer matches.
d2a -o out -q --force --compression none hello.tar > /dev/null
[ ! -e "$aci.asc" ] && pass "stale signature removed" || fail "stale .asc kept"
finish
