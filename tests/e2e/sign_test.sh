#!/usr/bin/env bash
# Signed ACIs: --sign-key writes NAME.aci.asc, which `gpg --verify` accepts (and rejects
# once the ACI changes); --nosquash signs every layer; a failed signing leaves nothing and
# says why; a key behind a passphrase signs with --passphrase-file; no gpg-agent is left.
source "$(dirname "$0")/lib.sh"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
stop_agent() {
  gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true
  [ -z "${LOCKED_HOME:-}" ] || gpgconf --homedir "$LOCKED_HOME" --kill gpg-agent 2>/dev/null || true
  cleanup
}
trap stop_agent EXIT

# RSA: the kind of key rkt verifies (see the EdDSA warning below).
gpg --batch --quiet --passphrase '' --quick-gen-key 'docker2aci test <signer@example.invalid>' rsa2048 sign never 2> /dev/null
fpr=$(gpg --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')
[ -n "$fpr" ] && pass "throwaway key $fpr" || fail "no key"
python3 "$REPO_DIR/testdata/make_sample.py" hello hello.tar

mkdir out
d2a -o out -q --sign-key "$fpr" --gpg-home "$GNUPGHOME" hello.tar > /dev/null 2> err
[ ! -s err ] && pass "an RSA key signs without a warning" || fail "RSA key: $(cat err)"
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

# gpg's default key on Debian 12 is Ed25519, whose signatures rkt refuses: said once, on
# stderr, before any image is converted; the signature is still written (gpg verifies it).
gpg --batch --quiet --passphrase '' --quick-gen-key 'eddsa <eddsa@example.invalid>' ed25519 sign never 2> /dev/null
mkdir eddsa
d2a -o eddsa -q --sign-key eddsa@example.invalid hello.tar > /dev/null 2> err
[ "$(cat err)" = 'warning: key eddsa@example.invalid signs with EdDSA, which rkt cannot verify ("unsupported feature: public key type: 22"): sign with an RSA key for rkt (gpg --quick-gen-key NAME rsa3072 sign)' ] &&
  gpg --batch --verify eddsa/*.aci.asc eddsa/*.aci 2> /dev/null &&
  pass "an EdDSA key: warned once naming RSA, signature written" || fail "EdDSA key: $(cat err)"

mkdir bad
set +e
d2a -o bad -q --sign-key nobody@example.invalid hello.tar > /dev/null 2> err; rc=$?
set -e
[ "$rc" = 1 ] && [ "$(cat err)" = "Error: signing: no secret key \"nobody@example.invalid\" in $GNUPGHOME" ] &&
  [ -z "$(ls -A bad)" ] && pass "unknown key: $(cat err), nothing left" || fail "unknown key: rc=$rc $(cat err) $(ls -A bad)"

sign_error() {  # sign_error WANT ARGS...: exit 1 with exactly this error line, no file left
  local want=$1; shift
  rm -rf bad && mkdir bad
  set +e; d2a -o bad -q "$@" hello.tar > /dev/null 2> err; local rc=$?; set -e
  [ $rc = 1 ] && [ "$(cat err)" = "Error: signing: $want" ] && [ -z "$(ls -A bad)" ] &&
    pass "$(cat err)" || fail "want '$want': rc=$rc $(cat err) $(ls -A bad)"
}
sign_error "--gpg-home $WORK/no-such-home: No such file or directory" --sign-key "$fpr" --gpg-home "$WORK/no-such-home"
sign_error "--gpg-home $WORK/hello.tar is not a directory" --sign-key "$fpr" --gpg-home "$WORK/hello.tar"

# A key behind a passphrase: no terminal to ask on, so say how to give it; a wrong one is
# named; the right one signs. Its own home, where no agent runs before.
export LOCKED_HOME="$WORK/locked-home"
mkdir -m 700 "$LOCKED_HOME"
GNUPGHOME=$LOCKED_HOME gpg --batch --quiet --passphrase 's3cret phrase' --pinentry-mode loopback \
  --quick-gen-key 'locked <locked@example.invalid>' rsa2048 sign never 2> /dev/null
gpgconf --homedir "$LOCKED_HOME" --kill gpg-agent
agent_running() { pgrep -f "gpg-agent --homedir $LOCKED_HOME" > /dev/null; }
# gpgconf asks the agent to go and returns; it exits a moment later (longer under ASan load).
for _ in $(seq 100); do agent_running || break; sleep 0.1; done
! agent_running || fail "an agent runs before the test"
sign_error "key locked@example.invalid needs a passphrase and there is no terminal to ask for it: give it with --passphrase-file FILE, or unlock the key in gpg-agent first (gpg-preset-passphrase)" \
  --sign-key locked@example.invalid --gpg-home "$LOCKED_HOME"
printf 'wrong\n' > wrong.txt
sign_error "key locked@example.invalid: wrong passphrase in wrong.txt" \
  --sign-key locked@example.invalid --gpg-home "$LOCKED_HOME" --passphrase-file wrong.txt
printf 's3cret phrase\n' > phrase.txt
mkdir locked-out
d2a -o locked-out -q --sign-key locked@example.invalid --gpg-home "$LOCKED_HOME" --passphrase-file phrase.txt hello.tar > /dev/null
GNUPGHOME=$LOCKED_HOME gpg --batch --verify "locked-out/$(basename "$aci").asc" "locked-out/$(basename "$aci")" 2> /dev/null &&
  pass "--passphrase-file: signed and verified" || fail "passphrase file: $(ls locked-out)"
# Every run above started an agent for that home; none may outlive its run (cron would
# pile them up). gpg --verify needs none.
sleep 0.5
agent_running && fail "gpg-agent left running: $(pgrep -af gpg-agent)" || pass "no gpg-agent left behind by signing runs"
# An agent that was running before (a user's own) is not stopped.
GNUPGHOME=$LOCKED_HOME gpg-connect-agent /bye > /dev/null 2>&1
d2a -o locked-out -q --force --sign-key locked@example.invalid --gpg-home "$LOCKED_HOME" --passphrase-file phrase.txt hello.tar > /dev/null
agent_running && pass "an agent running before is left running" || fail "a user's agent was stopped"
gpgconf --homedir "$LOCKED_HOME" --kill gpg-agent

# Converting again without --sign-key drops the signature that no longer matches.
d2a -o out -q --force --compression none hello.tar > /dev/null
[ ! -e "$aci.asc" ] && pass "stale signature removed" || fail "stale .asc kept"
finish
