#!/bin/bash
# SPDX-License-Identifier: ISC
# undo-try-it.sh: undoes contrib/try-it.sh:
#
#     sh contrib/undo-try-it.sh [--remove-log]
#
# Like try-it.sh, run by another user it runs itself again as root with
# sudo, or with su (root's password) where sudo is not installed.
#
# From what try-it.sh wrote down in /var/lib/privaudit-try-it, in reverse
# order: removes the demo user and its sudoers drop-in, takes
# pam_privaudit.so out of the PAM stacks (pam-auth-update --remove), deletes
# the audit rules it loaded (by their privaudit-* keys) and removes the copy
# it put in /etc/audit/rules.d, turns the plugin off
# (stopping auditd if try-it started it, else reloading it), restores the
# kernel's audit enabled flag, stops privauditd (disables its socket under
# systemd), and removes every file `make install` wrote.
# The log stays in /var/log/privaudit (it is evidence) unless --remove-log
# is given and try-it.sh created it.  The packages apt-get installed stay.
# Safe to run when try-it.sh stopped half-way, or twice.

# Run by sh (dash): the rest is bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail

state=/var/lib/privaudit-try-it
plugin=/usr/sbin/audisp-privaudit
plugin_conf=/etc/audit/plugins.d/privaudit.conf
rules=/etc/audit/rules.d/privaudit.rules
remove_log=""
case "${1:-}" in
--remove-log) remove_log=1 ;;
"") ;;
*) echo "usage: $0 [--remove-log]" >&2; exit 2 ;;
esac
# shq ARG...: the ARGs quoted for any POSIX shell (su -c hands them to
# root's login shell, whichever it is).
shq() {
	local a out="" q="'" e="'\\''"
	for a; do out+="${out:+ }'${a//$q/$e}'"; done
	printf '%s\n' "$out"
}
if [ "$(id -u)" != 0 ]; then
	cmd=(bash "$(cd "$(dirname "$0")" && pwd)/${0##*/}" "$@")
	if command -v sudo >/dev/null; then
		echo "undo-try-it: not root: running again as root with sudo" >&2
		exec sudo -- "${cmd[@]}"
	elif command -v su >/dev/null; then
		echo "undo-try-it: not root and no sudo here: running again as root with su (root's password)" >&2
		exec su -c "$(shq "${cmd[@]}")" root
	fi
	echo "undo-try-it: run it as root (neither sudo nor su is installed)" >&2
	exit 1
fi
# su without "-" keeps the caller's PATH, without the sbin directories on
# Debian (userdel, auditctl, pam-auth-update...).
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
if [ ! -d "$state" ]; then
	echo "undo-try-it: nothing to undo ($state does not exist)"
	exit 0
fi

rc=0
say() { printf '== %s\n' "$*"; }
warn() { printf 'undo-try-it: %s\n' "$*" >&2; rc=1; }
has() { [ -e "$state/$1" ]; }
val() { head -n1 "$state/$1"; }

# ---------------------------------------------------------------- demo user
if has sudoers; then
	say "removing $(val sudoers)"
	rm -f "$(val sudoers)" "$(val sudoers).tmp"
fi
if has user-created; then
	user=$(val user-created)
	say "removing the user $user"
	pkill -KILL -u "$user" 2>/dev/null
	if id "$user" >/dev/null 2>&1; then
		userdel -r "$user" 2>/dev/null || userdel "$user" || warn "userdel $user failed"
	fi
fi

# ---------------------------------------------------------------- PAM
if has pam-auth-update; then
	say "PAM: pam-auth-update --remove privaudit"
	DEBIAN_FRONTEND=noninteractive pam-auth-update --package --remove privaudit ||
		warn "pam-auth-update --remove privaudit failed"
fi
if has pam-sudo-line; then
	say "PAM: removing the line added to /etc/pam.d/sudo"
	sed -i '/pam_privaudit\.so # privaudit try-it\.sh$/d' /etc/pam.d/sudo
fi

# ---------------------------------------------------------------- daemon
if has daemon-started; then
	case $(val daemon-started) in
	systemd)
		say "privauditd: systemctl disable --now privauditd.socket privauditd.service"
		systemctl disable --now privauditd.socket privauditd.service ||
			warn "systemctl disable --now privauditd.socket failed" ;;
	pidfile)
		pidfile=/run/privaudit/privauditd.pid
		pid=$(cat "$pidfile" 2>/dev/null) || pid=""
		if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = privauditd ]; then
			say "privauditd: stopping pid $pid (SIGTERM: it seals and exits)"
			kill -TERM "$pid"
			for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && warn "privauditd (pid $pid) did not stop"
		fi
		rm -f "$pidfile" ;;
	esac
	rmdir /run/privaudit 2>/dev/null
fi

# ---------------------------------------------------------------- audit
# By key, whoever loaded them (try-it, or augenrules when auditd started).
if command -v auditctl >/dev/null && auditctl -l 2>/dev/null | grep -q "key=privaudit-"; then
	say "audit: deleting the privaudit rules"
	for key in $(sed -n 's/.*-k \(privaudit-[a-z-]*\).*/\1/p' "$rules" 2>/dev/null | sort -u) \
		privaudit-exec privaudit-setuid privaudit-module privaudit-config privaudit-bin \
		privaudit-audit-tools privaudit-log; do
		auditctl -D -k "$key" >/dev/null 2>&1
	done
	auditctl -l 2>/dev/null | grep -q 'key=privaudit-' && warn "privaudit audit rules are still loaded"
fi
if has rules-installed; then
	say "audit: removing $(val rules-installed)"
	rm -f -- "$(val rules-installed)"
fi
if has plugin-activated && [ -e "$plugin_conf" ]; then
	sed -i 's/^active = yes$/active = no/' "$plugin_conf"
fi
if has auditd-started; then
	how=$(val auditd-started)
	say "audit: stopping auditd ($how), which try-it.sh started"
	case $how in
	systemd) systemctl stop auditd || warn "systemctl stop auditd failed" ;;
	"pid "*)
		pid=${how#pid }
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = auditd ]; then
			kill -TERM "$pid"
			for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$pid" 2>/dev/null && warn "auditd (pid $pid) did not stop"
		fi ;;
	esac
elif has plugin-activated; then
	pid=$(auditctl -s 2>/dev/null | sed -n 's/^pid \([0-9]*\)$/\1/p')
	if [ "${pid:-0}" -ne 0 ]; then
		say "audit: reloading auditd (pid $pid) to stop the plugin"
		kill -HUP "$pid"
	fi
fi
if has plugin-activated; then
	for _ in $(seq 1 100); do pgrep -f "^$plugin" >/dev/null || break; sleep 0.1; done
	pgrep -f "^$plugin" >/dev/null && warn "the plugin still runs: pid $(pgrep -f "^$plugin" | tr '\n' ' ')"
fi
if has audit-enabled-before; then
	auditctl -e "$(val audit-enabled-before)" >/dev/null 2>&1
fi

# ---------------------------------------------------------------- files
if has files; then
	say "uninstalling $(wc -l <"$state/files") files"
	while IFS= read -r f; do
		case $f in /*) rm -f -- "$f" ;; esac
	done <"$state/files"
	rmdir /usr/share/privaudit/rsyslog /usr/share/doc/privaudit /usr/share/privaudit 2>/dev/null
	rmdir /etc/privaudit 2>/dev/null
	# systemd forgets the privauditd units that are gone
	[ "$(ps -p 1 -o comm= 2>/dev/null)" != systemd ] || systemctl daemon-reload
	ldconfig
fi
# The rules file is gone from rules.d: regenerate audit.rules without it,
# so that the next start of auditd does not load them again.
if { has files || has rules-installed; } && command -v augenrules >/dev/null &&
	grep -qs 'privaudit-' /etc/audit/audit.rules; then
	augenrules >/dev/null 2>&1 || warn "augenrules failed"
fi
if has log-created; then
	log=$(val log-created)
	if [ -n "$remove_log" ]; then
		say "removing the log $log"
		rm -rf -- "$log"
	else
		say "the log stays in $log (remove it with --remove-log)"
	fi
fi

# ---------------------------------------------------------------- check
left=$(grep -lsE '^[^#]*[[:space:]](/usr)?(/lib/[^[:space:]]*/security/)?pam_privaudit\.so' /etc/pam.d/common-* /etc/pam.d/sudo 2>/dev/null)
[ -z "$left" ] || warn "pam_privaudit still in: $left"
[ ! -e "$plugin_conf" ] || warn "$plugin_conf still there"
[ ! -e "$rules" ] || warn "$rules still there"
if [ "$rc" -eq 0 ]; then
	rm -rf "$state"
	say "undone"
else
	echo "undo-try-it: some steps failed; $state is kept" >&2
fi
exit "$rc"
