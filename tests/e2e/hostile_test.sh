#!/usr/bin/env bash
# The bad-input corpus (testdata/make_hostile.py): each case either converts (and the ACI
# holds what it must) or fails with exit 1 and one stderr line naming the problem. Never
# a crash, a hang (60 s limit), a partial or temporary file, or a write outside the
# output directory.
source "$(dirname "$0")/lib.sh"

python3 "$REPO_DIR/testdata/make_hostile.py" corpus > /dev/null
mapfile -t names < <(jq -r 'keys[]' corpus/cases.json)
# Every path under the work directory with its size and modification time (contents
# changed in place show there), less the running case's sandbox.
snapshot() {
  (cd "$WORK" && find . -path ./sandbox-"$name" -prune -o -printf '%p %y %s %T@\n' | sort | md5sum)
}
for name in "${names[@]}"; do
  c=$(jq -c --arg n "$name" '.[$n]' corpus/cases.json)
  input=$(jq -r .input <<<"$c"); expect=$(jq -r .expect <<<"$c"); match=$(jq -r .match <<<"$c")
  mapfile -t args < <(jq -r '.args[]' <<<"$c")
  sandbox="$WORK/sandbox-$name"; mkdir -p "$sandbox/out" "$sandbox/tmp"
  before=$(snapshot)
  set +e
  (cd "$sandbox" && TMPDIR="$sandbox/tmp" timeout 60 "$DOCKER2ACI" -q -o out "${args[@]}" "$WORK/corpus/$input" > stdout 2> stderr)
  rc=$?
  set -e
  after=$(snapshot)
  err=$(cat "$sandbox/stderr")
  files=$(ls -A "$sandbox/out")
  problems=()
  [ "$before" = "$after" ] || problems+=("wrote outside its output directory")
  [ -z "$(ls -A "$sandbox/tmp")" ] || problems+=("left in TMPDIR: $(ls -A "$sandbox/tmp")")
  case $rc in 0|1) ;; 124) problems+=("hung");; *) problems+=("exit $rc (crash?)");; esac
  if [ $rc = 0 ]; then
    [ "$expect" = error ] && problems+=("converted, but should fail with '$match'")
    [ -z "$err" ] || problems+=("stderr not empty: $err")
    aci="$sandbox/out/$files"
    if [ "$(echo "$files" | wc -l)" != 1 ] || [[ "$files" != *.aci ]]; then problems+=("output: $files")
    else
      "$ACTOOL" validate "$aci" > /dev/null 2>&1 || problems+=("actool rejects the ACI")
      listing=$(tar -tzf "$aci" | sed 's|/$||') || problems+=("cannot list the ACI")
      for p in $(jq -r '.present[]' <<<"$c"); do grep -qx "$p" <<<"$listing" || problems+=("missing $p"); done
      for p in $(jq -r '.absent[]' <<<"$c"); do grep -qx "$p" <<<"$listing" && problems+=("has $p"); done
      if jq -e 'has("entries")' <<<"$c" > /dev/null; then
        [ "$listing" = "$(jq -r '.entries[]' <<<"$c")" ] || problems+=("entries: $(echo $listing)")
      fi
      manifest=$(tar -xzOf "$aci" manifest)
      if jq -e 'has("app")' <<<"$c" > /dev/null; then
        [ "$(jq -cS .app <<<"$manifest")" = "$(jq -cS .app <<<"$c")" ] || problems+=("app: $(jq -c .app <<<"$manifest")")
      fi
      if jq -e 'has("created")' <<<"$c" > /dev/null; then
        got=$(jq -r '[.annotations[] | select(.name == "created") | .value] | join(",")' <<<"$manifest")
        [ "$got" = "$(jq -r .created <<<"$c")" ] || problems+=("created: '$got'")
      fi
    fi
  elif [ $rc = 1 ]; then
    [ "$expect" = ok ] && problems+=("failed: $err")
    [ -n "$match" ] && ! grep -qF -- "$match" <<<"$err" && problems+=("error does not say '$match': $err")
    [ "$(wc -l < "$sandbox/stderr")" = 1 ] || problems+=("not one line: $err")
    [ -z "$files" ] || problems+=("left behind: $files")
  fi
  if [ ${#problems[@]} = 0 ]; then pass "$name ($([ $rc = 0 ] && echo converted || echo "$err"))"
  else fail "$name: ${problems[*]}"; fi
  rm -rf "$sandbox"
done
finish
