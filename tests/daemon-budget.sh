#!/bin/bash
# SPDX-License-Identifier: ISC
# daemon-budget.sh: privauditd's disk budget (max_log_bytes).  A log over
# its budget with nothing the collector acknowledged: privauditd archives
# nothing, alerts, and with budget_policy = refuse answers requests
# "failed" (PAM's failmode decides) without hanging any.  Once ship-state
# says the collector has the records (and a SIGHUP), a child process
# archives the oldest segments into archive_dir, down to 3/4 of the budget,
# while requests are still answered; the daemon takes records again, the
# live log verifies from its segment_start, and joined with the archive
# verifies whole, with every record counted.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_python
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"

L=$TMP/log
A=$TMP/archive
SOCK=$TMP/privauditd.sock
BUDGET=300000
pa_init "$L"
# about 600 kB in segments of 20 kB, as a busy plugin would leave them
seq 6000 | sed 's/^/an old record, line /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$L" --batch 100 --segment-size 20000 <"$TMP/lines"
expect 0 "$PRIVAUDIT" seal "$L"
live() { cat "$L"/seg-* | wc -c; }
[ "$(live)" -gt "$BUDGET" ] || fail "the log is not over the budget to begin with"

cat >"$TMP/privauditd.conf" <<EOF
max_log_bytes = $BUDGET
archive_dir = $A
budget_policy = refuse
EOF
cat >"$TMP/send.py" <<'EOF'
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire
sock, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
res = {"ok": 0, "failed": 0, "silent": 0}
why = ""
for k in range(n):
    req = pawire.request("session_open", [("service", "pa-budget"), ("user", "root"),
                                          ("pid", k), ("session_key", "%s-%d" % (tag, k))])
    try:
        ans = pawire.call(sock, req, timeout=5)
    except OSError:
        ans = None
    if ans is None:
        res["silent"] += 1
    elif ans[0] == pawire.OK:
        res["ok"] += 1
    else:
        res["failed"] += 1
        why = ans[1] if len(ans) > 1 else ""
print("ok %d failed %d silent %d why %s" % (res["ok"], res["failed"], res["silent"], why))
EOF
send() { PAWIRE=$PAWIRE "$PYTHON3" "$TMP/send.py" "$SOCK" "$@"; }

pa_daemon_start "$L" "$SOCK" --config "$TMP/privauditd.conf" --heartbeat 2
# wait for the first look at the budget (every 5 s)
for _ in $(seq 100); do
	grep -q 'disk budget' "$TMP/privauditd.err" && break
	sleep 0.1
done
for _ in $(seq 100); do
	grep -q 'over max_log_bytes' "$TMP/privauditd.err" && break
	sleep 0.1
done
grep -q 'over max_log_bytes' "$TMP/privauditd.err" ||
	{ cat "$TMP/privauditd.err" >&2; fail "no alert while over the budget and unable to archive"; }
grep -q 'refused' "$TMP/privauditd.err" || fail "the alert does not say records are refused"
[ -e "$L/seg-0000000000000000" ] || fail "segments archived that the collector never acknowledged"
out=$(send refused 20)
case $out in
"ok 0 failed 20 silent 0"*"disk budget"*) ;;
*) fail "over the budget with budget_policy = refuse: $out" ;;
esac
pass "over the budget, nothing acknowledged: no archiving, a LOG_ALERT, requests refused at once"

# The collector acknowledged everything so far.
log_id=$("$PYTHON3" -c 'import sys; print(open(sys.argv[1] + "/seg-0000000000000000", "rb").read(64)[32:].hex())' "$L")
total=$(record_count "$L")
printf 'target=c:2514\ntls=no\nlog_id=%s\nacked=%s\n' "$log_id" "$total" >"$L/ship-state"
kill -HUP "$pa_daemon_pid"
for _ in $(seq 150); do
	[ -e "$L/archived" ] && grep -q 'back under' "$TMP/privauditd.err" && break
	out=$(send during 1)   # answered while the child archives
	case $out in *"silent 0"*) ;; *) fail "a request went unanswered while archiving: $out" ;; esac
	sleep 0.1
done
[ -e "$L/archived" ] || { cat "$TMP/privauditd.err" >&2; fail "nothing archived after the collector acknowledged"; }
for _ in $(seq 100); do
	grep -q 'back under' "$TMP/privauditd.err" && break
	sleep 0.1
done
grep -q 'archived [0-9]* segments' "$TMP/privauditd.err" || fail "the archiving is not logged"
grep -q 'back under' "$TMP/privauditd.err" || fail "the daemon does not say the log is back under its budget"
[ "$(live)" -le "$BUDGET" ] || fail "the live log takes $(live) bytes, over $BUDGET"
ls "$A" | grep -q '\.zst$' || fail "no archived segment in $A"
out=$(send after 20)
case $out in "ok 20 failed 0 silent 0"*) ;; *) fail "under the budget again: $out" ;; esac
pass "acknowledged and SIGHUP: archived down to $(live) bytes by a child, requests answered throughout, taken again"

pa_daemon_stop
verify_ok "$L"
grep -q '^archived:' "$TMP/out" || fail_cmd "the live log does not say it starts after archived records"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --archive "$A" --json
[ "$rc" -eq 0 ] || fail_cmd "joined verify"
n=$("$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))["records"])' "$TMP/out")
[ "$n" -gt "$total" ] || fail "joined verify counts $n records, fewer than the $total before"
pass "after SIGTERM: the live log verifies, and joined with the archive, all $n records"
