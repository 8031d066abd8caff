#!/bin/bash
# SPDX-License-Identifier: ISC
# smoke-try-it.sh: the README's first command on this machine, checked.
# Runs `sh contrib/try-it.sh` exactly as the README gives it, then checks
# its output: `privaudit sessions` lists the demo user's sudo session, its
# replay shows the commands run, `privaudit verify` says OK.  Then runs
# `sh contrib/undo-try-it.sh --remove-log` (also when anything failed: from the
# exit trap) and checks that nothing of privaudit is left active: no
# pam_privaudit in /etc/pam.d, nothing in /etc/audit, no privaudit audit
# rules loaded, no plugin running, no demo user, no installed files, no
# privauditd running nor its socket, units or /etc/privaudit.  While
# installed, privauditd must run on its 0600 socket and have written the
# demo's sudo session.
#
# Root only (exit 77 otherwise): it changes the whole machine, and is meant
# for a fresh CI machine (.ci/run runs it last).  Run from the checkout.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp "${TMPDIR:-/tmp}/pa-try-it.XXXXXX")
demo=${DEMO_USER:-demo}
failed=0
undone=""

[ "$(id -u)" = 0 ] || { echo "SKIP: smoke-try-it.sh needs root"; exit 77; }
if [ -e /usr/bin/privaudit ] || [ -d /var/lib/privaudit-try-it ]; then
	echo "SKIP: privaudit is already installed on this machine; not touching it"
	exit 77
fi
if id "$demo" >/dev/null 2>&1; then
	echo "SKIP: a user $demo already exists"
	exit 77
fi

# Files naming the module already (PAM tests of other checkouts, say) are
# not ours to judge.
pam_naming() { grep -rls 'pam_privaudit' /etc/pam.d 2>/dev/null | sort; }
pam_before=$(pam_naming)
bad() { printf 'FAIL: smoke-try-it: %s\n' "$*" >&2; failed=1; }
ok() { printf 'ok - %s\n' "$*"; }
# section TITLE-PREFIX: the lines of try-it's output after "== TITLE..."
# up to the next "== " line.
section() { awk -v p="== $1" 'index($0, p) == 1 { on = 1; next } /^== / { on = 0 } on' "$out"; }

undo() {
	[ -z "$undone" ] || return 0
	undone=1
	printf '\n==== undo: sh contrib/undo-try-it.sh --remove-log\n'
	(cd "$top" && sh contrib/undo-try-it.sh --remove-log) || bad "undo-try-it.sh exited $?"
	left=$(pam_naming | comm -13 <(printf '%s\n' "$pam_before" | sed '/^$/d') -)
	[ -z "$left" ] && ok "no pam_privaudit in /etc/pam.d" || bad "pam_privaudit still in $left"
	left=$(grep -rls 'privaudit' /etc/audit 2>/dev/null; ls /etc/audit/*/*privaudit* 2>/dev/null)
	[ -z "$left" ] && ok "nothing of privaudit in /etc/audit" || bad "left in /etc/audit: $left"
	if auditctl -l 2>/dev/null | grep -q 'privaudit-'; then bad "privaudit audit rules still loaded"
	else ok "no privaudit audit rules loaded"; fi
	if pgrep -f '^/usr/sbin/audisp-privaudit' >/dev/null; then bad "the plugin still runs"
	else ok "no plugin running"; fi
	if id "$demo" >/dev/null 2>&1; then bad "user $demo still exists"; else ok "no user $demo"; fi
	[ ! -e /etc/sudoers.d/privaudit-demo ] && ok "no sudoers drop-in" || bad "sudoers drop-in left"
	for f in /usr/bin/privaudit /usr/sbin/audisp-privaudit /usr/share/pam-configs/privaudit \
		/usr/include/privaudit.h /usr/share/privaudit; do
		[ ! -e "$f" ] || bad "$f still installed"
	done
	# (the installed one: tests of build trees may run theirs)
	if pgrep -f '^/usr/sbin/privauditd( |$)' >/dev/null; then
		bad "privauditd still runs: pid $(pgrep -f '^/usr/sbin/privauditd( |$)')"
	else ok "no /usr/sbin/privauditd running"; fi
	[ ! -e /run/privaudit ] && ok "no /run/privaudit (socket, pidfile)" ||
		bad "left: $(ls -A /run/privaudit)"
	left=$(ls -d /etc/privaudit /lib/systemd/system/privauditd.* /usr/lib/systemd/system/privauditd.* \
		/etc/systemd/system/*/privauditd.* /usr/sbin/privauditd 2>/dev/null)
	[ -z "$left" ] && ok "no privauditd program, units or settings" || bad "left: $left"
	ls /lib/*/security/pam_privaudit.so /usr/lib/*/libprivaudit.so* >/dev/null 2>&1 &&
		bad "library or PAM module still installed"
	[ ! -d /var/lib/privaudit-try-it ] || bad "/var/lib/privaudit-try-it left"
	rm -f "$out"
}
finish() {
	undo
	if [ "$failed" -eq 0 ]; then echo "smoke-try-it: PASS"; else echo "smoke-try-it: FAIL"; fi
	exit "$failed"
}
trap finish EXIT
trap 'exit 1' INT TERM HUP

printf '==== the README'"'"'s first command: sh contrib/try-it.sh\n'
(cd "$top" && sh contrib/try-it.sh) 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && ok "try-it.sh exited 0" || bad "try-it.sh exited $rc"
# make install ships the rules under /usr/share/privaudit only; enabling
# (try-it) copies them into rules.d.
[ -f /usr/share/privaudit/privaudit.rules ] && ok "rules shipped in /usr/share/privaudit" ||
	bad "no /usr/share/privaudit/privaudit.rules"
cmp -s /usr/share/privaudit/privaudit.rules /etc/audit/rules.d/privaudit.rules &&
	ok "try-it put the rules in /etc/audit/rules.d" || bad "try-it did not put the rules in /etc/audit/rules.d"

# privauditd runs, on a socket only root may use, and wrote the sudo
# session: pam_privaudit.so has no other way into the log.
sock=/run/privaudit/privauditd.sock
[ -S "$sock" ] && [ "$(stat -c '%a %U' "$sock")" = "600 root" ] &&
	ok "$sock: a socket, 0600 root" || bad "$sock: $(ls -la "$sock" 2>&1)"
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
	[ "$(systemctl is-enabled privauditd.socket 2>/dev/null)" = enabled ] &&
		ok "privauditd.socket enabled" || bad "privauditd.socket not enabled"
	dpid=$(systemctl show -p MainPID --value privauditd.service)
else
	dpid=$(cat /run/privaudit/privauditd.pid 2>/dev/null)
fi
[ -n "$dpid" ] && [ "$(cat "/proc/$dpid/comm" 2>/dev/null)" = privauditd ] &&
	ok "privauditd runs: pid $dpid" || bad "privauditd does not run (pid '${dpid:-}')"
privaudit show "${PRIVAUDIT_DIR:-/var/log/privaudit}" --kind session_open --json 2>/dev/null |
	python3 -c '
import json, sys
pid = int(sys.argv[1] or 0)
sys.exit(0 if any(json.loads(l).get("writer_pid") == pid and
                  json.loads(l).get("fields", {}).get("service") == "sudo"
                  for l in sys.stdin) else 1)' "${dpid:-0}" &&
	ok "the sudo session_open was written by privauditd" ||
	bad "no sudo session_open written by privauditd (pid ${dpid:-})"

sessions=$(section "privaudit sessions")
if grep -w "$demo" <<<"$sessions" | grep -qw sudo; then
	ok "privaudit sessions lists the sudo session of $demo"
else
	bad "privaudit sessions does not list a sudo session of $demo"
fi
if grep -w "$demo" <<<"$sessions" | grep -Eq ' yes$' &&
	grep -q '^verification: log verified now' <<<"$sessions"; then
	ok "the session is sealed by a checkpoint verified now against the pinned key"
else
	bad "privaudit sessions --verified does not show the session sealed and the log verified"
	printf '%s\n' "$sessions" | sed 's/^/# /' >&2
fi
replay=$(section "privaudit replay")
if grep -q '^verified: yes' <<<"$replay"; then ok "replay: verified: yes"
else bad "replay does not say verified: yes"; fi
for cmd in whoami 'ls /root' 'cat /etc/hostname'; do
	if grep -qF "$cmd" <<<"$replay"; then ok "replay shows: $cmd"
	else bad "replay does not show: $cmd"; fi
done
# Order across clocks (issue 17): the sudo session's open precedes the
# commands it encloses, timed by the kernel's coarse audit clock, and its
# close follows them.
line_of() { grep -nF -- "$1" <<<"$replay" | head -n1 | cut -d: -f1; }
o=$(line_of 'open     sudo: demo -> root')
c=$(line_of 'close    sudo: root')
first=$(line_of '$ sh -c ')
last=$(line_of '$ cat /etc/hostname')
if [ -n "$o" ] && [ -n "$c" ] && [ -n "$first" ] && [ -n "$last" ] &&
	[ "$o" -lt "$first" ] && [ "$c" -gt "$last" ]; then
	ok "replay: the sudo open precedes the commands it encloses, its close follows them"
else
	bad "replay orders the sudo session's open or close wrongly (lines open=$o first=$first last=$last close=$c)"
	printf '%s\n' "$replay" | sed 's/^/# /' >&2
fi
verdict=$(section "privaudit verify")
if grep -Eq '^result: +OK' <<<"$verdict" && grep -Eq '^key: +pinned' <<<"$verdict"; then
	ok "privaudit verify: OK against the pinned key"
else
	bad "privaudit verify did not say OK with the pinned key"
fi
exit "$failed"
