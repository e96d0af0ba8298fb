#!/usr/bin/env bash
# `cmake --install` puts the binary, the man page and the bash completion in place, and
# --help documents every flag.
source "$(dirname "$0")/lib.sh"
: "${BUILD_DIR:?}"

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > install.log
[ -x prefix/bin/docker2aci ] && pass "binary installed" || fail "binary: $(cat install.log)"
"$WORK/prefix/bin/docker2aci" --version | grep -q '^docker2aci version' && pass "installed binary runs" || fail "--version"
man=prefix/share/man/man1/docker2aci.1
if [ -f $man ]; then
  text=$(groff -man -Tascii $man 2> /dev/null | col -b)
  for word in NAME SYNOPSIS "EXIT STATUS" EXAMPLES --nosquash --batch --sign-key; do
    grep -q -- "$word" <<<"$text" || fail "man page lacks $word"
  done
  pass "man page docker2aci(1) installed and renders"
else fail "no man page"; fi

# Every flag is in --help, in the man page and in the completion.
help=$("$DOCKER2ACI" --help)
flags=$(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u | grep -v -- '--images')
missing=""
for f in $flags; do
  grep -q -- "$f" <<<"$text" || missing+=" man:$f"
  grep -q -- "$f" prefix/share/bash-completion/completions/docker2aci || missing+=" completion:$f"
done
[ -z "$missing" ] && pass "$(wc -w <<<"$flags") flags documented and completed" || fail "missing:$missing"
grep -q 'Exit status: 0 success, 1 conversion error, 2 usage error' <<<"$help" && pass "--help states exit codes" || fail "exit codes"
grep -q 'docker save myapp:1.0 | docker2aci -' <<<"$help" && pass "--help shows examples" || fail "examples"

out=$(bash -c "source prefix/share/bash-completion/completions/docker2aci
COMP_WORDS=(docker2aci --nos); COMP_CWORD=1; _docker2aci; echo \${COMPREPLY[*]}")
[ "$out" = "--nosquash" ] && pass "bash completion completes flags" || fail "completion: $out"
finish
