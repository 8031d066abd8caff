#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-tamper.sh: every kind of tampering with a sealed log must fail verify
# with the exit status of doc/cli-contract.txt and name the first bad
# record; an untouched copy must verify.  paref.py does the tampering.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit

# build LOG ORIGIN PREFIX: init (unless it exists), then 6 rounds of 80
# records each sealed, then 20 unsealed ones; small segments so the log
# spans several.
build() {
	if [ ! -d "$1" ]; then
		pa_init "$1" ${2:+--origin "$2"}
	fi
	for r in 1 2 3 4 5 6; do
		"$PYTHON3" -c 'import sys
for i in range(80): print("%s-r%s-%d %s" % (sys.argv[1], sys.argv[2], i, "x" * (i % 40)))' "$3" "$r" >"$TMP/batch"
		expect 0 "$PRIVAUDIT" append "$1" --segment-size 16384 <"$TMP/batch"
		expect 0 "$PRIVAUDIT" seal "$1"
	done
	"$PYTHON3" -c 'import sys
for i in range(20): print("%s-unsealed-%d" % (sys.argv[1], i))' "$3" >"$TMP/batch"
	expect 0 "$PRIVAUDIT" append "$1" --segment-size 16384 <"$TMP/batch"
}

A=$TMP/a
B=$TMP/b
build "$A" "" a
origin=$(sed -n 1p "$A/checkpoint")
build "$B" "$origin" b
cp "$A/checkpoint" "$TMP/newest-note"

paref frames "$A" >"$TMP/frames"
paref checkpoints "$A" >"$TMP/cps"
total=$(wc -l <"$TMP/frames")
nseg=$(ls "$A" | grep -c '^seg-')
ncp=$(wc -l <"$TMP/cps")
[ "$ncp" -eq 7 ] || fail "expected 7 checkpoints (init + 6 seals), paref finds $ncp"
[ "$nseg" -ge 3 ] || fail "append --segment-size 16384 made $nseg segment(s) for $total records"
say "# log: $total records, $nseg segments, $ncp checkpoints"

# The untouched log verifies, and paref agrees.
verify_ok "$A"
[ "$(paref check "$A")" = "ok $total records $ncp checkpoints" ] || fail "paref check: $(paref check "$A")"
pass "untouched log verifies"

# cp_field K FIELD: field (1 record index, 2 tree size) of checkpoint K (0: init's)
cp_field() { awk -v k="$1" -v f="$2" 'NR == k + 1 { print $f }' "$TMP/cps"; }

# Pick X, an application record sealed by the 4th checkpoint (3rd seal),
# with X-1 and X+5 application records in the same segment, X not first in it.
lo=$(cp_field 3 1)
hi=$(($(cp_field 4 2) - 1)) # the key rotation
cands=$(awk -v lo="$lo" -v hi="$hi" '
	{ seg[$1] = $2; kind[$1] = $5 }
	END {
		for (x = lo + 2; x + 5 < hi; x++)
			if (kind[x] == 31 && kind[x - 1] == 31 && kind[x + 5] == 31 &&
			    seg[x - 1] == seg[x] && seg[x + 5] == seg[x])
				print x
	}' "$TMP/frames")
set -- $cands
[ $# -gt 0 ] || fail "no candidate record between checkpoints $lo and $hi"
seed=${PA_SEED:-$RANDOM}
shift $((seed % $#))
X=$1
Y=$((X + 5))
read -r xseg xoff <<EOF
$(frame_at "$A" "$X")
EOF
# The checkpoint covering X, and the size of the one before it.
cover=$(awk -v x="$X" '$2 > x { print $1; exit }' "$TMP/cps")
prevsize=$(awk -v x="$X" '$2 <= x { s = $2 } END { print s }' "$TMP/cps")
say "# seed $seed: X=$X (segment $xseg offset $xoff), covered by the checkpoint record $cover, previous size $prevsize"

# fresh NAME: a copy of the untouched log
fresh() {
	rm -rf "${TMP:?}/$1"
	cp -a "$A" "$TMP/$1"
	cp "$A.vkey" "$TMP/$1.vkey"
	C=$TMP/$1
}

# must_differ: paref must also see the damage (proof the tampering happened)
must_differ() {
	if paref check "$C" >/dev/null 2>&1; then
		fail "paref check still passes after $1: the tampering did nothing"
	fi
}

# at SEG OFF WHAT: the first bad frame must be at segment SEG offset OFF
at() {
	[ "$bad_segment $bad_offset" = "$1 $2" ] ||
		fail_cmd "$3: first bad at segment $bad_segment offset $bad_offset, expected segment $1 offset $2"
}

# one_of IDX... WHAT: the first bad index must be one of these
one_of() {
	what=${!#}
	for i in "${@:1:$#-1}"; do
		[ "$bad_index" = "$i" ] && return 0
	done
	fail_cmd "$what: first bad record $bad_index, expected one of ${*:1:$#-1}"
}

# --- flip: one bit in record X, CRC left stale: corrupt (3) at X.
fresh flip
paref flip "$C" "$X"
must_differ flip
verify_bad 3 "$C" --key "$C.vkey"
one_of "$X" flip
at "$xseg" "$xoff" flip
pass "flip: exit 3 at record $X"

# --- forge: one bit in record X and a valid CRC.  Framing and encoding are
# fine, so only the Merkle root of the checkpoint covering X can show it:
# the verifier can only localise the damage to that checkpoint, so any
# index from the first record the previous checkpoint does not cover (its
# size, which is also the index of its own record) to the covering
# checkpoint's record is right: [previous size, covering record].
in_cover() {
	[ "$bad_index" -ge "$prevsize" ] && [ "$bad_index" -le "$cover" ] ||
		fail_cmd "$1: first bad record $bad_index, expected in [$prevsize, $cover]"
}
fresh forge
paref forge "$C" "$X"
must_differ forge
verify_bad 4 "$C" --key "$C.vkey"
in_cover forge
pass "forge: exit 4 at record $bad_index, in [$prevsize, $cover]"

# --- delete record X: the index sequence breaks where X was.  The frame
# found there holds X+1; naming X (the position) or X+1 (what is stored)
# are both right, the offset must be that frame's.
fresh delete
paref delete "$C" "$X"
must_differ delete
verify_bad 4 "$C" --key "$C.vkey"
one_of "$X" "$((X + 1))" delete
at "$xseg" "$xoff" delete
pass "delete: exit 4 at record $bad_index"

# --- swap X and Y: X's place holds Y.
fresh swap
paref swap "$C" "$X" "$Y"
must_differ swap
verify_bad 4 "$C" --key "$C.vkey"
one_of "$X" "$Y" swap
at "$xseg" "$xoff" swap
pass "swap: exit 4 at record $bad_index"

# --- insert a copy of X-1 numbered X before X: the copy fits the sequence,
# the original X after it repeats index X at position X+1.
fresh insert
paref insert "$C" "$X"
must_differ insert
read -r pidx pseg poff <<EOF
$(frame_pos "$C" "$((X + 1))")
EOF
[ "$pidx" = "$X" ] || fail "insert: position $((X + 1)) holds $pidx"
verify_bad 4 "$C" --key "$C.vkey"
one_of "$((X + 1))" "$X" insert
at "$pseg" "$poff" insert
pass "insert: exit 4 at record $bad_index"

# --- truncate below the last checkpoint, DIR/checkpoint kept: exit 6, the
# first missing record named.
T=$(($(cp_field 5 1) + 7))
fresh truncate
paref truncate "$C" "$T"
[ "$(record_count "$C")" -eq "$T" ] || fail "truncate left $(record_count "$C") records"
must_differ truncate
verify_bad 6 "$C" --key "$C.vkey"
one_of "$T" truncate
# without DIR/checkpoint only an auditor's copy of a later note shows it
rm -f "$C/checkpoint"
verify_ok "$C"
verify_bad 6 "$C" --key "$C.vkey" --trusted "$TMP/newest-note"
one_of "$T" "truncate, checkpoint removed, --trusted"
pass "truncate at $T: exit 6"

# --- splice record X from another log (same origin, same shape): the frame
# is well formed with the right index, so as for forge only the covering
# checkpoint's root shows it.
fresh splice
cmp -s <(paref frames "$A" | awk -v x="$X" '$1 == x') <(paref frames "$B" | awk -v x="$X" '$1 == x') &&
	[ "$(paref root "$A" "$((X + 1))")" = "$(paref root "$B" "$((X + 1))")" ] &&
	fail "logs a and b hold the same record $X"
paref splice "$C" "$B" "$X"
must_differ splice
verify_bad 4 "$C" --key "$C.vkey"
in_cover splice
pass "splice record $X from another log: exit 4 at record $bad_index"

# --- splice a whole segment from another log: its header names the other
# log: corrupt (3), in segment 1.
fresh splice-seg
seg1=seg-0000000000000001
[ -f "$B/$seg1" ] || fail "log b has no $seg1"
first1=$(paref frames "$A" | awk '$2 == 1 { print $1; exit }')
bfirst1=$(paref frames "$B" | awk '$2 == 1 { print $1; exit }')
cp "$B/$seg1" "$C/$seg1"
must_differ splice-seg
verify_bad 3 "$C" --key "$C.vkey"
[ "$bad_segment" = 1 ] || fail_cmd "spliced segment: first bad in segment $bad_segment"
one_of "$first1" "$bfirst1" "spliced segment"
pass "splice segment 1 from another log: exit 3 at record $bad_index"

# --- splice the other log's genesis (its key, its log id) as record 0.
fresh splice-genesis
paref splice "$C" "$B" 0
must_differ splice-genesis
verify_bad "3|5" "$C" --key "$C.vkey"
one_of 0 "splice genesis"
pass "splice genesis: exit $rc at record 0"

# --- replaced keys: a complete, self-consistent log made by someone else
# under the same origin, with our log.pub copied in: the pinned key fails.
cp "$A/log.pub" "$B/log.pub"
verify_ok "$B"
verify_bad 5 "$B" --key "$A.vkey"
one_of 0 "pinned key mismatch"
verify_bad 5 "$B" --key "$B/log.pub"
one_of 0 "pinned key mismatch (log.pub replaced)"
pass "replaced key: exit 5 at record 0"

# --- the original is untouched by all of this
verify_ok "$A"
[ "$(paref check "$A")" = "ok $total records $ncp checkpoints" ] || fail "original changed"
pass "untouched log still verifies"
exit 0
