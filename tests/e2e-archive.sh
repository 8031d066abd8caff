#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-archive.sh: a log that lives through several archive cycles.  Closed
# segments move to an archive directory, zstd-compressed; the live log
# keeps verifying from its first segment's segment_start record (pinned key
# checked through the log id), the archive verifies on its own from the
# genesis record, and the two joined verify as the whole log, with every
# record counted.  Writers go on appending after each cycle, also after
# their state cache is lost.  Nothing the collector has not acknowledged
# (ship-state) is moved without --force.  A byte changed inside an
# archived segment, an archived segment that no longer decompresses, and a
# changed segment_start are each caught.  archive killed at each of its
# state-changing system calls leaves both sides verifiable with nothing
# lost, and running it again finishes.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_python
command -v zstd >/dev/null || skip "zstd (the command) is not installed"

L=$TMP/log
A=$TMP/archive
pa_init "$L"
appended=0

# grow ROUND: 1200 records in segments of about 20 kB, then a seal.
grow() {
	seq 1200 | sed "s/^/round $1 line /" >"$TMP/lines"
	expect 0 "$PRIVAUDIT" append "$L" --batch 100 --segment-size 20000 <"$TMP/lines"
	expect 0 "$PRIVAUDIT" seal "$L"
}

# count DIR [ARGS]: the records a passing verify reports.
count() {
	d=$1
	shift
	run_cmd "$PRIVAUDIT" verify "$d" --key "$L.vkey" --json "$@"
	[ "$rc" -eq 0 ] || fail_cmd "verify $d $*: expected exit 0"
	"$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/out"
}

# check_all: live, archive and joined verify; joined counts what the
# unarchived log had.
check_all() {
	want=$1
	verify_ok "$L"
	grep -q '^archived: *records 0\.\.' "$TMP/out" ||
		fail_cmd "verify of the live log does not say where it started"
	grep -q '^key: *pinned' "$TMP/out" || fail_cmd "the live log's pinned key is not checked"
	got=$(count "$L" --archive "$A")
	[ "$got" -eq "$want" ] || fail "joined verify counts $got records, the log had $want"
	grep -q '"started_at":0' "$TMP/out" || fail_cmd "joined verify did not start at record 0"
	verify_with_key "$A"
}

# verify_with_key DIR: verify pinned to the log's key must pass.
verify_with_key() {
	run_cmd "$PRIVAUDIT" verify "$1" --key "$L.vkey"
	[ "$rc" -eq 0 ] && grep -q '^result: *OK' "$TMP/out" || fail_cmd "verify $1: expected OK"
}

for round in 1 2 3; do grow "$round"; done
total=$(count "$L")
nseg=$(ls "$L" | grep -c '^seg-')
[ "$nseg" -gt 10 ] || fail "only $nseg segments: the test needs many"

# ---------------------------------------------------------------- the collector
expect 0 "$PRIVAUDIT" archive "$L" --to "$A" --before 1000000
grep -q 'collector has not acknowledged' "$TMP/out" ||
	fail_cmd "archive without ship-state and without --force moved something or did not say why"
[ -e "$L/seg-0000000000000000" ] || fail "segment 0 removed without acknowledgment"
log_id=$(sed -n 's/^log_id=//p' "$L/archived" 2>/dev/null)
[ -z "$log_id" ] || fail "an archived marker appeared though nothing was archived"
log_id=$("$PYTHON3" - "$L" <<'EOF'
import sys
with open(sys.argv[1] + "/seg-0000000000000000", "rb") as f:
    print(f.read(64)[32:64].hex())
EOF
)
# What privauditd writes once the collector acknowledged 1000 records.
printf 'target=collector:2514\ntls=no\nlog_id=%s\nacked=1000\n' "$log_id" >"$L/ship-state"
expect 0 "$PRIVAUDIT" archive "$L" --to "$A" --before 1000000 --json
"$PYTHON3" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] and j["segments"] > 0 and j["stopped_unshipped"], j
assert j["first_index"] <= 1000, j' "$TMP/out" || fail_cmd "archive past the acknowledged records"
check_all "$total"
pass "cycle 1: only what the collector acknowledged moved; live, archive and joined verify"

# ---------------------------------------------------------------- cycles
for round in 4 5; do
	grow "$round"
	total=$(count "$L")
	before=$(ls "$A" | grep -c '\.zst$')
	expect 0 "$PRIVAUDIT" archive "$L" --to "$A" --before $((total - 1500)) --force
	grep -q '^archived: ' "$TMP/out" || fail_cmd "cycle $round archived nothing"
	after=$(ls "$A" | grep -c '\.zst$')
	[ "$after" -gt "$before" ] || fail "cycle $round: no new archived segment"
	check_all "$total"
	# the writer after the cut, also when its state cache is lost
	rm -f "$L/state"
	grow "$round.b"
	total=$(count "$L")
	check_all "$total"
done
pass "cycles 2 and 3: archived with --force, writers go on (also rebuilding their state), all verifies"

# ---------------------------------------------------------------- readers
expect 0 "$PRIVAUDIT" show "$L" --kind application
first=$(sed -n '1s/^#\([0-9]*\) .*/\1/p' "$TMP/out")
start=$(sed -n 's/^first_index=//p' "$L/archived")
[ "$first" -gt "$start" ] || fail "show starts at record $first, before the live log's start $start"
grep -q 'round 5.b line 1200' "$TMP/out" || fail_cmd "show misses the newest records"
expect 0 "$PRIVAUDIT" show "$L" --verified --key "$L.vkey" --kind application
grep -q 'NOT VERIFIED\|UNVERIFIED' "$TMP/out" && fail_cmd "records of the live log not verified"
pass "readers start at the live log's first record, and verify"

# ---------------------------------------------------------------- damage
cp -a "$A" "$TMP/a.good"
z=$(ls "$A" | grep '\.zst$' | sed -n 3p)
n=${z%.zst}
mkdir "$TMP/one"
zstd -q -d "$A/$z" -o "$TMP/one/$n"
idx=$("$PYTHON3" "$PAREF" frames "$TMP/one" | sed -n '5{s/ .*//;p}')
expect 0 "$PYTHON3" "$PAREF" forge "$TMP/one" "$idx"
rm "$A/$z"
zstd -q -19 "$TMP/one/$n" -o "$A/$z"
verify_fails 4 "$L" --key "$L.vkey" --archive "$A"
[ "$bad_index" -le "$idx" ] || fail "a changed record $idx in $z reported at $bad_index"
verify_fails 4 "$A" --key "$L.vkey"
pass "a record changed inside archived $z: joined and archive-only verify fail (exit 4)"

rm -rf "$A" && cp -a "$TMP/a.good" "$A"
printf 'x' | dd of="$A/$z" bs=1 seek=40 conv=notrunc status=none
verify_fails 3 "$L" --key "$L.vkey" --archive "$A"
grep -q 'does not decompress' "$TMP/out" || fail_cmd "a damaged .zst is not named"
rm -rf "$A" && cp -a "$TMP/a.good" "$A"
pass "an archived segment that no longer decompresses: verify exit 3, named"

cp -a "$L" "$TMP/l.good"
expect 0 "$PYTHON3" "$PAREF" forge "$L" "$start"
verify_fails "3|4|5" "$L" --key "$L.vkey"
verify_fails "3|4|5" "$L" --key "$L.vkey" --archive "$A"
rm -rf "$L" && cp -a "$TMP/l.good" "$L"
pass "a changed segment_start record fails the live and the joined verify"

# ---------------------------------------------------------------- crashes
# archive killed at its Nth call of each state-changing system call.
command -v strace >/dev/null || skip "strace is not installed (the crash part)"
grow 6
total=$(count "$L")
crashes=0
for sc in renameat unlinkat fsync linkat; do
	for when in 1 2 4; do
		cp -a "$L" "$TMP/l.crash" && cp -a "$A" "$TMP/a.crash"
		(strace -f -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$when" \
			"$PRIVAUDIT" archive "$TMP/l.crash" --to "$TMP/a.crash" --before $((total - 300)) \
			--force) >/dev/null 2>&1
		run_cmd "$PRIVAUDIT" verify "$TMP/l.crash" --key "$L.vkey" --archive "$TMP/a.crash" --json
		[ "$rc" -eq 0 ] || fail_cmd "after a kill at $sc #$when: joined verify fails"
		got=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/out")
		[ "$got" -eq "$total" ] || fail "after a kill at $sc #$when: $got records of $total"
		run_cmd "$PRIVAUDIT" verify "$TMP/l.crash" --key "$L.vkey"
		[ "$rc" -eq 0 ] || fail_cmd "after a kill at $sc #$when: the live log alone fails"
		expect 0 "$PRIVAUDIT" archive "$TMP/l.crash" --to "$TMP/a.crash" --before $((total - 300)) --force
		got=$(count "$TMP/l.crash" --archive "$TMP/a.crash")
		[ "$got" -eq "$total" ] || fail "archive again after a kill at $sc #$when: $got of $total"
		verify_with_key "$TMP/a.crash"
		ls "$TMP/a.crash" | grep -q '\.tmp$' && fail "a temporary file left in the archive"
		rm -rf "$TMP/l.crash" "$TMP/a.crash"
		crashes=$((crashes + 1))
	done
done
pass "archive killed at $crashes points (renameat, unlinkat, fsync, linkat): nothing lost, both sides verify, a rerun finishes"
