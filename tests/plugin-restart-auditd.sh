#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-restart-auditd.sh: under a real auditd (root only), the plugin is
# stopped (SIGSTOP) while audited commands run, so that their events wait
# in auditd's pipe to it, then killed (kill -9); auditd starts it again.
# What the killed plugin never got must be counted by a plugin-restart gap
# record: every serial auditd's own log holds and the signed log lacks is
# in a gap record, and every serial a plugin-restart gap counts is an event
# auditd had.  The test starts its own auditd with a private configuration
# and one rule of its own, stops it by its pid, deletes the rule and puts
# back the audit state found before, even on failure.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
is_root || skip "needs root"
pa_host_lock
for t in auditd auditctl pgrep; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
auditctl -s >"$TMP/status" 2>&1 || skip "kernel audit not available here: $(head -1 "$TMP/status")"
other=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$TMP/status")
[ "${other:-0}" -eq 0 ] || skip "an audit daemon (pid $other) already runs: not disturbing it"
prev_enabled=$(sed -n 's/^enabled \([0-9]*\)$/\1/p' "$TMP/status")
[ "$prev_enabled" = 2 ] && skip "audit configuration is locked (enabled 2)"

# A program of our own to run: the rule audits its executions only.
TRIG=$TMP/pa-restart-true
cp /bin/true "$TRIG" && chmod 0755 "$TRIG" || fail "cp /bin/true"
case "$(uname -m)" in
x86_64 | aarch64 | ppc64le | s390x | riscv64) arch=b64 ;;
*) arch=b32 ;;
esac
RULE="-a always,exit -F arch=$arch -S execve -F path=$TRIG -F key=pa-restart-$$"
apid=""
rule_added=""
restore() {
	if [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; then
		pkids=$(pgrep -P "$apid")
		kill -TERM "$apid"
		for _ in $(seq 1 50); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$apid" 2>/dev/null
		for p in $pkids; do kill -CONT "$p" 2>/dev/null; done
	fi
	# shellcheck disable=SC2086
	[ -n "$rule_added" ] && auditctl ${RULE/-a /-d } >/dev/null 2>&1
	[ -n "$prev_enabled" ] && auditctl -e "$prev_enabled" >/dev/null 2>&1
}
on_exit restore

L=$TMP/log
pa_init "$L"
A=$TMP/audit
mkdir -p "$A/plugins.d" "$A/log"
chmod 0750 "$A" "$A/log"
sed -e '/^[[:space:]]*\(log_file\|plugin_dir\|log_format\|write_logs\|max_restarts\)[[:space:]]*=/d' \
	/etc/audit/auditd.conf >"$A/auditd.conf" 2>/dev/null || : >"$A/auditd.conf"
cat >>"$A/auditd.conf" <<EOF
log_file = $A/log/audit.log
write_logs = yes
log_format = RAW
plugin_dir = $A/plugins.d
max_restarts = 10
EOF
cat >"$A/plugin.conf" <<EOF
dir = $L
heartbeat = 5
commit_ms = 50
EOF
plugin_path=$(cd "$(dirname "$PA_PLUGIN")" && pwd)/$(basename "$PA_PLUGIN")
cat >"$A/plugins.d/privaudit.conf" <<EOF
active = yes
direction = out
path = $plugin_path
type = always
args = --config $A/plugin.conf
format = string
EOF
chmod 0640 "$A/auditd.conf" "$A/plugins.d/privaudit.conf" "$A/plugin.conf"

# shellcheck disable=SC2086
auditctl $RULE >"$TMP/out" 2>"$TMP/err" || fail_cmd "auditctl $RULE"
rule_added=1
sh -c 'echo 4294967295 >/proc/self/loginuid 2>/dev/null; exec auditd -n -c "$1"' sh "$A" \
	>"$TMP/auditd.out" 2>&1 &
apid=$!
for _ in $(seq 1 50); do
	auditctl -s 2>/dev/null | grep -qx "pid $apid" && break
	kill -0 "$apid" 2>/dev/null || { cat "$TMP/auditd.out" >&2; fail "auditd exited at start"; }
	sleep 0.1
done
auditctl -s | grep -qx "pid $apid" || fail "auditd did not register with the kernel"
# the plugin: auditd's child (the libtool wrapper execs the program)
plugin_pid() { pgrep -P "$apid" | head -n 1; }
for _ in $(seq 1 50); do
	[ -n "$(plugin_pid)" ] && break
	sleep 0.1
done
p1=$(plugin_pid)
[ -n "$p1" ] || { cat "$TMP/auditd.out" >&2; fail "auditd did not start the plugin"; }

# run_trig N: run the audited program N times
run_trig() { for _ in $(seq 1 "$1"); do "$TRIG"; done; }
# commands_in_log: execve command records of $TRIG in the signed log
commands_in_log() {
	"$PRIVAUDIT" export "$L" --json --kind command 2>/dev/null | grep -c "\"exe\":\"$TRIG\""
}
# wait_commands N: until the log holds N of them (20 s at most)
wait_commands() {
	for _ in $(seq 1 100); do
		[ "$(commands_in_log)" -ge "$1" ] && return 0
		sleep 0.2
	done
	fail "the log holds $(commands_in_log) commands of $TRIG, not $1, after 20 s"
}

run_trig 20
wait_commands 20
# stopped, the plugin reads nothing: the next events wait in its pipe
kill -STOP "$p1"
run_trig 40
sleep 0.5
kill -9 "$p1"
# auditd starts it again when it next has an event for it
p2=""
for _ in $(seq 1 100); do
	run_trig 1
	p2=$(plugin_pid)
	[ -n "$p2" ] && [ "$p2" != "$p1" ] && break
	p2=""
	sleep 0.1
done
[ -n "$p2" ] || { cat "$TMP/auditd.out" >&2; fail "auditd did not start the plugin again after kill -9"; }
say "# plugin $p1 killed, auditd started $p2"
n_before=$(commands_in_log)
run_trig 20
wait_commands $((n_before + 20))
kill -TERM "$apid"
for _ in $(seq 1 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$apid" 2>/dev/null && fail "auditd did not stop on SIGTERM"
wait "$apid" 2>/dev/null
apid=""

verify_ok "$L"
run_cmd "$PRIVAUDIT" export "$L" --json
[ "$rc" -eq 0 ] || fail_cmd "export"
cp "$TMP/out" "$TMP/export"
"$PYTHON3" - "$A/log/audit.log" "$TMP/export" "$TRIG" >"$TMP/result" <<'EOF' || fail "restart under auditd: $(cat "$TMP/result")"
import json, re, sys
hdr = re.compile(r"(?:node=\S+ +)?type=(\S+) msg=audit\(\d+\.\d+:(\d+)\)")
audit = {}          # serial -> the types auditd logged for it
for line in open(sys.argv[1], errors="replace"):
    m = hdr.match(line)
    if m and not m.group(1).startswith("DAEMON_") and m.group(1) != "EOE":
        audit.setdefault(int(m.group(2)), set()).add(m.group(1))
rs = [json.loads(l) for l in open(sys.argv[2])]
recorded = {r["fields"]["serial"] for r in rs
            if r["kind"] in ("command", "audit_event", "tty_input", "config_change")
            and not r["fields"].get("type", "").startswith("DAEMON_")}
gaps = [r["fields"] for r in rs if r["kind"] == "gap" and r["fields"].get("first_serial")]
trig = {r["fields"]["serial"] for r in rs if r["kind"] == "command" and r["fields"].get("exe") == sys.argv[3]}
lo, hi = min(trig), max(trig)
missing = sorted(s for s in audit if lo <= s <= hi and s not in recorded)
bad = []
if not missing:
    bad.append("nothing was lost: the kill came when the pipe was empty, the test proves nothing")
covered = set()
for g in gaps:
    rng = [s for s in range(g["first_serial"], g["last_serial"] + 1) if s not in recorded]
    if g["count"] != len(rng):
        bad.append("gap %s counts %d, %d serials of its range are not in the log" % (g, g["count"], len(rng)))
    covered |= set(rng)
    if g["reason"] == "plugin-restart":
        made_up = [s for s in rng if s not in audit]
        if made_up:
            bad.append("plugin-restart gap %s counts serials auditd never had: %s" % (g, made_up[:10]))
lost_unsaid = [s for s in missing if s not in covered]
if lost_unsaid:
    bad.append("%d events auditd had are neither in the log nor in a gap: %s" % (len(lost_unsaid), lost_unsaid[:10]))
restart = [g for g in gaps if g["reason"] == "plugin-restart"]
if not restart:
    bad.append("no plugin-restart gap record")
print("; ".join(bad) if bad else "%d events lost at the kill, counted by %s" % (
    len(missing), ", ".join("%s %d (%d-%d)" % (g["reason"], g["count"], g["first_serial"], g["last_serial"])
                            for g in gaps)))
sys.exit(1 if bad else 0)
EOF
pass "real auditd, plugin killed with events in its pipe: $(cat "$TMP/result")"
