#!/bin/bash
# SPDX-License-Identifier: ISC
# pam-sshd.sh: pam_privaudit.so inside a real sshd: a private sshd on
# 127.0.0.1 (its own host key, config and PAM service), a root login with a
# key made here, the session recorded through privauditd with its service,
# rhost and sender, the log verified after the daemon's SIGTERM seal; then,
# the daemon not running, failmode=closed refuses the login.  Needs root
# and sshd (exit 77 otherwise).
#
# sshd takes its PAM service name from its program name, so it runs here as
# a symlink named sshd-privaudit, with /etc/pam.d/sshd-privaudit of its own
# (made here, removed at exit; /run/sshd too when this made it).  sshd is
# stopped by pid.

. "$(dirname "$0")/e2e-lib.sh"

is_root || skip "needs root"
pa_host_lock
need_privaudit
need_daemon
top_builddir=${top_builddir:-.}
PAM_MODULE=${PAM_MODULE:-$top_builddir/pam_privaudit/.libs/pam_privaudit.so}
case $PAM_MODULE in /*) ;; *) PAM_MODULE=$(pwd)/$PAM_MODULE ;; esac
[ -f "$PAM_MODULE" ] || fail "module not built: $PAM_MODULE"
ldd "$PAM_MODULE" 2>/dev/null | grep -q 'libasan\.so' && skip "sanitizer build: sshd cannot load an ASan module"
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "no sshd (Debian: openssh-server)"
for t in ssh ssh-keygen; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t (Debian: openssh-client)"
done

SVC=/etc/pam.d/sshd-privaudit
[ -e "$SVC" ] && fail "$SVC exists: left by an earlier run? remove it first"
LOG=$TMP/log
SOCK=$TMP/privauditd.sock
pa_init "$LOG"
pa_daemon_start "$LOG" "$SOCK"

# sshd refuses to start without its privilege separation directory, which
# only its service unit makes.
if [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd || fail "cannot make /run/sshd"
	on_exit "rmdir /run/sshd"
fi

on_exit "rm -f $SVC"
cat >"$SVC" <<EOF || fail "cannot write $SVC"
# privaudit-test: added by $pa_test, removed when it ends
auth     required pam_permit.so
account  optional $PAM_MODULE socket=$SOCK
account  required pam_permit.so
session  required $PAM_MODULE socket=$SOCK failmode=closed
session  required pam_permit.so
EOF

expect 0 ssh-keygen -q -t ed25519 -N '' -C privaudit-test-host -f "$TMP/hostkey"
expect 0 ssh-keygen -q -t ed25519 -N '' -C privaudit-test-user -f "$TMP/id"
cp "$TMP/id.pub" "$TMP/authorized_keys" && chmod 0600 "$TMP/authorized_keys" || fail "authorized_keys"
# The sshd symlink: an absolute path, since sshd re-executes itself.
ln -s "$SSHD" "$TMP/sshd-privaudit" || fail "ln -s"

free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# StrictModes no: the key files live under /tmp, which is world-writable.
write_config() {
	cat >"$TMP/sshd_config" <<EOF
Port $1
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
PidFile $TMP/sshd.pid
UsePAM yes
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
AuthorizedKeysFile $TMP/authorized_keys
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
EOF
	# OpenSSH 9.8 and later name the PAM service in the configuration
	# (sshd-session's program name is not sshd's)
	if "$SSHD" -t -f "$TMP/sshd_config" -o PAMServiceName=sshd-privaudit >/dev/null 2>&1; then
		echo "PAMServiceName sshd-privaudit" >>"$TMP/sshd_config"
	fi
}

# A free port is free only until someone takes it: a few tries.
sshd_pid=""
for try in 1 2 3 4 5; do
	PORT=$(free_port) || fail "no free port"
	write_config "$PORT"
	expect 0 "$TMP/sshd-privaudit" -t -f "$TMP/sshd_config"
	: >"$TMP/sshd.err"
	"$TMP/sshd-privaudit" -D -e -f "$TMP/sshd_config" </dev/null 2>>"$TMP/sshd.err" &
	sshd_pid=$!
	on_exit "kill -9 $sshd_pid"
	i=0
	while ! grep -q 'Server listening on 127.0.0.1 port' "$TMP/sshd.err"; do
		i=$((i + 1))
		kill -0 "$sshd_pid" 2>/dev/null || break
		[ "$i" -lt 200 ] || { cat "$TMP/sshd.err" >&2; fail "sshd did not listen in 10 s"; }
		sleep 0.05
	done
	kill -0 "$sshd_pid" 2>/dev/null && break
	wait "$sshd_pid"
	sshd_pid=""
	grep -q 'Address already in use' "$TMP/sshd.err" || { cat "$TMP/sshd.err" >&2; fail "sshd exited at start"; }
done
[ -n "$sshd_pid" ] || fail "no port for sshd after 5 tries"

printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$TMP/hostkey.pub")" >"$TMP/known_hosts"
# login: root's session, one command; its exit status comes back
MARK=privaudit-ssh-$$
# (not run_cmd: ssh's own failures are exits 255 and 254, not signals)
login() {
	timeout -k 5 "$PA_TIMEOUT" ssh -F /dev/null -p "$PORT" -i "$TMP/id" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$TMP/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR \
		root@127.0.0.1 "echo $MARK; exit 3" </dev/null >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -ne 124 ] || fail_cmd "ssh timed out"
}
login
[ "$rc" -eq 3 ] && grep -qx "$MARK" "$TMP/out" || { tail -20 "$TMP/sshd.err" >&2; fail_cmd "ssh root@127.0.0.1: the command did not run"; }
pass "ssh root@127.0.0.1 through sshd-privaudit ran a command"

# The session's records, as an auditor exports them.  sshd closes the PAM
# session as the connection ends, maybe after the client is gone: wait.
check_session() {
	"$PYTHON3" - "$1" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
opens = [r for r in recs if r["kind"] == "session_open" and r["fields"]["service"] == "sshd-privaudit"]
closes = [r for r in recs if r["kind"] == "session_close" and r["fields"]["service"] == "sshd-privaudit"]
att = [r for r in recs if r["kind"] == "auth_attempt" and r["fields"]["service"] == "sshd-privaudit"]
if len(opens) != 1:
    sys.exit("%d session_open records for sshd-privaudit, expected 1" % len(opens))
o = opens[0]["fields"]
want = {"user": "root", "rhost": "127.0.0.1", "tty": "ssh", "uid": 0, "euid": 0, "peer_uid": 0}
for k, v in want.items():
    if o.get(k) != v:
        sys.exit("session_open: %s is %r, expected %r" % (k, o.get(k), v))
if o["peer_pid"] != o["pid"] or o["pid"] <= 0:
    sys.exit("session_open: peer_pid %r, pid %r" % (o["peer_pid"], o["pid"]))
if not closes:
    sys.exit("no session_close yet")
if len(closes) != 1:
    sys.exit("%d session_close records" % len(closes))
c = closes[0]
if c["session"] != opens[0]["session"] or c["fields"]["pid"] != o["pid"] or c["fields"]["user"] != "root":
    sys.exit("session_close does not match the open: %r" % c)
if c["fields"]["peer_pid"] != o["pid"] or c["fields"]["peer_uid"] != 0:
    sys.exit("session_close: peer %r/%r" % (c["fields"]["peer_pid"], c["fields"]["peer_uid"]))
if not 0 < c["fields"]["duration_ns"] < 60 * 10**9:
    sys.exit("session_close: duration %r" % c["fields"]["duration_ns"])
if not any(a["fields"]["phase"] == "account" and a["fields"]["user"] == "root" and
           a["fields"]["rhost"] == "127.0.0.1" and a["fields"]["peer_uid"] == 0 for a in att):
    sys.exit("no account attempt for root from 127.0.0.1")
print("session %s: open and close by sshd pid %d" % (opens[0]["session"], o["pid"]))
EOF
}
i=0
while :; do
	expect 0 "$PRIVAUDIT" export "$LOG" --json
	cp "$TMP/out" "$TMP/export"
	msg=$(check_session "$TMP/export" 2>&1) && break
	i=$((i + 1))
	case $msg in *"no session_close yet"*) [ "$i" -lt 100 ] && { sleep 0.1; continue; } ;; esac
	fail "sshd session records: $msg"
done
say "$msg"
pass "sshd-privaudit session: open and close recorded (root, rhost 127.0.0.1, tty ssh, peer = sshd, uid 0)"

pa_daemon_stop
verify_ok "$LOG"
grep -Eq '^unsealed: +0 records' "$TMP/out" || fail_cmd "records left unsealed after privauditd's SIGTERM"
pass "the log verifies after privauditd's SIGTERM seal, nothing unsealed"

# The daemon not running: failmode=closed refuses the login's session.
[ ! -e "$SOCK" ] || fail "privauditd left its socket behind"
login
[ "$rc" -ne 0 ] && [ "$rc" -ne 3 ] && ! grep -q "$MARK" "$TMP/out" ||
	fail_cmd "sshd ran a session with failmode=closed and no privauditd"
grep -aiq 'privaudit' "$TMP/out" "$TMP/err" && fail_cmd "the module's words reached the ssh client"
# refused for the session, not for something else
grep -q 'pam_open_session' "$TMP/sshd.err" ||
	{ tail -20 "$TMP/sshd.err" >&2; fail "sshd did not say its PAM session failed"; }
pass "no privauditd: sshd refuses the session (failmode=closed), the client sees nothing of ours"

# sshd stopped by pid, once its connections' processes are gone.
i=0
while [ -n "$(ps -o pid= --ppid "$sshd_pid" 2>/dev/null)" ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "sshd connection processes left: $(ps -o pid=,args= --ppid "$sshd_pid" | tr '\n' ' ')"
	sleep 0.1
done
kill -TERM "$sshd_pid"
wait "$sshd_pid" 2>/dev/null
exit 0
