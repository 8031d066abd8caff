#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-badinput.sh: the reader treats every byte of a log as hostile: corrupt
# lengths, truncated records, bad headers, empty and random segments must
# fail verify cleanly (no signal, within 20 s); a read-only log still
# verifies and refuses appends; a full disk fails appends without harming
# what was committed.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_TIMEOUT=20
seed=${PA_SEED:-$$}
RANDOM=$seed
say "# seed $seed"

S=$TMP/small
pa_init "$S"
seq 1 60 | sed 's/^/first /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$S" <"$TMP/lines"
expect 0 "$PRIVAUDIT" seal "$S"
seq 1 10 | sed 's/^/second /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$S" <"$TMP/lines"
expect 0 "$PRIVAUDIT" seal "$S"
seq 1 5 | sed 's/^/unsealed /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$S" <"$TMP/lines"
verify_ok "$S"
total=$(record_count "$S")
SEG0=seg-0000000000000000
X=20
read -r xseg xoff <<EOF
$(frame_at "$S" "$X")
EOF
[ "$(paref frames "$S" | awk -v x=$X '$1 == x { print $5 }')" = 31 ] || fail "record $X is not an application record"

fresh() {
	rm -rf "${TMP:?}/$1"
	cp -a "$S" "$TMP/$1"
	cp "$S.vkey" "$TMP/$1.vkey"
	C=$TMP/$1
}

# poke FILE OFFSET HEXBYTES: overwrite bytes in place
poke() {
	"$PYTHON3" -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); f.write(bytes.fromhex(sys.argv[3]))' "$1" "$2" "$3"
}

# bad_at WANT WHAT: verify_bad WANT naming record X at its frame
bad_at_x() {
	verify_bad "$1" "$C" --key "$C.vkey"
	[ "$bad_index $bad_segment $bad_offset" = "$X $xseg $xoff" ] ||
		fail_cmd "$2: first bad record $bad_index (segment $bad_segment, offset $bad_offset), expected $X ($xseg, $xoff)"
	pass "$2: exit $rc at record $X"
}

# --- frame lengths
fresh len-ffffffff; paref setlen "$C" $X 0xffffffff; bad_at_x 3 "length 0xffffffff"
fresh len-zero; paref setlen "$C" $X 0; bad_at_x 3 "length 0"
fresh len-8; paref setlen "$C" $X 8; bad_at_x 3 "length 8 (below the 9-byte minimum)"
fresh len-max1; paref setlen "$C" $X $((8 + 4194304 + 1)); bad_at_x 3 "length 8 + 4 MiB + 1"
# in range but running past the end of the log: corrupt, or a torn tail
# that the checkpoint file then shows as truncation
fresh len-huge; paref setlen "$C" $X $((8 + 4194304))
verify_fails "3|4|6" "$C" --key "$C.vkey"
pass "length 8 + 4 MiB, past the end: exit $rc"

# --- a truncated protobuf with a valid frame around it
fresh short-record; paref shorten "$C" $X; bad_at_x 3 "truncated record with a valid CRC"

# --- segment header fields
for f in "magic 0" "version 11" "header-length 15" "segment-number 23" \
	"first-index 31" "log-id 40"; do
	set -- $f
	fresh "hdr-$1"
	"$PYTHON3" -c 'import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1)
f.seek(o); f.write(bytes([b[0] ^ 0x08]))' "$C/$SEG0" "$2"
	must=$(paref check "$C" 2>&1) && fail "paref check passes with a bad $1"
	# A wrong first index is a bad header (format.md, verification step 1)
	# or, equally, records missing before the segment: 3 or 4.
	want=3
	[ "$1" = first-index ] && want="3|4"
	verify_bad "$want" "$C" --key "$C.vkey"
	[ "$bad_index $bad_segment" = "0 0" ] || fail_cmd "bad $1: first bad record $bad_index segment $bad_segment"
	pass "segment header, bad $1: exit $rc at record 0"
done

# --- empty and random segments
fresh empty-seg0; : >"$C/$SEG0"
verify_fails "1|3|6" "$C" --key "$C.vkey"
pass "empty segment 0: exit $rc"

fresh empty-seg1; : >"$C/seg-0000000000000001"
run_cmd "$PRIVAUDIT" verify "$C" --key "$C.vkey"
say "# an empty segment after the last one: exit $rc (0 as a torn start, or 3)"
case $rc in 0 | 3) ;; *) fail_cmd "empty trailing segment: exit $rc" ;; esac

fresh garbage-seg0; head -c 100000 /dev/urandom >"$C/$SEG0"
verify_fails "1|3|6" "$C" --key "$C.vkey"
pass "random segment 0: exit $rc"

fresh garbage-body
"$PYTHON3" -c 'import os, sys
p = sys.argv[1]; h = open(p, "rb").read(64)
open(p, "wb").write(h + os.urandom(50000))' "$C/$SEG0"
verify_fails "3|6" "$C" --key "$C.vkey"
pass "valid header, random frames: exit $rc"

fresh garbage-seg1; head -c 70000 /dev/urandom >"$C/seg-0000000000000001"
verify_fails 3 "$C" --key "$C.vkey"
pass "random segment 1 after a good one: exit 3"

fresh garbage-tail; head -c 3000 /dev/urandom >>"$C/$SEG0"
run_cmd "$PRIVAUDIT" verify "$C" --key "$C.vkey"
case $rc in 0 | 3) ;; *) fail_cmd "random bytes after the last frame: exit $rc" ;; esac
pass "random bytes after the last frame: exit $rc"

# --- random single-byte damage anywhere in the sealed part must be seen
# (in the unsealed tail, a length made to run past the end looks exactly
# like a torn write, which is not a failure)
lastoff=$(paref frames "$S" | awk '$5 == 23 { o = $3 } END { print o }')
for i in $(seq 1 20); do
	off=$((64 + (RANDOM * 32768 + RANDOM) % (lastoff - 64)))
	fresh "byte-$i"
	old=$(od -An -tx1 -j"$off" -N1 "$C/$SEG0" | tr -d ' ')
	new=$(printf '%02x' $(((0x$old + 1 + RANDOM % 255) % 256)))
	poke "$C/$SEG0" "$off" "$new"
	run_cmd "$PRIVAUDIT" verify "$C" --key "$C.vkey"
	case $rc in 3 | 4 | 6) ;; *) fail_cmd "byte $off changed from $old to $new: exit $rc" ;; esac
	rm -rf "$C"
done
pass "20 random byte changes in the sealed part: all detected"

# --- signing key state (log.key) missing, corrupt, another log's, or an
# older one restored: seal must refuse rather than sign with it, and the
# log must still verify.  The restored key already signed a checkpoint in
# the log; each key signs exactly one (doc/format.md).
K=$TMP/keys
pa_init "$K"
expect 0 "$PRIVAUDIT" append "$K" first
cp "$K/log.key" "$TMP/key-used"
expect 0 "$PRIVAUDIT" seal "$K"
pa_init "$TMP/keys-other"
for how in missing garbage other-log replayed; do
	fresh_k() {
		rm -rf "$TMP/k-$how"
		cp -a "$K" "$TMP/k-$how"
		cp "$K.vkey" "$TMP/k-$how.vkey"
		C=$TMP/k-$how
	}
	fresh_k
	case $how in
	missing) rm "$C/log.key" ;;
	garbage) head -c "$(wc -c <"$K/log.key")" /dev/urandom >"$C/log.key" ;;
	other-log) cp "$TMP/keys-other/log.key" "$C/log.key" ;;
	replayed) cp "$TMP/key-used" "$C/log.key" ;;
	esac
	run_cmd "$PRIVAUDIT" seal "$C"
	[ "$rc" -ne 0 ] || fail_cmd "seal with a $how log.key succeeded"
	[ -s "$TMP/err" ] || fail "seal with a $how log.key failed silently"
	verify_ok "$C"
	pass "log.key $how: seal refuses, log verifies"
done

# --- not a log
mkdir "$TMP/notalog"
head -c 64 /dev/urandom >"$TMP/notalog/$SEG0"
run_cmd "$PRIVAUDIT" verify "$TMP/notalog"
[ "$rc" -ne 0 ] || fail_cmd "a directory with one random segment verifies"
pass "random lone segment: exit $rc"

# --- read-only log: verify works, appends fail cleanly
if is_root; then
	RO=$TMP/ro
	mkdir "$RO"
	if mount -t tmpfs -o size=4m pa-test-ro "$RO" 2>"$TMP/err"; then
		on_exit "umount '$RO' || umount -l '$RO'"
		R=$RO/log
		pa_init "$R"
		expect 0 "$PRIVAUDIT" append "$R" before read-only
		mount -o remount,ro "$RO" || fail "remount read-only"
	else
		say "# SKIP read-only part: cannot mount a tmpfs as root: $(cat "$TMP/err")"
		R=""
	fi
else
	R=$TMP/rolog
	pa_init "$R"
	expect 0 "$PRIVAUDIT" append "$R" before read-only
	chmod -R a-w "$R"
fi
if [ -n "$R" ]; then
	run_cmd "$PRIVAUDIT" append "$R" on a read-only log
	[ "$rc" -eq 1 ] || fail_cmd "append to a read-only log: expected exit 1"
	[ -s "$TMP/err" ] || fail "append to a read-only log failed silently"
	run_cmd "$PRIVAUDIT" seal "$R"
	[ "$rc" -ne 0 ] || fail_cmd "seal of a read-only log succeeded"
	verify_ok "$R"
	[ "$(paref texts "$R")" = "before read-only" ] || fail "read-only log texts: $(paref texts "$R")"
	pass "read-only log: append and seal fail, verify passes"
fi

# --- full disk
if ! is_root; then
	say "# SKIP full-disk part: needs root to mount a small tmpfs"
	exit 0
fi
FULL=$TMP/full
mkdir "$FULL"
if ! mount -t tmpfs -o size=1m pa-test-full "$FULL" 2>"$TMP/err"; then
	say "# SKIP full-disk part: cannot mount a tmpfs: $(cat "$TMP/err")"
	exit 0
fi
on_exit "umount '$FULL' || umount -l '$FULL'"
F=$FULL/log
pa_init "$F"
committed=0
failed=""
for i in $(seq 1 200); do
	"$PYTHON3" -c 'import sys
for k in range(100): print("full-%s-%d %s" % (sys.argv[1], k, "y" * 200))' "$i" >"$TMP/chunk"
	run_cmd "$PRIVAUDIT" append "$F" <"$TMP/chunk"
	if [ "$rc" -eq 0 ]; then
		committed=$i
	else
		failed=$i
		break
	fi
done
[ -n "$failed" ] || fail "200 appends of 20 KB each fit in a 1 MB tmpfs"
[ "$rc" -eq 1 ] || fail_cmd "append on a full disk: expected exit 1"
[ -s "$TMP/err" ] || fail "append on a full disk failed silently"
say "# disk full at chunk $failed: $(head -c 200 "$TMP/err")"

# check_full [EXTRA...]: chunks 1..committed each complete and once, the
# failed chunk's lines at most once, and each EXTRA text once.
check_full() {
	paref texts "$F" >"$TMP/texts"
	"$PYTHON3" - "$TMP/texts" "$committed" "$failed" "$@" <<'EOF' || fail "full-disk log contents"
import collections, re, sys
texts = open(sys.argv[1]).read().split("\n")[:-1]
committed, failed = int(sys.argv[2]), int(sys.argv[3])
c = collections.Counter(texts)
bad = [t for t, n in c.items() if n > 1]
assert not bad, "duplicated: %r" % bad[:3]
for i in range(1, committed + 1):
    for k in range(100):
        t = "full-%d-%d %s" % (i, k, "y" * 200)
        assert c[t] == 1, "missing committed record full-%d-%d" % (i, k)
for t in sys.argv[4:]:
    assert c[t] == 1, "missing %r" % t
EOF
}

verify_ok "$F"
check_full
run_cmd "$PRIVAUDIT" seal "$F"
say "# seal on the full disk: exit $rc"
verify_ok "$F"
run_cmd "$PRIVAUDIT" append "$F" still full
[ "$rc" -ne 0 ] && say "# append on the full disk again: exit $rc"
verify_ok "$F"
check_full
pass "full disk: append exits 1, committed records intact, log verifies"

mount -o remount,size=8m "$FULL" || fail "grow the tmpfs"
expect 0 "$PRIVAUDIT" append "$F" after the disk was freed
expect 0 "$PRIVAUDIT" seal "$F"
verify_ok "$F"
check_full "after the disk was freed"
pass "after space is freed: append and seal work, log verifies"
exit 0
