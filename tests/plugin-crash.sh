#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-crash.sh: audisp-privaudit killed with SIGKILL mid-stream, then
# restarted: the log verifies after every kill, no event is recorded twice,
# the killed runs show as writer-start records without a writer-stop, and a
# tail torn by a kill mid-write is cut on restart and recorded (recovery).
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
GEN="$PYTHON3 $pa_here/gen-audit-stream.py"
RECS="$PYTHON3 $pa_here/plugin-records.py"
ROUNDS=${PA_CRASH_ROUNDS:-3}
seed=${PA_SEED:-$$}
RANDOM=$seed
say "# seed $seed"

L=$TMP/log
pa_init "$L"
pid_=""
on_exit '[ -n "$pid_" ] && kill -9 $pid_'

for r in $(seq 1 "$ROUNDS"); do
	$GEN --seed "$((seed + r))" --events 3000 --mode bench >"$TMP/s$r" || fail "generator"
	# paced: about 2 s of stream, so the kill lands mid-stream
	"$PYTHON3" -c '
import sys, time
d = open(sys.argv[1], "rb").read()
for i in range(0, len(d), 8192):
    sys.stdout.buffer.write(d[i:i + 8192]); sys.stdout.flush(); time.sleep(0.004)
' "$TMP/s$r" 2>/dev/null | "$PA_PLUGIN" --dir "$L" --commit-ms 20 2>"$TMP/err$r" &
	pid_=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pid_=$(pgrep -P "$$" -n -f -- "audisp-privaudit --dir $L" || true)
		[ -n "$pid_" ] && break
		sleep 0.05
	done
	[ -n "$pid_" ] || fail "plugin did not start"
	# 0.3 to 1.1 s ("0.$((3 + RANDOM % 9))" gave 0.10 and 0.11 s: a kill
	# before the plugin's writer start)
	d_=$((3 + RANDOM % 9))
	sleep "$((d_ / 10)).$((d_ % 10))"
	kill -9 "$pid_" 2>/dev/null || fail "round $r: plugin already gone before the kill"
	wait 2>/dev/null
	pid_=""
	verify_ok "$L"
	say "# round $r: killed; $(record_count "$L") records, verifies"
done

# A kill in the middle of a write leaves part of a frame: make one.
expect 0 "$PYTHON3" "$PAREF" tear "$L" 23
$GEN --seed "$seed" --events 20 >"$TMP/last" || fail "generator"
run_cmd "$PA_PLUGIN" --dir "$L" <"$TMP/last"
[ "$rc" -eq 0 ] || fail_cmd "restart after the kills: exit $rc"
verify_ok "$L"
$RECS dump "$L" >"$TMP/dump"
"$PYTHON3" - "$TMP/dump" "$ROUNDS" <<'EOF' || fail "records after the kills are wrong"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rounds = int(sys.argv[2])
kinds = [r["kind"] for r in rs]
starts, stops = kinds.count("writer_start"), kinds.count("writer_stop")
assert starts == rounds + 1 and stops == 1, "writer start/stop %d/%d" % (starts, stops)
rec = [r for r in rs if r["kind"] == "recovery"]
# the tear made above is cut and recorded last; a kill -9 that landed in
# the middle of a write tore a frame too, and each of those is cut and
# recorded at the next start, as any torn tail is
# (more than 23 bytes when the last kill had torn a frame before it)
assert rec and rec[-1].get("bytes_cut", 0) >= 23, "recovery records: %r" % rec
assert len(rec) <= rounds + 1, "more recoveries than restarts: %r" % rec
assert all(r.get("reason") == "incomplete frame" and r.get("bytes_cut", 0) > 0 for r in rec), \
    "recovery records: %r" % rec
cmds = [(r.get("serial"), r.get("writer_pid")) for r in rs if r["kind"] == "command"]
assert len(cmds) == len(set(cmds)), "a command recorded twice by one run"
assert len(cmds) > 0, "nothing was committed before the kills"
print("%d commands, %d writer starts, %d recoveries, the last cut %d bytes" % (len(cmds), starts, len(rec), rec[-1]["bytes_cut"]))
EOF
pass "kill -9 x$ROUNDS: verifies after each, cut torn tail recorded, no duplicates"
exit 0
