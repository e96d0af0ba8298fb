#!/usr/bin/env bash
# The gzip output on every class of data the planner tells apart (tests/e2e/py/fixtures.py
# compression: repeated random units, random runs around the 2 KiB chunk, zero runs,
# base64, a 4-letter alphabet, JSON logs, CSV, small and Zipf-like vocabularies, files
# ending around 1 MiB, random data), at levels 1, 6, 9, 12 and the default: one gzip
# member that gzip -t, zlib and Python's tarfile in stream mode (every ACI d2a writes)
# decode to the uncompressed conversion's bytes; the same bytes at 1 and 2 threads; the
# size against gzip -6 of the same tar.
source "$(dirname "$0")/lib.sh"
python3 "$PY_DIR/fixtures.py" compression
mkdir plain && d2a -q --compression none -o plain classes.tar > /dev/null
tar_file=$(ls plain/*.aci)
gzip6=$(gzip -6 -c "$tar_file" | wc -c)
for level in 1 6 9 12 default; do
  mkdir "out-$level" "out-$level-t1"
  flags=(); [ $level = default ] || flags=(--compression-level $level)
  d2a -q "${flags[@]}" -o "out-$level" classes.tar > /dev/null
  d2a -q "${flags[@]}" --threads 1 -o "out-$level-t1" classes.tar > /dev/null
  aci=$(ls "out-$level"/*.aci)
  size=$(stat -c %s "$aci")
  if gzip -t "$aci" && gzip -dc "$aci" | cmp -s - "$tar_file" &&
     python3 -c 'import sys, zlib; d = zlib.decompressobj(31); out = d.decompress(open(sys.argv[1], "rb").read())
sys.exit(0 if out == open(sys.argv[2], "rb").read() and d.eof and not d.unused_data else 1)' "$aci" "$tar_file"; then
    pass "level $level: one member, gzip -t, gzip -dc and zlib give the tar ($size bytes, $(echo "scale=3; $size / $gzip6" | bc) of gzip -6)"
  else fail "level $level: the ACI does not decode to the uncompressed conversion"; fi
  cmp -s "$aci" "$(ls "out-$level-t1"/*.aci)" && pass "level $level: the same bytes with 1 thread" ||
    fail "level $level: other bytes with 1 thread"
done
# The default is level 6, whose output stays within 3% of gzip -6 on these classes.
default_size=$(stat -c %s out-default/*.aci)
cmp -s out-default/*.aci out-6/*.aci && pass "the default is --compression-level 6" || fail "the default is not level 6"
[ "$(echo "$default_size <= $gzip6 * 1.03" | bc)" = 1 ] &&
  pass "the default is within 3% of gzip -6 on these classes" || fail "default: $default_size, gzip -6: $gzip6"
finish
