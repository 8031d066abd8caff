#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-crash.sh: writers killed with SIGKILL at random moments lose nothing
# they reported committed and duplicate nothing; the log verifies both
# before and after the next writer recovers it.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_writer

ROUNDS=${PA_CRASH_ROUNDS:-6}
WRITERS=4
seed=${PA_SEED:-$$}
RANDOM=$seed
say "# seed $seed"

L=$TMP/log
pa_init "$L"

pids=""
kill_writers() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
}
on_exit kill_writers

specs=""     # ID:committed for every writer of every round
recovered="" # texts appended by privaudit append after each round

# rand_sleep MAX_CS: sleep a random 0 .. MAX_CS hundredths of a second
rand_sleep() {
	cs=$((RANDOM % ($1 + 1)))
	sleep "$((cs / 100)).$(printf '%02d' $((cs % 100)))"
}

for r in $(seq 1 "$ROUNDS"); do
	pids=""
	ids=""
	for w in $(seq 1 $WRITERS); do
		id=$((r * 10 + w))
		batch=$((1 + RANDOM % 20))
		seal=""
		[ $((w % 2)) -eq 0 ] && seal=$((1 + RANDOM % 4))
		# A subshell waits for the writer, so the shell's "Killed" job
		# notices go to /dev/null rather than into the test log.
		rm -f "$TMP/w$id.pid"
		(
			"$PA_WRITER" "$L" "$id" 1000000 "$batch" $seal >"$TMP/w$id.out" 2>"$TMP/w$id.err" &
			echo $! >"$TMP/w$id.pid"
			wait $!
		) 2>/dev/null &
		ids="$ids $id"
	done
	for id in $ids; do
		while [ ! -s "$TMP/w$id.pid" ]; do sleep 0.01; done
		pids="$pids $(cat "$TMP/w$id.pid")"
	done
	rand_sleep 40
	for p in $pids; do
		rand_sleep 20
		kill -9 "$p" 2>/dev/null
	done
	wait
	pids=""
	line=""
	for id in $ids; do
		n=$(last_committed "$TMP/w$id.out")
		if [ "$n" -eq 0 ] && [ -s "$TMP/w$id.err" ]; then
			say "# writer $id printed: $(head -c 300 "$TMP/w$id.err")"
		fi
		specs="$specs $id:$n"
		line="$line $id:$n"
	done
	say "# round $r: committed$line"

	# Every other round, also leave what a power cut mid-write would: the
	# first bytes of one more frame.
	torn=0
	if [ $((r % 2)) -eq 1 ]; then
		torn=$((1 + RANDOM % 20))
		paref tear "$L" "$torn" || fail "paref tear"
	fi

	# Before any recovery: a torn tail is not a failure, and every
	# committed record is there.
	verify_ok "$L"
	run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --json
	t=$(json_get "$TMP/out" 'j["torn_bytes"]')
	say "# round $r: torn tail of $t bytes"
	[ "$torn" -eq 0 ] || [ "$t" -ge "$torn" ] || fail_cmd "verify reports $t torn bytes, at least $torn were left"
	ncut=$(ls "$L" | grep -c '^cut-')
	nrecov=$(paref frames "$L" 2>/dev/null | awk '$5 == 21' | wc -l)
	paref texts "$L" >"$TMP/texts"
	check_writers "$TMP/texts" $specs

	# A new writer recovers the tail; then all must still hold.
	expect 0 "$PRIVAUDIT" append "$L" "recovery-round-$r"
	recovered="$recovered recovery-round-$r"
	run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --json
	[ "$rc" -eq 0 ] || fail_cmd "verify after recovery, round $r"
	[ "$(json_get "$TMP/out" 'j["torn_bytes"]')" = 0 ] ||
		fail_cmd "a torn tail is left after privaudit append recovered the log"
	chk=$(paref check "$L") || fail "paref check, round $r: $chk"
	if [ "$t" -gt 0 ]; then
		[ "$(ls "$L" | grep -c '^cut-')" -gt "$ncut" ] || fail "the torn tail was cut without a cut-S-O file"
		[ "$(paref frames "$L" 2>/dev/null | awk '$5 == 21' | wc -l)" -gt "$nrecov" ] ||
			fail "the torn tail was cut without a recovery record"
	fi
	paref texts "$L" >"$TMP/texts"
	check_writers "$TMP/texts" $specs
	for t in $recovered; do
		[ "$(grep -cx -- "$t" "$TMP/texts")" -eq 1 ] || fail "$t is not in the log exactly once"
	done
done

nrec=$(grep -c '^w' "$TMP/texts")
[ "$nrec" -gt 0 ] || fail "no writer committed anything in $ROUNDS rounds"
expect 0 "$PRIVAUDIT" seal "$L"
verify_ok "$L"
ls "$L" | grep -q '^cut-' && say "# recovery kept: $(ls "$L" | grep '^cut-' | tr '\n' ' ')"
pass "$ROUNDS rounds of $WRITERS writers killed: $nrec writer records, all committed ones present once"

# --- The narrow windows of a seal, which random kills rarely hit, rebuilt
# by hand on copies of a log sealed once more.  The state cache is removed
# as a crash before its write would leave it stale: a writer rescans.
S=$TMP/seal
pa_init "$S"
seq 1 5 | sed 's/^/before-seal-/' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$S" <"$TMP/lines"
cp "$S/checkpoint" "$TMP/old-checkpoint"
cp "$S/log.key" "$TMP/old-key"
expect 0 "$PRIVAUDIT" seal "$S"
n=$(paref frames "$S" | tail -n 1 | cut -d' ' -f1)
[ "$(paref frames "$S" | tail -n 1 | cut -d' ' -f5)" = 23 ] || fail "the seal's last record is not a checkpoint"

# window 1: next key stored (with the signed note), checkpoint record and
# DIR/checkpoint not yet written: the next writer appends the record.
W=$TMP/window1
cp -a "$S" "$W"
cp "$S.vkey" "$W.vkey"
paref truncate "$W" "$n"
cp "$TMP/old-checkpoint" "$W/checkpoint"
rm -f "$W/state"
verify_ok "$W"
expect 0 "$PRIVAUDIT" append "$W" after window 1
verify_ok "$W"
[ "$(paref checkpoints "$W" | wc -l)" -eq 2 ] || fail "window 1: the signed checkpoint was not appended by the next writer"
grep -q '^checkpoints: *2 verified' "$TMP/out" || fail_cmd "window 1: verify does not count 2 checkpoints"
pass "seal interrupted after storing the next key: finished by the next writer"

# window 2: rotation record written, next key not stored: the old key has
# signed nothing, the next seal rotates again and signs with it.
W=$TMP/window2
cp -a "$S" "$W"
cp "$S.vkey" "$W.vkey"
paref truncate "$W" "$n"
cp "$TMP/old-checkpoint" "$W/checkpoint"
cp "$TMP/old-key" "$W/log.key"
rm -f "$W/state"
verify_ok "$W"
expect 0 "$PRIVAUDIT" append "$W" after window 2
expect 0 "$PRIVAUDIT" seal "$W"
verify_ok "$W"
grep -q '^checkpoints: *2 verified' "$TMP/out" || fail_cmd "window 2: verify does not count 2 checkpoints"
pass "seal interrupted before storing the next key: the next seal works"

# a new segment whose header was cut short
W=$TMP/newseg
cp -a "$S" "$W"
cp "$S.vkey" "$W.vkey"
"$PYTHON3" -c 'import struct, sys
d = sys.argv[1]; h = open(d + "/seg-0000000000000000", "rb").read(64)
h = h[:16] + struct.pack(">QQ", 1, int(sys.argv[2])) + h[32:]
open(d + "/seg-0000000000000001", "wb").write(h[:40])' "$W" "$((n + 1))"
verify_ok "$W"
expect 0 "$PRIVAUDIT" append "$W" after a torn segment header
verify_ok "$W"
[ "$(paref texts "$W" | tail -n 1)" = "after a torn segment header" ] || fail "append after a torn segment header"
pass "a torn new segment header is recovered"
exit 0
