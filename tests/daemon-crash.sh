#!/bin/bash
# SPDX-License-Identifier: ISC
# daemon-crash.sh: privauditd killed with SIGKILL in the middle of a stream
# of requests from several concurrent clients, three times, restarted each
# time.  Every request it answered OK (with sync and without: a killed
# process loses nothing it wrote) must be in the log exactly once, no
# request twice; the clients' later requests are recorded by the restarted
# daemon; each killed daemon left a writer_start with no writer_stop, the
# last one both; the log verifies after the last SIGTERM, nothing unsealed.
# Root is not needed (the daemon takes requests from its own user).

. "$(dirname "$0")/e2e-lib.sh"

need_privaudit
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"

LOG=$TMP/log
SOCK=$TMP/privauditd.sock
NCLIENTS=4
KILLS=3
pa_init "$LOG"
pa_daemon_start "$LOG" "$SOCK"
pids=$pa_daemon_pid

# client.py ID: requests with a unique session_key each, one after the
# other, until the stop file appears; each key answered OK is appended to
# the acked file at once, so a kill of the daemon never hides an answer.
cat >"$TMP/client.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire
sock, cid, acked, stop = sys.argv[1:5]
fd = os.open(acked, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
k = ok = other = errors = 0
while not os.path.exists(stop):
    key = "crash-%s-%d" % (cid, k)
    flags = pawire.SYNC if k % 2 == 0 else 0
    req = pawire.request("session_open", [("service", "daemon-crash"), ("user", "root"),
                                          ("pid", k), ("session_key", key)], flags)
    k += 1
    try:
        ans = pawire.call(sock, req, timeout=5)
    except OSError:
        ans = None
    if ans is not None and ans[0] == pawire.OK:
        os.write(fd, (key + "\n").encode())
        ok += 1
    elif ans is not None:
        other += 1
        print("%s: answered %d %s" % (key, ans[0], ans[1]), file=sys.stderr)
    else:
        errors += 1
        time.sleep(0.005)
print("client %s: %d sent, %d acknowledged, %d other answers, %d without answer"
      % (cid, k, ok, other, errors))
EOF

: >"$TMP/acked"
cpids=""
for c in $(seq 1 "$NCLIENTS"); do
	PAWIRE=$PAWIRE "$PYTHON3" "$TMP/client.py" "$SOCK" "$c" "$TMP/acked" "$TMP/stop" \
		>"$TMP/client-out.$c" 2>&1 &
	cpids="$cpids $!"
	on_exit "kill -9 $!"
done

acks() { wc -l <"$TMP/acked" | tr -d ' '; }
# wait_acks N: until N more requests than now were answered OK (at most 20 s)
wait_acks() {
	w_target=$(($(acks) + $1))
	w_i=0
	while [ "$(acks)" -lt "$w_target" ]; do
		w_i=$((w_i + 1))
		[ "$w_i" -lt 400 ] || { cat "$TMP/privauditd.err" >&2; fail "clients got only $(acks) answers, waited for $w_target"; }
		sleep 0.05
	done
}

for round in $(seq 1 "$KILLS"); do
	wait_acks 150
	kill -9 "$pa_daemon_pid" || fail "privauditd was not running"
	wait "$pa_daemon_pid" 2>/dev/null
	say "round $round: privauditd $pa_daemon_pid killed after $(acks) acknowledged requests"
	sleep 0.2   # the clients meet a dead socket meanwhile
	pa_daemon_start "$LOG" "$SOCK"
	pids="$pids $pa_daemon_pid"
done
wait_acks 150
touch "$TMP/stop"
for p in $cpids; do
	wait "$p" || fail "a client failed: $(cat "$TMP"/client-out.*)"
done
cat "$TMP"/client-out.*
grep -q 'other answers' "$TMP/client-out.1" || fail "client 1 did not finish"
grep -h ': answered' "$TMP"/client-out.* && fail "the daemon refused requests (see above)"
pa_daemon_stop
pass "$NCLIENTS clients, $KILLS kills of privauditd, $(acks) requests acknowledged"

verify_ok "$LOG"
grep -Eq '^unsealed: +0 records' "$TMP/out" || fail_cmd "records left unsealed after SIGTERM"
pass "the log verifies after the restarts and the last SIGTERM, nothing unsealed"

expect 0 "$PRIVAUDIT" export "$LOG" --json
cp "$TMP/out" "$TMP/export"
"$PYTHON3" - "$TMP/export" "$TMP/acked" $pids <<'EOF' || fail "acknowledged records lost or duplicated, or writer records wrong (see above)"
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
acked = open(sys.argv[2]).read().split()
pids = [int(p) for p in sys.argv[3:]]
bad = []
seen = collections.Counter(r["session"] for r in recs
                           if r["kind"] == "session_open" and (r["session"] or "").startswith("crash-"))
for key in acked:
    if seen[key] != 1:
        bad.append("acknowledged %s is in the log %d times" % (key, seen[key]))
dups = [k for k, n in seen.items() if n > 1]
if dups:
    bad.append("%d requests recorded more than once, e.g. %s" % (len(dups), dups[:5]))
if len(set(acked)) != len(acked):
    bad.append("a key was acknowledged twice")
# writers: each daemon announced itself; only the last one said goodbye
for i, pid in enumerate(pids):
    mine = [r["kind"] for r in recs if r["writer_pid"] == pid and r["kind"] in ("writer_start", "writer_stop")]
    last = i == len(pids) - 1
    if mine.count("writer_start") < 1:
        bad.append("privauditd %d: no writer_start" % pid)
    if not last and "writer_stop" in mine:
        bad.append("privauditd %d was killed, yet has a writer_stop" % pid)
    if last and mine[-1:] != ["writer_stop"]:
        bad.append("privauditd %d stopped with SIGTERM: no writer_stop last (%s)" % (pid, mine))
for b in bad[:20]:
    print(b, file=sys.stderr)
print("%d acknowledged, %d recorded (%d recorded without an answer seen)"
      % (len(acked), len(seen), len(set(seen) - set(acked))))
sys.exit(1 if bad else 0)
EOF
pass "every acknowledged request recorded exactly once; killed writers left writer_start without writer_stop"
exit 0
