#!/bin/bash
# plugin-stream.sh: audisp-privaudit fed generated auditd plugin streams
# (tests/gen-audit-stream.py: every record type, RAW and ENRICHED, malformed
# lines, huge argv, missing EOE, interleaved events, records split across
# reads) writes the right records (checked with paref.py's reader), never
# crashes, and leaves a log that verifies; queue overflow becomes a gap
# record; SIGHUP reloads, SIGTERM drains and seals.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
GEN="$PYTHON3 $pa_here/gen-audit-stream.py"
RECS="$PYTHON3 $pa_here/plugin-records.py"
BOOT=00000000-test-boot-0000-000000000000
seed=${PA_SEED:-$$}
say "# seed $seed"

# check_stream NAME GEN-ARGS...: generate, ingest to EOF, check, verify.
check_stream() {
	name=$1
	shift
	L=$TMP/$name
	pa_init "$L"
	$GEN --expect "$TMP/$name.json" "$@" >"$TMP/$name.stream" || fail "generator failed"
	run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$BOOT" --stats <"$TMP/$name.stream"
	[ "$rc" -eq 0 ] || fail_cmd "$name: plugin exited $rc"
	$RECS check "$L" "$TMP/$name.json" >"$TMP/check" 2>&1 || {
		cat "$TMP/check" >&2
		fail "$name: records wrong"
	}
	verify_ok "$L"
	pass "$name: $(cat "$TMP/check")"
}

check_stream raw --seed "$seed" --events 300
check_stream enriched --seed "$((seed + 1))" --events 300 --enriched

# Records split at random points across reads: the same stream through a
# pipe in random pieces gives the same records.
L=$TMP/chunked
pa_init "$L"
$GEN --seed "$((seed + 2))" --events 300 --enriched --expect "$TMP/chunked.json" --chunked |
	timeout -k 5 "$PA_TIMEOUT" "$PA_PLUGIN" --dir "$L" --boot-id "$BOOT" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail_cmd "chunked: plugin exited $rc"
$RECS check "$L" "$TMP/chunked.json" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "chunked: records wrong"; }
verify_ok "$L"
pass "chunked: $(cat "$TMP/check")"

# Garbage of every kind: no crash, everything kept as UNPARSED, verifies.
L=$TMP/junk
pa_init "$L"
head -c 300000 /dev/urandom >"$TMP/junk.stream"
printf 'type=SYSCALL msg=audit(1.1:1): a=b\ntype=EOE msg=audit(1.1:1):\n\n\n' >>"$TMP/junk.stream"
run_cmd "$PA_PLUGIN" --dir "$L" <"$TMP/junk.stream"
[ "$rc" -eq 0 ] || fail_cmd "junk: plugin exited $rc"
verify_ok "$L"
pass "random bytes: no crash, log verifies"

# Queue overflow: a writer made slow drops events, and says so.
L=$TMP/overflow
pa_init "$L"
$GEN --seed "$seed" --events 2000 --mode bench >"$TMP/big.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --queue-bytes 65536 --test-slow-writer 30 --stats <"$TMP/big.stream"
[ "$rc" -eq 0 ] || fail_cmd "overflow: plugin exited $rc"
dropped=$(sed -n 's/.* dropped \([0-9]*\) .*/\1/p' "$TMP/err")
[ "${dropped:-0}" -gt 0 ] || fail_cmd "overflow: nothing was dropped: the test proves nothing"
$RECS dump "$L" >"$TMP/dump"
gapsum=$("$PYTHON3" -c '
import json, sys
print(sum(r.get("count", 0) for r in map(json.loads, open(sys.argv[1]))
          if r.get("kind") == "gap" and r.get("reason") == "queue-overflow"))' "$TMP/dump")
[ "$gapsum" -eq "$dropped" ] || fail "overflow: gap records count $gapsum, the plugin dropped $dropped"
verify_ok "$L"
pass "queue overflow: $dropped dropped records reported in gap records"

# SIGHUP reloads the config file, SIGTERM drains, stops, seals, exits 0.
L=$TMP/signals
pa_init "$L"
printf 'heartbeat = 1\ncommit_ms = 50\n' >"$TMP/plugin.conf"
mkfifo "$TMP/fifo"
"$PA_PLUGIN" --dir "$L" --config "$TMP/plugin.conf" --boot-id "$BOOT" <"$TMP/fifo" 2>"$TMP/sigerr" &
ppid_=$!
on_exit "kill -9 $ppid_"
exec 9>"$TMP/fifo"
$GEN --seed "$seed" --events 50 --mode bench >&9
sleep 0.5
printf 'heartbeat = 1\nonly_keys = nothing-matches\n' >"$TMP/plugin.conf"
kill -HUP "$ppid_"
sleep 0.3
$GEN --seed "$((seed + 9))" --events 50 --mode bench >&9
sleep 2.2
kill -TERM "$ppid_"
t0=$(date +%s%N)
wait "$ppid_"
rc=$?
t1=$(date +%s%N)
exec 9>&-
[ "$rc" -eq 0 ] || { cat "$TMP/sigerr" >&2; fail "SIGTERM: exit $rc"; }
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 3000 ] || fail "SIGTERM: took ${ms} ms to exit"
$RECS dump "$L" >"$TMP/dump"
"$PYTHON3" - "$TMP/dump" <<'EOF' || fail "signals: records wrong"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
kinds = [r["kind"] for r in rs]
execs = [r for r in rs if r["kind"] == "command" and r.get("source") == "execve"]
assert kinds.count("writer_start") == 1 and kinds.count("writer_stop") == 1, kinds
assert kinds.count("heartbeat") >= 1, "no heartbeat in 2 s with heartbeat = 1"
assert kinds[-1] == "checkpoint", "not sealed at exit"
# before SIGHUP every execve event is kept; after it only_keys matches none
assert 30 <= len(execs) <= 50, "%d execve commands" % len(execs)
EOF
verify_ok "$L"
pass "SIGHUP reloads (only_keys applied), heartbeat sealed, SIGTERM exit in ${ms} ms"
exit 0
