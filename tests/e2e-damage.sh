#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-damage.sh: privaudit verify --all lists every damaged range of a log's
# segment files, not only the first (issue 17): flipped bytes in two
# records of one segment, a length field overwritten (reading must find the
# next frame by itself), a segment file deleted, and a segment cut short in
# the middle of the log.  Each range names the first record lost, where it
# begins, and the record reading goes on at; --json carries the same.  An
# intact log lists none; a frame cut at the very end (a write in progress)
# is no damage.

pa_test=e2e-damage
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit

log=$TMP/log
pa_init "$log"
seq 1 600 | sed 's/^/line number /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$log" --segment-size 4096 --batch 50 <"$TMP/lines"
expect 0 "$PRIVAUDIT" seal "$log"
nseg=$(ls "$log"/seg-* | wc -l)
[ "$nseg" -ge 8 ] || fail "expected at least 8 segments, got $nseg"

expect 0 "$PRIVAUDIT" verify "$log" --key "$log.vkey" --all
grep -q '^result: *OK' "$TMP/out" || fail_cmd "the intact log does not verify"
grep -q '^damage:' "$TMP/out" && fail_cmd "--all lists damage on a log that verifies"

cp -a "$log" "$TMP/bad"
# The record index of the frame holding a line, its offset, its length.
"$PYTHON3" - "$TMP/bad" <<'EOF' >"$TMP/plan" || fail "cannot damage the copy"
import os, struct, sys
d = sys.argv[1]
def frames(path):
    b = open(path, 'rb').read()
    off = 64
    while off + 8 <= len(b):
        l = struct.unpack('>I', b[off:off + 4])[0]
        yield off, l, struct.unpack('>Q', b[off + 4:off + 12])[0], b[off + 4:off + 4 + l]
        off += 8 + l
def find(seg, text):
    p = os.path.join(d, 'seg-%016x' % seg)
    for off, l, idx, entry in frames(p):
        if text in entry:
            return p, off, l, idx
    sys.exit('not found: %r' % text)
def flip(p, at):
    b = bytearray(open(p, 'rb').read())
    b[at] ^= 0x20
    open(p, 'wb').write(bytes(b))
# 1, 2: a byte of two records' text in segment 1
for text in (b'line number 120', b'line number 130'):
    p, off, l, idx = find(1, text)
    flip(p, off + 4 + l - 12)
    print(idx)
# 3: segment 3's second frame: its length field says 0x7fff...
p, off, l, idx = find(3, b'line number ')
b = bytearray(open(p, 'rb').read())
off2 = off + 8 + l
idx2 = struct.unpack('>Q', b[off2 + 4:off2 + 12])[0]
b[off2:off2 + 4] = struct.pack('>I', 0x00300000)
open(p, 'wb').write(bytes(b))
print(idx2)
# 4: segment 5 deleted
first5 = next(frames(os.path.join(d, 'seg-%016x' % 5)))[2]
os.remove(os.path.join(d, 'seg-%016x' % 5))
print(first5)
# 5: segment 6 cut in the middle of its third frame
p = os.path.join(d, 'seg-%016x' % 6)
fr = list(frames(p))
open(p, 'r+b').truncate(fr[2][0] + 10)
print(fr[2][2])
EOF
mapfile -t at <"$TMP/plan"
[ "${#at[@]}" -eq 5 ] || fail "damage plan: ${at[*]}"

expect 3 "$PRIVAUDIT" verify "$TMP/bad" --key "$log.vkey" --all
grep -q "^first bad: *record ${at[0]} " "$TMP/out" || fail_cmd "the first bad record is not record ${at[0]}"
grep -q '^damage: *5 damaged range(s)' "$TMP/out" || fail_cmd "--all does not list 5 damaged ranges"
for n in 0 1 2 3 4; do
	grep -Eq "^  $((n + 1))\\. from record ${at[$n]}, segment " "$TMP/out" ||
		fail_cmd "range $((n + 1)) does not start at record ${at[$n]}"
done
grep -q "^  1\\. .*read again at record $((at[0] + 1)) .*: 1 record(s) lost" "$TMP/out" ||
	fail_cmd "the first flipped record is not one record lost"
grep -q "^  3\\. .*frame length or checksum wrong; read again at record $((at[2] + 1)) " "$TMP/out" ||
	fail_cmd "reading does not find the frame after an overwritten length by itself"
grep -q "^  4\\. .*segment file missing" "$TMP/out" || fail_cmd "a deleted segment is not named"
grep -q "^  5\\. .*segment 6 .*frame cut short\\|^  5\\. .*segment 6 .*frame length or checksum wrong" "$TMP/out" ||
	fail_cmd "a segment cut short in the middle of the log is not named"

expect 3 "$PRIVAUDIT" verify "$TMP/bad" --key "$log.vkey" --all --json
"$PYTHON3" - "$TMP/out" "${at[@]}" <<'EOF' || fail_cmd "--all --json does not carry the same ranges"
import json, sys
j = json.load(open(sys.argv[1]))
want = [int(x) for x in sys.argv[2:]]
got = [r['first_index'] for r in j['damage']]
sys.exit(0 if got == want and j['damage'][0]['resumed_index'] == want[0] + 1 else 1)
EOF

# Without --all, the report is as before: the first bad record only.
expect 3 "$PRIVAUDIT" verify "$TMP/bad" --key "$log.vkey"
grep -q '^damage:' "$TMP/out" && fail_cmd "damage listed without --all"

# A frame cut at the very end of the last segment is a write in progress.
cp -a "$log" "$TMP/torn"
last=$(ls "$TMP/torn"/seg-* | tail -n 1)
printf '\000\000\000\100abc' >>"$last"
run_cmd "$PRIVAUDIT" verify "$TMP/torn" --key "$log.vkey" --all
grep -q '^damage:' "$TMP/out" && fail_cmd "a torn tail is listed as damage"

pass "verify --all: five damaged ranges, each with where reading went on"
