#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-stream.sh: audisp-privaudit fed generated auditd plugin streams
# (tests/gen-audit-stream.py: every record type, RAW and ENRICHED, malformed
# lines, huge argv, missing EOE, interleaved events, records split across
# reads) writes the right records (checked with paref.py's reader), never
# crashes, and leaves a log that verifies; queue overflow becomes a gap
# record; sessions known only from PAM audit events are named from them;
# SIGHUP reloads, SIGTERM drains and seals.
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
# every line of the input was either read or counted lost, once: the line a
# drop tears is lost, and counted, not read as a line of its own
lines=$(sed -n 's/.* lines \([0-9]*\) .*/\1/p' "$TMP/err")
[ "$((lines + dropped))" -eq "$(wc -l <"$TMP/big.stream")" ] ||
	fail_cmd "overflow: $lines lines read + $dropped lost != $(wc -l <"$TMP/big.stream") lines in the input"
verify_ok "$L"
pass "queue overflow: $dropped dropped records reported in gap records, $lines read"

# The gap comes when the writer has caught up, while auditd's pipe stays
# open and idle: not at the next input or at the end of it.
L=$TMP/overflow-idle
pa_init "$L"
mkfifo "$TMP/ofifo"
"$PA_PLUGIN" --dir "$L" --queue-bytes 65536 --test-slow-writer 30 --commit-ms 50 --stats \
	<"$TMP/ofifo" 2>"$TMP/oerr" &
opid_=$!
on_exit "kill -9 $opid_"
exec 8>"$TMP/ofifo"
cat "$TMP/big.stream" >&8
# overflow_gaps: the lines the log's queue-overflow gap records count
overflow_gaps() {
	$RECS dump "$L" >"$TMP/dump" 2>/dev/null
	"$PYTHON3" -c '
import json, sys
print(sum(r.get("count", 0) for r in map(json.loads, open(sys.argv[1]))
          if r.get("kind") == "gap" and r.get("reason") == "queue-overflow"))' "$TMP/dump"
}
# what the gap records count once it has stopped changing for 2 s (at most 20 s)
open_gaps=-1
stable=0
for _ in $(seq 200); do
	g=$(overflow_gaps)
	if [ "$g" -gt 0 ] && [ "$g" -eq "$open_gaps" ]; then
		stable=$((stable + 1))
		[ "$stable" -ge 20 ] && break
	else
		stable=0
	fi
	open_gaps=$g
	sleep 0.1
done
exec 8>&-
wait "$opid_"
dropped=$(sed -n 's/.* dropped \([0-9]*\) .*/\1/p' "$TMP/oerr")
[ "${dropped:-0}" -gt 0 ] || fail "overflow, input open and idle: nothing was dropped: the test proves nothing"
[ "$open_gaps" -eq "$dropped" ] ||
	fail "overflow, input open and idle: the gap records counted $open_gaps lines before the input ended, $dropped were lost"
[ "$(overflow_gaps)" -eq "$dropped" ] ||
	fail "overflow, input open and idle: gap records count $(overflow_gaps), $dropped lines were lost"
verify_ok "$L"
pass "queue overflow, input open and idle: every lost line in gap records before the input ends ($dropped)"

# auditd writes a record at a time: a queue of small reads holds about what
# it counts (2 MiB here), not a 64 KiB chunk a read (some 60 MiB resident).
L=$TMP/small-reads
pa_init "$L"
mkfifo "$TMP/sfifo"
"$PA_PLUGIN" --dir "$L" --queue-bytes 2097152 --test-slow-writer 1000 <"$TMP/sfifo" 2>/dev/null &
spid_=$!
on_exit "kill -9 $spid_"
"$PYTHON3" - "$TMP/sfifo" "/proc/$spid_/status" >"$TMP/rss" <<'EOF' || fail "small reads: feeder failed"
import os, sys, time
def rss():
    return int(next(l.split()[1] for l in open(sys.argv[2]) if l.startswith("VmRSS")))
fd = os.open(sys.argv[1], os.O_WRONLY)
line = b"type=USER_CMD msg=audit(1700000000.001:%d): pid=1 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=6C73 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n"
os.write(fd, line % 0)
time.sleep(0.5)
before = rss()
sent = n = 0
while sent < 12 << 20:           # six times the bound, a line a write,
    sent += os.write(fd, line % n)
    n += 1
    if n % 2 == 0:
        time.sleep(0.0001)       # slowly enough for the reader to take each alone
time.sleep(0.5)
print(before, rss())
os.close(fd)
EOF
read -r rss0 rss1 <"$TMP/rss"
kill -9 "$spid_"
wait "$spid_" 2>/dev/null
[ "$((rss1 - rss0))" -lt 8192 ] ||
	fail "small reads: the plugin grew by $((rss1 - rss0)) KiB for a 2 MiB queue"
pass "small reads: $((rss1 - rss0)) KiB more resident for a 2 MiB queue, 12 MiB sent a line at a time"

# auditd's own DAEMON_* records are numbered by auditd, and can meet a
# kernel event's serial: they never join it.  With only_keys, records the
# kernel logs during a system call (TTY, LOGIN) stay, though a SYSCALL
# record with no key follows them; rule events keep only the keys listed.
L=$TMP/serials
pa_init "$L"
printf 'only_keys = privaudit-exec\n' >"$TMP/keys.conf"
{
	sys='arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=10 pid=11 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="id" exe="/usr/bin/id" subj=unconfined'
	printf 'type=SYSCALL msg=audit(1700000000.100:5000): %s key="privaudit-exec"\n' "$sys"
	printf 'type=EXECVE msg=audit(1700000000.100:5000): argc=2 a0="id" a1="-u"\n'
	printf 'type=DAEMON_ROTATE msg=audit(1700000000.101:5000): op=rotate-logs auid=4294967295 pid=800 uid=0 ses=4294967295 subj=unconfined res=success\n'
	printf 'type=CWD msg=audit(1700000000.100:5000): cwd="/root"\n'
	printf 'type=EOE msg=audit(1700000000.100:5000): \n'
	printf 'type=SYSCALL msg=audit(1700000000.150:5001): %s key="other-key"\n' "$sys"
	printf 'type=EXECVE msg=audit(1700000000.150:5001): argc=1 a0="not-kept"\n'
	printf 'type=EOE msg=audit(1700000000.150:5001): \n'
	printf 'type=TTY msg=audit(1700000000.200:8000): tty pid=6000 uid=0 auid=1000 ses=3 major=136 minor=0 comm="bash" data=726D202D7266202F0D\n'
	printf 'type=SYSCALL msg=audit(1700000000.200:8000): %s key=(null)\n' "${sys/syscall=59/syscall=0}"
	printf 'type=EOE msg=audit(1700000000.200:8000): \n'
	printf 'type=LOGIN msg=audit(1700000000.300:8001): pid=1500 uid=0 subj=unconfined old-auid=4294967295 auid=1000 tty=(none) old-ses=4294967295 ses=3 res=1\n'
	lsys=${sys/syscall=59/syscall=1}
	printf 'type=SYSCALL msg=audit(1700000000.300:8001): %s key=(null)\n' "${lsys/\/usr\/bin\/id/\/usr\/sbin\/sshd}"
	printf 'type=EOE msg=audit(1700000000.300:8001): \n'
	printf "type=USER_START msg=audit(1700000000.500:8003): pid=4242 uid=0 auid=1000 ses=3 subj=unconfined msg='op=PAM:session_open grantors=pam_limits,pam_unix acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/0 res=success'\n"
	# records the kernel logs during a system call, in front of a SYSCALL
	# of another key, or none: not kept under only_keys
	printf 'type=AVC msg=audit(1700000000.700:8005): avc:  denied  { read } for pid=11 comm="avc-marker"\n'
	printf 'type=SYSCALL msg=audit(1700000000.700:8005): %s key="other-key"\n' "$sys"
	printf 'type=EOE msg=audit(1700000000.700:8005): \n'
	printf 'type=NETFILTER_CFG msg=audit(1700000000.710:8006): table=nf-marker family=2 entries=1\n'
	printf 'type=SYSCALL msg=audit(1700000000.710:8006): %s key=(null)\n' "$sys"
	printf 'type=EOE msg=audit(1700000000.710:8006): \n'
	# an execve whose last two arguments never arrived (lines over the
	# event's size limit): counted as cut
	printf 'type=SYSCALL msg=audit(1700000000.720:8007): %s key="privaudit-exec"\n' "$sys"
	printf 'type=EXECVE msg=audit(1700000000.720:8007): argc=3 a0="partial"\n'
	printf 'type=EOE msg=audit(1700000000.720:8007): \n'
	# a quote inside a user message (libaudit does not encode it)
	printf "type=USER_CMD msg=audit(1700000000.600:8004): pid=1 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=\"/tmp/a'terminal=evil\" exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n"
	# a time no millisecond count can hold: recorded, without a time
	printf "type=USER_CMD msg=audit(18446744073709551.400:8002): pid=1 uid=1000 auid=1000 ses=3 msg='cwd=\"/\" cmd=6C73 exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\n"
} >"$TMP/serials.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --config "$TMP/keys.conf" --boot-id "$BOOT" <"$TMP/serials.stream"
[ "$rc" -eq 0 ] || fail_cmd "serials: plugin exited $rc"
$RECS dump "$L" >"$TMP/dump"
"$PYTHON3" - "$TMP/dump" <<'EOF' || fail "serials and keys: records wrong (see above)"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
cmds = [r for r in rs if r["kind"] == "command"]
assert len(cmds) == 4, cmds
assert cmds[0]["argv"] == ["id", "-u"] and "argv_cut" not in cmds[0], cmds[0]
assert cmds[1]["argv"] == ["partial", "", ""] and cmds[1]["argv_cut"] == 2, cmds[1]
assert cmds[2]["argv"] == ["/tmp/a'terminal=evil"] and cmds[2]["tty"] == "pts/0", cmds[2]
assert cmds[2]["success"] is True, cmds[2]
assert cmds[3]["argv"] == ["ls"] and "audit_time_ms" not in cmds[3], cmds[3]
assert "avc-marker" not in json.dumps(rs) and "nf-marker" not in json.dumps(rs), "only_keys let them in"
cfg = [r for r in rs if r["kind"] == "config_change"]
assert len(cfg) == 1 and "DAEMON_ROTATE" in json.dumps(cfg[0]), cfg
tty = [r for r in rs if r["kind"] == "tty_input"]
assert len(tty) == 1, [r["kind"] for r in rs]
login = [r for r in rs if r["kind"] == "audit_event" and "LOGIN" in json.dumps(r)]
assert len(login) == 1, [r["kind"] for r in rs]
# who did it: from the event's SYSCALL record (the LOGIN record has no exe)
assert login[0]["auid"] == 1000 and login[0]["ses"] == 3, login[0]
assert login[0]["exe"] == "/usr/sbin/sshd", login[0]
# a PAM event's fields, parsed (the account, operation and terminal are in its msg)
pam = [r for r in rs if r["kind"] == "audit_event" and r.get("types") == ["USER_START"]]
assert len(pam) == 1, [r.get("types") for r in rs]
want = {"auid": 1000, "ses": 3, "uid": 0, "pid": 4242, "acct": "root", "op": "PAM:session_open",
        "exe": "/usr/bin/sudo", "terminal": "/dev/pts/0", "hostname": "?", "addr": "?",
        "success": True, "audit_time_ms": 1700000000500}
got = {k: pam[0].get(k, 0 if k == "uid" else None) for k in want}   # 0 is not written
assert got == want, got
# each keeps the time of its audit event, not of the append
times = [x.get("audit_time_ms") for x in (cmds[0], cfg[0], tty[0], login[0])]
assert times == [1700000000100, 1700000000101, 1700000000200, 1700000000300], times
assert "not-kept" not in json.dumps(rs)
EOF
# the session starts when its earliest event happened, not when it was read
expect 0 "$PRIVAUDIT" sessions "$L" --json
"$PYTHON3" -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
mine = [x for x in s if x["key"].endswith(":3")]
assert len(mine) == 1 and mine[0]["start_ns"] == 1700000000100000000, s
' "$TMP/out" || fail_cmd "sessions: the session does not start at its earliest audit time"
verify_ok "$L"
pass "a DAEMON_* record with a kernel event's serial stays apart; only_keys keeps TTY and LOGIN; audit times kept; PAM fields parsed; a quote in a message"

# Sessions known only from audit events (pam_privaudit in no PAM stack):
# who, target, service, remote host and tty from their USER_LOGIN and
# USER_START events, marked as taken from audit; a session a PAM open names
# stays as that says.  Session 41 is an sshd login then sudo, 42 a sudo
# alone (who is then known by login uid only), 1 a session pa-sessions
# opened with PAM records, which gets audit events too.
L=$TMP/audit-who
pa_init "$L"
PA_SESSIONS=${PA_SESSIONS:-${top_builddir:-.}/tests/pa-sessions}
[ -x "$PA_SESSIONS" ] || fail "pa-sessions not built: $PA_SESSIONS"
expect 0 "$PA_SESSIONS" "$L" 1 1 --boot "$BOOT"
expect 0 "$PRIVAUDIT" sessions "$L" --json
cp "$TMP/out" "$TMP/pam-before.json"
{
	ev() {   # TYPE SERIAL PID AUID SES MSG
		printf "type=%s msg=audit(1700000100.%03d:%d): pid=%d uid=0 auid=%d ses=%d subj=unconfined msg='%s'\n" \
			"$1" "$(($2 % 1000))" "$2" "$3" "$4" "$5" "$6"
	}
	cmd() {   # SERIAL PID AUID SES
		printf 'type=SYSCALL msg=audit(1700000100.%03d:%d): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=1 pid=%d auid=%d uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts3 ses=%d comm="id" exe="/usr/bin/id" subj=unconfined key="privaudit-exec"\n' \
			"$(($1 % 1000))" "$1" "$2" "$3" "$4"
		printf 'type=EXECVE msg=audit(1700000100.%03d:%d): argc=2 a0="id" a1="-u"\n' "$(($1 % 1000))" "$1"
		printf 'type=EOE msg=audit(1700000100.%03d:%d): \n' "$(($1 % 1000))" "$1"
	}
	ev USER_ACCT 9101 700 4294967295 4294967295 'op=PAM:accounting grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=198.51.100.7 addr=198.51.100.7 terminal=ssh res=success'
	ev USER_START 9102 700 1001 41 'op=PAM:session_open grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=198.51.100.7 addr=198.51.100.7 terminal=ssh res=success'
	ev USER_LOGIN 9103 700 1001 41 'op=login id=1001 exe="/usr/sbin/sshd" hostname=198.51.100.7 addr=198.51.100.7 terminal=/dev/pts/3 res=success'
	ev USER_START 9104 710 1001 41 'op=PAM:session_open grantors=pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/3 res=success'
	cmd 9105 711 1001 41
	ev USER_ACCT 9201 800 1002 42 'op=PAM:accounting grantors=pam_unix acct="bob" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/4 res=success'
	ev USER_START 9202 800 1002 42 'op=PAM:session_open grantors=pam_unix acct="root" exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/4 res=success'
	cmd 9203 801 1002 42
	ev USER_LOGIN 9301 900 1000 1 'op=login acct="mallory" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.66 terminal=/dev/pts/9 res=success'
	ev USER_START 9302 900 1000 1 'op=PAM:session_open grantors=pam_unix acct="operator" exe="/usr/bin/su" hostname=? addr=? terminal=/dev/pts/9 res=success'
} >"$TMP/who.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$BOOT" <"$TMP/who.stream"
[ "$rc" -eq 0 ] || fail_cmd "audit-who: plugin exited $rc"
expect 0 "$PRIVAUDIT" sessions "$L" --json
"$PYTHON3" - "$TMP/out" "$BOOT" "$TMP/pam-before.json" <<'EOF' || fail "sessions --json: who from audit events (see above)"
import json, sys
s = {x["key"].rsplit(":", 1)[1]: x for x in map(json.loads, open(sys.argv[1]))}
want = {"41": ("alice", "root", "sshd", "198.51.100.7", "/dev/pts/3", 1001, True),
        "42": ("", "root", "sudo", "", "/dev/pts/4", 1002, True)}
for ses, w in want.items():
    x = s[ses]
    got = (x["user"], x["target"], x["service"], x["rhost"], x["tty"], x["auid"], x["who_from_audit"])
    assert got == w, (ses, got, w)
    assert x["pam"] is False and x["commands"] == 1, x
before = json.loads(open(sys.argv[3]).readline())
after = s["1"]
for k in ("user", "target", "service", "rhost", "tty", "auid", "pam"):
    assert before[k] == after[k], (k, before[k], after[k])
assert after["who_from_audit"] is False and after["pam"] is True, after
EOF
expect 0 "$PRIVAUDIT" sessions "$L"
grep -q ' alice -> root (audit)  *sshd  *198.51.100.7  */dev/pts/3 ' "$TMP/out" ||
	fail_cmd "sessions: the sshd login is not shown from audit events"
grep -q ' auid 1002 -> root (audit)  *sudo  *-  */dev/pts/4 ' "$TMP/out" ||
	fail_cmd "sessions: the sudo session is not shown from audit events"
grep -q ' user0 -> root  *sshd  *10.0.0.7  *ssh ' "$TMP/out" && ! grep -q 'user0.*(audit)' "$TMP/out" ||
	fail_cmd "sessions: the session a PAM open names changed"
expect 0 "$PRIVAUDIT" replay "$L" "$BOOT:41"
grep -q '^who:      alice -> root via sshd (from audit events)$' "$TMP/out" || fail_cmd "replay: who of session 41"
grep -q '^from:     198.51.100.7  tty /dev/pts/3$' "$TMP/out" || fail_cmd "replay: from of session 41"
expect 0 "$PRIVAUDIT" replay "$L" "$BOOT:42"
grep -q '^who:      auid 1002 -> root via sudo (from audit events)$' "$TMP/out" || fail_cmd "replay: who of session 42"
expect 0 "$PRIVAUDIT" replay "$L" "$BOOT:1"
grep -q '^who:      user0 -> root via sshd$' "$TMP/out" || fail_cmd "replay: the PAM session's who changed"
verify_ok "$L"
pass "sessions known only from audit events: who, target, service, rhost, tty from USER_LOGIN/USER_START, marked; a PAM session unchanged"

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
