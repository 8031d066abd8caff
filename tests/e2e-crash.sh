#!/bin/bash
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
		"$PA_WRITER" "$L" "$id" 1000000 "$batch" $seal >"$TMP/w$id.out" 2>"$TMP/w$id.err" &
		pids="$pids $!"
		ids="$ids $id"
	done
	rand_sleep 150
	for p in $pids; do
		rand_sleep 30
		kill -9 "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
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

	# Before any recovery: a torn tail is not a failure, and every
	# committed record is there.
	verify_ok "$L"
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
exit 0
