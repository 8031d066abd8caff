#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-diskfull.sh: a user fills the log's disk through the auditd plugin
# (root only).  The log lives on a small tmpfs mounted by the test, most of
# it taken by a filler file.  Under a real auditd with the plugin, a
# non-root user runs a setuid program (umount --version) with huge
# arguments until the log's filesystem is down to its reserve; then root
# runs 10 commands.  Checked: each user's command record keeps at most the
# configured argv and raw caps and counts what was cut; none of root's 10
# is lost without a count: "disk-full" gap records name their serials, and
# seals went on meanwhile, in the reserve; the log verifies while the disk
# is full; once the filler is deleted, root's next 10 commands are
# recorded.  auditd is stopped by its pid, the rules and backlog limit
# found before are restored, the tmpfs unmounted and the user removed,
# even on failure.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
RULES=${top_builddir:-.}/audisp_privaudit/privaudit.rules
CONF=${top_builddir:-.}/audisp_privaudit/privaudit.conf
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
[ -r "$RULES" ] && [ -r "$CONF" ] || skip "rules or conf not made: $RULES $CONF"
is_root || skip "needs root"
pa_host_lock
for t in auditd auditctl useradd userdel setpriv mount umount fallocate df; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
SETUID=/usr/bin/umount
[ -u "$SETUID" ] || skip "$SETUID is not setuid here"
auditctl -s >"$TMP/status" 2>&1 || skip "kernel audit not available here: $(head -1 "$TMP/status")"
other=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$TMP/status")
[ "${other:-0}" -eq 0 ] || skip "an audit daemon (pid $other) already runs: not disturbing it"
prev_enabled=$(sed -n 's/^enabled \([0-9]*\)$/\1/p' "$TMP/status")
[ "$prev_enabled" = 2 ] && skip "audit configuration is locked (enabled 2)"
prev_backlog=$(sed -n 's/^backlog_limit \([0-9]*\)$/\1/p' "$TMP/status")

RESERVE=1048576           # the plugin's disk_reserve
ARGV_CAP=16384            # user_argv_cap
RAW_CAP=32768             # user_raw_cap
ARGS=4 ARGLEN=60000       # each exec: umount --version and 4 arguments of 60000 bytes
EXECS=80                  # enough to fill 1.5 MiB above the reserve twice over

# ---------------------------------------------------------------- cleanup
auditctl -l >"$TMP/rules.before" 2>&1 || fail "auditctl -l"
grep -qx 'No rules' "$TMP/rules.before" && : >"$TMP/rules.before"
USER_=padf$$
M=$TMP/mnt
apid=""
restore() {
	if [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; then
		kill -TERM "$apid"
		for _ in $(seq 1 50); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$apid" 2>/dev/null
	fi
	auditctl -D >/dev/null 2>&1
	[ -s "$TMP/rules.before" ] && auditctl -R "$TMP/rules.before" >/dev/null 2>&1
	[ -n "$prev_backlog" ] && auditctl -b "$prev_backlog" >/dev/null 2>&1
	[ -n "$prev_enabled" ] && auditctl -e "$prev_enabled" >/dev/null 2>&1
	mountpoint -q "$M" && { umount "$M" || umount -l "$M"; }
	id "$USER_" >/dev/null 2>&1 && userdel -r "$USER_" >/dev/null 2>&1
}
on_exit restore

# ---------------------------------------------------------------- setup
useradd -m -s /bin/sh "$USER_" || fail "useradd"
uid_=$(id -u "$USER_")
gid_=$(id -g "$USER_")
mkdir -p "$M"
mount -t tmpfs -o size=8m,mode=0755 tmpfs "$M" || skip "cannot mount a tmpfs here"
L=$M/log
pa_init "$L"

A=$TMP/audit
mkdir -p "$A/plugins.d" "$A/log"
chmod 0750 "$A" "$A/log"
sed -e '/^[[:space:]]*\(log_file\|plugin_dir\|log_format\|write_logs\)[[:space:]]*=/d' \
	/etc/audit/auditd.conf >"$A/auditd.conf" 2>/dev/null || : >"$A/auditd.conf"
cat >>"$A/auditd.conf" <<EOF
log_file = $A/log/audit.log
write_logs = yes
log_format = ENRICHED
plugin_dir = $A/plugins.d
EOF
cat >"$A/plugin.conf" <<EOF
dir = $L
heartbeat = 2
commit_ms = 100
disk_reserve = $RESERVE
user_argv_cap = $ARGV_CAP
user_raw_cap = $RAW_CAP
user_bytes_per_minute = 0
EOF
sed -e 's|^active = .*|active = yes|' -e "s|^path = .*|path = $(cd "$(dirname "$PA_PLUGIN")" && pwd)/$(basename "$PA_PLUGIN")|" \
	-e "s|^args = .*|args = --config $A/plugin.conf|" \
	"$CONF" >"$A/plugins.d/privaudit.conf"
chmod 0640 "$A/auditd.conf" "$A/plugins.d/privaudit.conf" "$A/plugin.conf"
# The shipped rules for commands only (setuid programs, root's commands):
# their watches name install paths this test does not need.
grep -e '-k privaudit-setuid$' -e '-F auid=0 -k privaudit-exec$' "$RULES" >"$A/privaudit.rules"
[ "$(wc -l <"$A/privaudit.rules")" -eq 4 ] || fail "the shipped rules changed: $(cat "$A/privaudit.rules")"
auditctl -b 8192 >/dev/null || fail "auditctl -b"
auditctl -R "$A/privaudit.rules" >"$TMP/out" 2>"$TMP/err" || fail_cmd "shipped rules do not load"

sh -c 'echo 4294967295 >/proc/self/loginuid 2>/dev/null; exec auditd -n -c "$1"' sh "$A" \
	>"$TMP/auditd.out" 2>&1 &
apid=$!
for _ in $(seq 1 50); do
	auditctl -s 2>/dev/null | grep -qx "pid $apid" && break
	kill -0 "$apid" 2>/dev/null || { cat "$TMP/auditd.out" >&2; fail "auditd exited at start"; }
	sleep 0.1
done
auditctl -s | grep -qx "pid $apid" || fail "auditd did not register with the kernel"
for _ in $(seq 1 50); do
	pgrep -P "$apid" >/dev/null && break
	sleep 0.1
done
pgrep -P "$apid" >/dev/null || { cat "$TMP/auditd.out" >&2; fail "auditd did not start the plugin"; }

# The filler takes all but 1.5 MiB above the reserve.
avail() { df --output=avail -B1 "$M" | tail -n 1 | tr -d ' '; }
sleep 1
fallocate -l $(($(avail) - RESERVE - 1536 * 1024)) "$M/filler" || fail "fallocate the filler"
say "# tmpfs: $(avail) bytes free, reserve $RESERVE"

dump() { "$PYTHON3" "$pa_here/plugin-records.py" dump "$L" >"$TMP/dump" 2>"$TMP/dump.err"; }
# wait_for SECONDS PYTHON-CONDITION: until it holds over the dumped records rs
wait_for() {
	for _ in $(seq 1 "$1"); do
		dump && "$PYTHON3" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/dump" "$2" && return 0
		sleep 1
	done
	return 1
}

# ---------------------------------------------------------------- the user
# A login session of the user: setuid execs with huge arguments.
nonce=$$$RANDOM
cat >"/home/$USER_/fill.sh" <<'EOF2'
big=$(head -c "$3" /dev/zero | tr '\0' a)
i=0
while [ "$i" -lt "$2" ]; do
	"$1" --version "pa-df-$4-$i" "$big" "$big" "$big" "$big" >/dev/null || exit 1
	i=$((i + 1))
	sleep 0.02
done
EOF2
chmod 0755 "/home/$USER_/fill.sh"
sh -c 'echo "$1" >/proc/self/loginuid || exit 1
exec setpriv --reuid="$1" --regid="$2" --init-groups env -i PATH=/usr/bin:/bin sh "$3" "$4" "$5" "$6" "$7"
' sh "$uid_" "$gid_" "/home/$USER_/fill.sh" "$SETUID" "$EXECS" "$ARGLEN" "$nonce" >"$TMP/user.out" 2>&1 ||
	{ cat "$TMP/user.out" >&2; fail "the user's execs failed"; }
wait_for 30 'any(r.get("kind") == "gap" and r.get("reason") == "disk-full" for r in rs)' ||
	fail "no disk-full gap record after $EXECS execs of $((ARGS * ARGLEN)) bytes of arguments ($(avail) bytes free): $(tail -3 "$TMP/dump.err")"
free_full=$(avail)
[ "$free_full" -lt $((2 * RESERVE)) ] || fail "the disk is not full: $free_full bytes free"
say "# full: $free_full bytes free"

# ---------------------------------------------------------------- root, disk full
# Root's commands while the disk is full (login uid 0, as after a root login).
root_cmds() {
	sh -c 'echo 0 >/proc/self/loginuid 2>/dev/null
		i=1
		while [ $i -le 10 ]; do /bin/echo "$1-$i" >/dev/null; i=$((i + 1)); done' sh "$1"
}
root_cmds "pa-df-root-full-$nonce"
# the heartbeat (2 s) seals, in the reserve, with the gap record counting them
sleep 5
verify_ok "$L"
say "# verifies while full: $(grep -m1 '^records' "$TMP/out")"

# ---------------------------------------------------------------- space again
rm -f "$M/filler"
sleep 1
root_cmds "pa-df-root-back-$nonce"
wait_for 20 'sum(1 for r in rs if r.get("kind") == "command" and any("pa-df-root-back-" in a for a in r.get("argv", []))) >= 10' ||
	fail "root's commands are not recorded once there is room again"

sleep 1
kill -TERM "$apid"
for _ in $(seq 1 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$apid" 2>/dev/null && fail "auditd did not stop on SIGTERM"
wait "$apid" 2>/dev/null
apid=""

verify_ok "$L"
dump || fail "cannot read the log: $(cat "$TMP/dump.err")"
# the serials auditd gave root's commands while the disk was full
cat "$A"/log/audit.log* 2>/dev/null | grep -a 'type=EXECVE ' | grep -a "pa-df-root-full-$nonce-" |
	sed -n 's/.*msg=audit([0-9.]*:\([0-9]*\)).*/\1/p' | sort -un >"$TMP/full-serials"
[ "$(wc -l <"$TMP/full-serials")" -eq 10 ] ||
	fail "auditd's log has $(wc -l <"$TMP/full-serials") of root's 10 commands"
"$PYTHON3" - "$TMP/dump" "$TMP/full-serials" "$nonce" "$uid_" "$ARGV_CAP" "$RAW_CAP" \
	"$ARGS" "$ARGLEN" "$SETUID" <<'EOF' || fail "the log does not account for what the full disk lost"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
full = [int(x) for x in open(sys.argv[2]).read().split()]
nonce, uid, argv_cap, raw_cap, nargs, arglen, setuid = sys.argv[3], int(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
bad = []
def cmds(token):
    return [(i, r) for i, r in enumerate(rs) if r.get("kind") == "command"
            and any(token in a for a in r.get("argv", []))]
# the user's execs that went in: capped, and the cut counted
user = [r for i, r in cmds("pa-df-" + nonce + "-")]
if not user:
    bad.append("none of the user's execs was recorded before the disk filled")
for r in user:
    argv = r.get("argv", [])
    whole = len(setuid) + len("--version") + len(argv[2]) + nargs * arglen if len(argv) > 2 else -1
    kept = sum(len(a) for a in argv)
    if r.get("auid") != uid:
        bad.append("user exec: auid %r" % r.get("auid"))
    if kept > argv_cap:
        bad.append("user exec %d: %d bytes of argv kept, cap %d" % (r["serial"], kept, argv_cap))
    if kept + r.get("argv_truncated_bytes", 0) != whole:
        bad.append("user exec %d: kept %d + argv_truncated_bytes %r != %d bytes of argv"
                   % (r["serial"], kept, r.get("argv_truncated_bytes"), whole))
    if not r.get("argv_cut"):
        bad.append("user exec %d: argv_cut not set" % r["serial"])
    raw = r.get("raw", "")
    if len(raw) > raw_cap + 1000 or not r.get("raw_truncated_bytes"):
        bad.append("user exec %d: raw %d bytes, raw_truncated_bytes %r"
                   % (r["serial"], len(raw), r.get("raw_truncated_bytes")))
gaps = [(i, r) for i, r in enumerate(rs) if r.get("kind") == "gap" and r.get("reason") == "disk-full"]
if not gaps:
    bad.append("no disk-full gap record")
for i, g in gaps:
    if g.get("count", 0) < 1 or g.get("bytes", 0) < g.get("count", 0) * 16 or \
       not 0 < g.get("first_time_ns", 0) <= g.get("last_time_ns", 0) <= g["time_ns"]:
        bad.append("gap record %d: %r" % (i, g))
# root's commands while full: none recorded, each counted by serial
if cmds("pa-df-root-full-" + nonce):
    bad.append("root's commands recorded while the disk was full (the reserve was not kept)")
for s in full:
    if not any(g.get("first_serial", 0) <= s <= g.get("last_serial", 0) for i, g in gaps):
        bad.append("root's command serial %d is in no disk-full gap record" % s)
# seals went on while full: a checkpoint after the first disk-full gap,
# before root's commands were recorded again
back = cmds("pa-df-root-back-" + nonce)
if len(back) != 10:
    bad.append("%d of root's 10 commands recorded once there was room" % len(back))
first_gap = gaps[0][0] if gaps else len(rs)
first_back = back[0][0] if back else len(rs)
if not any(r.get("kind") == "checkpoint" for r in rs[first_gap:first_back]):
    bad.append("no seal while the disk was full")
kinds = [r.get("kind") for r in rs]
if kinds.count("writer_start") != 1 or kinds.count("writer_stop") != 1 or kinds[-1] != "checkpoint":
    bad.append("writer start/stop/seal wrong: %s" % kinds[-6:])
for b in bad[:20]:
    print("plugin-diskfull: " + b, file=sys.stderr)
print("%d user execs recorded (argv cut to <= %d bytes), %d disk-full gap records counting %d events, "
      "%d bytes" % (len(user), argv_cap, len(gaps), sum(g.get("count", 0) for i, g in gaps),
                    sum(g.get("bytes", 0) for i, g in gaps)))
sys.exit(1 if bad else 0)
EOF
pass "full disk: root's commands counted in gap records, seals in the reserve, recorded again once there is room; user argv capped and counted"
exit 0
