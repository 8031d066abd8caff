#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-auditd.sh: audisp-privaudit under a real auditd (root only).  The
# test starts its own auditd with a private configuration (its own log file,
# plugin_dir holding only an active privaudit.conf), loads the shipped rules,
# has a test user with a login session run commands through real sudo,
# sudo -i and su -c, then checks that the signed log holds those commands
# with their argv, tied to the user's session key, and verifies, and that
# the CLI names the session from sudo's audit events.  It stops
# auditd by its pid, deletes the rules it loaded, restores the rules and
# audit state found before, and removes the user, even on failure.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
# the rules and conf as made by make, with the configured paths
RULES=${top_builddir:-.}/audisp_privaudit/privaudit.rules
CONF=${top_builddir:-.}/audisp_privaudit/privaudit.conf
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
[ -r "$RULES" ] && [ -r "$CONF" ] || skip "rules or conf not made: $RULES $CONF"
is_root || skip "needs root"
pa_host_lock
for t in auditd auditctl sudo su useradd userdel setpriv visudo; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t"
done
auditctl -s >"$TMP/status" 2>&1 || skip "kernel audit not available here: $(head -1 "$TMP/status")"
other=$(sed -n 's/^pid \([0-9]*\)$/\1/p' "$TMP/status")
[ "${other:-0}" -eq 0 ] || skip "an audit daemon (pid $other) already runs: not disturbing it"
prev_enabled=$(sed -n 's/^enabled \([0-9]*\)$/\1/p' "$TMP/status")
[ "$prev_enabled" = 2 ] && skip "audit configuration is locked (enabled 2)"
case "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" in
"") skip "no boot id" ;;
esac
boot_id=$(cat /proc/sys/kernel/random/boot_id)

# ---------------------------------------------------------------- cleanup
auditctl -l >"$TMP/rules.before" 2>&1 || fail "auditctl -l"
grep -qx 'No rules' "$TMP/rules.before" && : >"$TMP/rules.before"
USER_=pae2e$$
SUDOERS=/etc/sudoers.d/pa-e2e-$$
apid=""
restore() {
	if [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; then
		kill -TERM "$apid"
		for _ in $(seq 1 50); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$apid" 2>/dev/null
	fi
	auditctl -D >/dev/null 2>&1
	[ -s "$TMP/rules.before" ] && auditctl -R "$TMP/rules.before" >/dev/null 2>&1
	[ -n "$prev_enabled" ] && auditctl -e "$prev_enabled" >/dev/null 2>&1
	rm -f "$SUDOERS"
	id "$USER_" >/dev/null 2>&1 && userdel -r "$USER_" >/dev/null 2>&1
}
on_exit restore

# ---------------------------------------------------------------- setup
useradd -m -s /bin/bash "$USER_" || fail "useradd"
uid_=$(id -u "$USER_")
[ "$uid_" -ge 1000 ] || fail "test user got uid $uid_ < 1000: the rules select auid>=1000"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$USER_" >"$SUDOERS.tmp"
chmod 0440 "$SUDOERS.tmp"
visudo -cqf "$SUDOERS.tmp" || fail "sudoers file rejected"
mv "$SUDOERS.tmp" "$SUDOERS"

L=$TMP/log
pa_init "$L"
A=$TMP/audit
mkdir -p "$A/plugins.d" "$A/log"
chmod 0750 "$A" "$A/log"
# the system's auditd.conf, with our log, plugins and the enriched format
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
EOF
# the shipped conf, made active and pointed at this build
sed -e 's|^active = .*|active = yes|' -e "s|^path = .*|path = $(cd "$(dirname "$PA_PLUGIN")" && pwd)/$(basename "$PA_PLUGIN")|" \
	-e "s|^args = .*|args = --config $A/plugin.conf|" \
	"$CONF" >"$A/plugins.d/privaudit.conf"
grep -q '^format = string' "$A/plugins.d/privaudit.conf" || fail "shipped conf lost format = string"
chmod 0640 "$A/auditd.conf" "$A/plugins.d/privaudit.conf" "$A/plugin.conf"

# The shipped rules; the log-directory rules watch this test's log, and the
# rule leaving out the plugin's own writes names this build's plugin, as
# the kernel sees it run (the libtool wrapper execs the program in .libs).
# Watches and exe= rules of install paths whose directory does not exist
# yet (privaudit not installed, as under make distcheck) would stop
# auditctl: left out here.
grep -q '^-w /' "$RULES" || fail "no watches in $RULES"
grep -q -- '-F dir=/' "$RULES" || fail "no log directory rule in $RULES"
grep -q '^-a never,exit .*-F dir=/.*-F exe=/.*/audisp-privaudit ' "$RULES" ||
	fail "no rule leaving out the plugin's own writes in $RULES"
grep -q '@[a-z]*@' "$RULES" && fail "unsubstituted path in $RULES"
plugin_exe=$(cd "$(dirname "$PA_PLUGIN")" && pwd)/$(basename "$PA_PLUGIN")
for c in "$(dirname "$plugin_exe")/.libs/lt-$(basename "$plugin_exe")" \
	"$(dirname "$plugin_exe")/.libs/$(basename "$plugin_exe")"; do
	[ -x "$c" ] && { plugin_exe=$c; break; }
done
sed "s|-F dir=[^ ]*|-F dir=$L|" "$RULES" | while IFS= read -r line; do
	case "$line" in
	"-w "*)
		w=${line#-w }
		w=${w%% *}
		[ -d "$(dirname "$w")" ] || { say "# left out (not installed): $line"; continue; }
		;;
	*" -F exe="*/audisp-privaudit" "*)
		line=$(printf '%s\n' "$line" | sed "s|-F exe=[^ ]*|-F exe=$plugin_exe|")
		;;
	*" -F exe="*)
		w=${line#* -F exe=}
		w=${w%% *}
		[ -d "$(dirname "$w")" ] || { say "# left out (not installed): $line"; continue; }
		;;
	esac
	printf '%s\n' "$line"
done >"$A/privaudit.rules"
auditctl -R "$A/privaudit.rules" >"$TMP/out" 2>"$TMP/err" || fail_cmd "shipped rules do not load"
auditctl -l | grep -q 'privaudit-exec' || fail "rules not loaded"

# auditd in the foreground (-n), with no login uid, as when started at boot.
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
say "# auditd $apid, plugin $(pgrep -P "$apid" | tr '\n' ' ')"
# The rule leaving out the plugin's writes must name what really runs, or
# each of its appends would come back to it as events to append.
for _ in $(seq 1 50); do
	[ "$(readlink "/proc/$(pgrep -P "$apid" | head -n1)/exe")" = "$plugin_exe" ] && break
	sleep 0.1
done
ran=$(readlink "/proc/$(pgrep -P "$apid" | head -n1)/exe")
[ "$ran" = "$plugin_exe" ] || fail "the plugin runs as $ran, the rules leave out $plugin_exe"

# ---------------------------------------------------------------- the user
nonce=$$$RANDOM
# A login session: the shell sets its own login uid (a new audit session
# id), then becomes the user, as login or sshd would.
sh -c '
echo "$1" >/proc/self/loginuid || exit 1
cat /proc/self/sessionid >"$2"
exec setpriv --reuid="$1" --regid="$(id -g "$3")" --init-groups env HOME=/home/"$3" USER="$3" sh -c "
	sudo -n /bin/echo pa-e2e-sudo-$4 a\ b
	sudo -n -i /bin/echo pa-e2e-sudoi-$4
	sudo -n su -c \"/bin/echo pa-e2e-su-$4\" root
	sudo -n /usr/bin/touch $5
"' sh "$uid_" "$TMP/ses" "$USER_" "$nonce" "$SUDOERS" >"$TMP/user.out" 2>&1 ||
	{ cat "$TMP/user.out" >&2; fail "the user session failed"; }
ses=$(cat "$TMP/ses")
key="$boot_id:$ses"
# A write into the log directory by a process with no login uid (a daemon,
# or systemd-run): recorded, as any writer's but the plugin's and privauditd's.
# dd opens log.pub for appending and writes nothing.
sh -c 'echo 4294967295 >/proc/self/loginuid 2>/dev/null
	exec dd of="$1/log.pub" oflag=append conv=notrunc count=0 status=none </dev/null' sh "$L" ||
	fail "dd of=$L/log.pub"
grep -q "pa-e2e-su-$nonce" "$TMP/user.out" || { cat "$TMP/user.out" >&2; fail "commands did not run"; }
say "# user $USER_ uid $uid_ session $ses"

# let auditd pass the events on, then stop it: the plugin drains and seals
sleep 2
kill -TERM "$apid"
for _ in $(seq 1 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$apid" 2>/dev/null && fail "auditd did not stop on SIGTERM"
wait "$apid" 2>/dev/null
apid=""
grep -q "pa-e2e-sudo-$nonce" "$A/log/audit.log" || fail "auditd's own log lacks the commands: rules not effective"
grep 'type=SYSCALL ' "$A/log/audit.log" | grep 'key="privaudit-log"' >"$TMP/logdir-events"
grep -q "exe=\"$plugin_exe\"" "$TMP/logdir-events" &&
	fail "the plugin's own appends were audited ($(grep -c "exe=\"$plugin_exe\"" "$TMP/logdir-events") events)"
grep -q 'exe="[^"]*/dd"' "$TMP/logdir-events" ||
	fail "a write into the log directory by a process with no login uid was not audited"
say "# log directory events: $(wc -l <"$TMP/logdir-events"), none by the plugin"

verify_ok "$L"
"$PYTHON3" "$pa_here/plugin-records.py" dump "$L" >"$TMP/dump"
"$PYTHON3" - "$TMP/dump" "$nonce" "$key" "$uid_" "$(ldd "$(command -v sudo)" | grep -c libaudit)" <<'EOF' || fail "the log lacks what the user did"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
nonce, key, uid, sudo_audit = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def find(token, source="execve"):
    return [r for r in rs if r.get("kind") == "command" and r.get("source") == source
            and any(token in a for a in r.get("argv", []))]
bad = []
for how in ("sudo", "sudoi", "su"):
    tok = "pa-e2e-%s-%s" % (how, nonce)
    got = [r for r in find(tok) if r.get("exe", "").endswith("/echo")]
    if not got:
        bad.append("%s: no execve command record with %s" % (how, tok))
        continue
    r = got[0]
    if r.get("session_key") != key:
        bad.append("%s: session key %r, expected %r" % (how, r.get("session_key"), key))
    if r.get("auid") != uid or r.get("euid", 0) != 0:
        bad.append("%s: auid %r euid %r" % (how, r.get("auid"), r.get("euid")))
    if how == "sudo" and r.get("argv", [])[-1:] != ["a b"]:
        bad.append("sudo: argv %r lost the argument with a space" % r.get("argv"))
    if tok not in r.get("raw", ""):
        bad.append("%s: raw event text missing" % how)
if sudo_audit and not find("pa-e2e-sudo-" + nonce, "user_cmd"):
    bad.append("no USER_CMD command record from sudo")
kinds = [r.get("kind") for r in rs]
pam = [r for r in rs if r.get("kind") == "audit_event" and r.get("session_key") == key
       and set(r.get("types", [])) & {"USER_START", "USER_END", "USER_ACCT", "CRED_ACQ"}]
if not pam:
    bad.append("no PAM audit records of the session")
cfg = [r for r in rs if r.get("kind") == "audit_event" and "privaudit-config" in r.get("raw", "")
       and r.get("session_key") == key]
if not cfg:
    bad.append("the sudoers write was not recorded")
if kinds.count("writer_start") != 1 or kinds.count("writer_stop") != 1 or kinds[-1] != "checkpoint":
    bad.append("writer start/stop/seal wrong: %s" % kinds[-6:])
for b in bad:
    print("plugin-auditd: " + b, file=sys.stderr)
print("%d records, %d commands in session %s" % (len(rs), len([r for r in rs if r.get("kind") == "command" and r.get("session_key") == key]), key))
sys.exit(1 if bad else 0)
EOF
pass "real auditd + sudo, sudo -i, su -c: commands in the signed log under $key, verifies"

# No PAM module in sudo's stack here: the session is known from its audit
# events alone.  sudo's USER_START names the target and the program; who
# logged in has no USER_LOGIN (the shell set its login uid itself), so the
# login uid stands in.
expect 0 "$PRIVAUDIT" sessions "$L" --json
"$PYTHON3" - "$TMP/out" "$key" "$uid_" <<'EOF' || fail "sessions --json: the session is not named from its audit events"
import json, sys
s = [x for x in map(json.loads, open(sys.argv[1])) if x["key"] == sys.argv[2]]
assert len(s) == 1, s
x = s[0]
got = (x["pam"], x["who_from_audit"], x["user"], x["target"], x["service"], x["auid"])
assert got == (False, True, "", "root", "sudo", int(sys.argv[3])), got
EOF
expect 0 "$PRIVAUDIT" replay "$L" "$key"
grep -q "^who:      auid $uid_ -> root via sudo (from audit events)\$" "$TMP/out" ||
	fail_cmd "replay: who of a session known from audit events"
pass "a session without pam_privaudit: who, target and service from sudo's audit events, marked"
exit 0
