#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-concurrency.sh: 16 processes appending to one log at once, with
# different batch sizes, some sealing: every record lands exactly once, in
# each writer's order, and the log verifies.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_writer

WRITERS=${PA_WRITERS:-16}
COUNT=${PA_COUNT:-500}

L=$TMP/log
pa_init "$L"

pids=""
kill_writers() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
}
on_exit kill_writers

specs=""
start=$(date +%s)
for id in $(seq 1 "$WRITERS"); do
	case $((id % 3)) in
	0) batch=1 ;;
	1) batch=7 ;;
	2) batch=100 ;;
	esac
	seal=""
	[ $((id % 4)) -eq 0 ] && seal=$((1 + id % 5))
	timeout -k 5 120 "$PA_WRITER" "$L" "$id" "$COUNT" "$batch" $seal >"$TMP/w$id.out" 2>"$TMP/w$id.err" &
	pids="$pids $!"
	specs="$specs $id:=$COUNT"
done

id=0
for p in $pids; do
	id=$((id + 1))
	wait "$p"
	st=$?
	[ "$st" -eq 0 ] || fail "writer $id exited $st: $(head -c 500 "$TMP/w$id.err")"
	n=$(last_committed "$TMP/w$id.out")
	[ "$n" -eq "$COUNT" ] || fail "writer $id last printed committed $n, not $COUNT"
done
pids=""
say "# $WRITERS writers done in $(($(date +%s) - start)) s"

verify_ok "$L"
total=$(record_count "$L")
grep -q "^records: *$total in" "$TMP/out" || fail_cmd "verify does not report $total records"
chk=$(paref check "$L") || fail "paref check: $chk"
paref texts "$L" >"$TMP/texts"
check_writers "$TMP/texts" $specs
napp=$(wc -l <"$TMP/texts")
[ "$napp" -eq $((WRITERS * COUNT)) ] || fail "$napp application records, expected $((WRITERS * COUNT))"
say "# $chk"
pass "$WRITERS writers x $COUNT records: each exactly once, log verifies"
exit 0
