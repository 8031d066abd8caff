#!/bin/bash
# SPDX-License-Identifier: ISC
# deb-install.sh: the Debian packages built with `dpkg-buildpackage -us -uc
# -b`, installed with dpkg -i, tried, and purged; then nothing of privaudit
# may be left active in /etc/pam.d or /etc/audit, and the common-* PAM
# files (which pam-auth-update writes) must be what they were before.
#
# The try: a log in /var/log/privaudit (privaudit init), the PAM profile
# enabled with pam-auth-update, the audit rules copied into
# /etc/audit/rules.d (not loaded), a real sudo session recorded in it, the
# example program compiled against libprivaudit-dev with pkg-config, and the
# log verified against its first key.  The purge runs with the profile still
# enabled, so that libpam-privaudit's prerm must take it out.
#
# The sudo session goes through privauditd: restarted after init with
# systemctl (as the documentation says) where systemd is PID 1, which the
# package's enabled socket started; else started here with the package's
# /etc/privaudit/privauditd.conf and stopped by pid.  After the purge no
# unit, enablement link, socket, daemon or /etc/privaudit may be left.
#
# Root only (exit 77 otherwise); builds under ${BUILD_ROOT:-_build}/deb with
# DEB_BUILD_OPTIONS=nocheck (the suite has run already; unset
# DEB_NOCHECK to run it inside the package build too).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
root=${BUILD_ROOT:-$top/_build}
work=$root/deb
pkgs=(libprivaudit0 libprivaudit-dev libpam-privaudit privaudit)
failed=0

[ "$(id -u)" = 0 ] || { echo "SKIP: deb-install.sh needs root"; exit 77; }
command -v dpkg-buildpackage >/dev/null || { echo "SKIP: no dpkg-buildpackage (dpkg-dev)"; exit 77; }
for p in "${pkgs[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		echo "SKIP: $p is installed already; not touching it"
		exit 77
	fi
done
[ ! -e /usr/bin/privaudit ] || { echo "SKIP: a privaudit is installed in /usr already"; exit 77; }
[ ! -e /var/log/privaudit ] || { echo "SKIP: /var/log/privaudit exists already"; exit 77; }

bad() { printf 'FAIL: deb-install: %s\n' "$*" >&2; failed=1; }
ok() { printf 'ok - %s\n' "$*"; }
step() { printf '\n==== %s\n' "$*"; }

# ---------------------------------------------------------------- build
step "dpkg-buildpackage -us -uc -b in $work"
rm -rf "$work" && mkdir -p "$work/privaudit"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -co --exclude-standard | grep -v '^autom4te.cache/' |
		tar -cf - -T -) | tar -xf - -C "$work/privaudit"
else
	(cd "$top" && tar --exclude=./_build --exclude=./autom4te.cache -cf - .) |
		tar -xf - -C "$work/privaudit"
fi
(cd "$work/privaudit" && dpkg-checkbuilddeps) || { echo "FAIL: unmet build dependencies"; exit 1; }
opts="parallel=${JOBS:-$(nproc)}"
[ -n "${DEB_NOCHECK-1}" ] && opts="nocheck $opts"
(cd "$work/privaudit" && DEB_BUILD_OPTIONS="$opts" dpkg-buildpackage -us -uc -b \
	>"$work/build.log" 2>&1) || { tail -50 "$work/build.log"; echo "FAIL: dpkg-buildpackage"; exit 1; }
debs=()
for p in "${pkgs[@]}"; do
	f=$(ls "$work"/"${p}"_*.deb 2>/dev/null | head -n1)
	[ -n "$f" ] || { echo "FAIL: no package $p built"; exit 1; }
	debs+=("$f")
done
ok "built: ${pkgs[*]}"

# ---------------------------------------------------------------- install
# The files pam-auth-update writes.
snap() { (cd /etc/pam.d && md5sum -- common-*) 2>/dev/null; }
snap >"$work/pam.before"
# Files naming the module already (PAM tests of other checkouts, say) are
# not ours to judge.
pam_naming() { grep -rls 'pam_privaudit' /etc/pam.d 2>/dev/null | sort; }
pam_naming >"$work/pam-naming.before"
user=padeb$$
# privauditd: systemd's (the package enabled and started its socket), or
# started by this test where systemd is not PID 1.
systemd=""
[ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && systemd=1
daemon_pid=""
unit_files() {
	ls -d /lib/systemd/system/privauditd.* /usr/lib/systemd/system/privauditd.* \
		/etc/systemd/system/*/privauditd.* 2>/dev/null
}
purge() {
	if [ -z "$systemd" ] && [ -n "$daemon_pid" ]; then
		step "stopping privauditd (pid $daemon_pid) as systemd would: SIGTERM"
		kill -TERM "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" && ok "privauditd sealed and exited 0 on SIGTERM" ||
			bad "privauditd exited $? on SIGTERM: $(tail -3 "$work/privauditd.err")"
		daemon_pid=""
	fi
	step "dpkg --purge ${pkgs[*]}"
	dpkg --purge "${pkgs[@]}" || bad "dpkg --purge exited $?"
	rm -f /etc/sudoers.d/privaudit-deb-test
	id "$user" >/dev/null 2>&1 && userdel -r "$user" >/dev/null 2>&1
	if [ -e /var/log/privaudit/log.pub ]; then
		ok "the log stays after purge (it is evidence)"
		rm -rf /var/log/privaudit
	fi
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
			bad "$p still installed"
	done
	left=$(pam_naming | comm -13 "$work/pam-naming.before" -)
	[ -z "$left" ] && ok "no pam_privaudit in /etc/pam.d" || bad "pam_privaudit still in $left"
	snap | cmp -s - "$work/pam.before" && ok "/etc/pam.d/common-* as before" ||
		bad "/etc/pam.d/common-* differ from before: $(snap | diff - "$work/pam.before" | tr '\n' ' ')"
	left=$(grep -rls 'privaudit' /etc/audit 2>/dev/null; ls /etc/audit/*/*privaudit* 2>/dev/null)
	[ -z "$left" ] && ok "nothing of privaudit in /etc/audit" || bad "left in /etc/audit: $left"
	if command -v auditctl >/dev/null && auditctl -l 2>/dev/null | grep -q 'privaudit-'; then
		bad "privaudit audit rules loaded"
	fi
	[ ! -e /usr/share/pam-configs/privaudit ] || bad "pam-configs profile left"
	left=$(unit_files)
	[ -z "$left" ] && ok "no privauditd unit files or enablement links" || bad "left: $left"
	[ ! -e /run/privaudit ] && ok "no /run/privaudit (socket gone)" ||
		bad "left: $(ls -la /run/privaudit 2>&1 | tr '\n' ' ')"
	[ ! -e /etc/privaudit ] && ok "no /etc/privaudit" || bad "left: $(ls -A /etc/privaudit)"
	# (the installed one: tests of build trees may run theirs)
	if pgrep -f '^/usr/sbin/privauditd( |$)' >/dev/null; then
		bad "privauditd still runs: pid $(pgrep -f '^/usr/sbin/privauditd( |$)')"
	else ok "no /usr/sbin/privauditd running"; fi
	if [ "$failed" -eq 0 ]; then echo "deb-install: PASS"; else echo "deb-install: FAIL"; fi
}
trap 'purge; exit "$failed"' EXIT
trap 'exit 1' INT TERM HUP

if [ -e /etc/sudo.conf ]; then sudo_conf_before=$(md5sum </etc/sudo.conf); else sudo_conf_before=none; fi
step "dpkg -i ${debs[*]##*/}"
dpkg -i "${debs[@]}" || bad "dpkg -i exited $?"
grep -qs '^active = no$' /etc/audit/plugins.d/privaudit.conf &&
	ok "plugin conf installed, inactive" || bad "no inactive /etc/audit/plugins.d/privaudit.conf"
[ -f /usr/share/privaudit/privaudit.rules ] && ok "rules shipped in /usr/share/privaudit" || bad "no rules file"
[ ! -e /etc/audit/rules.d/privaudit.rules ] && ok "rules not in /etc/audit/rules.d until enabled" ||
	bad "the package put its rules in /etc/audit/rules.d"
[ -d /var/log/privaudit ] && ok "postinst made /var/log/privaudit" || bad "no /var/log/privaudit"
[ -x /usr/sbin/privauditd ] && ok "privauditd in /usr/sbin" || bad "no /usr/sbin/privauditd"
[ -f /lib/systemd/system/privauditd.service ] && [ -f /lib/systemd/system/privauditd.socket ] &&
	ok "privauditd.service and .socket in /lib/systemd/system" || bad "no privauditd units"
dpkg-query -W -f='${Conffiles}\n' privaudit | grep -q '^ /etc/privaudit/privauditd\.conf ' &&
	grep -q '^dir = /var/log/privaudit$' /etc/privaudit/privauditd.conf &&
	ok "/etc/privaudit/privauditd.conf, a conffile naming the log" ||
	bad "/etc/privaudit/privauditd.conf is not a conffile with dir = /var/log/privaudit"
[ "$(systemctl is-enabled privauditd.socket 2>/dev/null)" = enabled ] &&
	ok "privauditd.socket enabled" || bad "privauditd.socket not enabled"
if [ -n "$systemd" ]; then
	systemctl is-active --quiet privauditd.socket && [ -S /run/privaudit/privauditd.sock ] &&
		ok "privauditd.socket listening" || bad "privauditd.socket not listening"
fi
[ -z "$(pam_naming | comm -13 "$work/pam-naming.before" -)" ] &&
	ok "PAM profile installed, not enabled by default" || bad "PAM profile enabled by default"
[ -f /usr/libexec/sudo/sudo_privaudit.so ] && [ -f /usr/share/man/man8/sudo_privaudit.8.gz ] &&
	ok "sudo_privaudit.so in sudo's plugin directory, with its man page" ||
	bad "no /usr/libexec/sudo/sudo_privaudit.so or sudo_privaudit(8)"
if [ -e /etc/sudo.conf ]; then sum_after=$(md5sum </etc/sudo.conf); else sum_after=none; fi
[ "$sum_after" = "$sudo_conf_before" ] && ok "sudo.conf untouched: the sudo plugin stays inactive" ||
	bad "installing changed /etc/sudo.conf"
sudo -n true && ok "sudo works after install" || bad "sudo fails after install"

step "try: init, pam-auth-update --enable privaudit, a sudo session, example, verify"
privaudit init /var/log/privaudit --origin deb-test/privaudit >/dev/null || bad "privaudit init"
cp /var/log/privaudit/log.pub "$work/pinned.pub"
# What the documentation says to do after init: restart the daemon (under
# systemd its sandbox makes the log writable only if it existed when the
# service started).
if [ -n "$systemd" ]; then
	systemctl restart privauditd || bad "systemctl restart privauditd"
	daemon_pid=$(systemctl show -p MainPID --value privauditd)
	[ "${daemon_pid:-0}" -ne 0 ] && ok "systemd runs privauditd: pid $daemon_pid" ||
		bad "privauditd.service not running: $(systemctl status privauditd 2>&1 | tail -5)"
else
	/usr/sbin/privauditd --foreground --config /etc/privaudit/privauditd.conf \
		2>"$work/privauditd.err" &
	daemon_pid=$!
	for _ in $(seq 1 100); do
		[ -S /run/privaudit/privauditd.sock ] || ! kill -0 "$daemon_pid" 2>/dev/null && break
		sleep 0.1
	done
	[ -S /run/privaudit/privauditd.sock ] &&
		ok "no systemd here: started privauditd --config /etc/privaudit/privauditd.conf (pid $daemon_pid)" ||
		bad "privauditd made no socket: $(cat "$work/privauditd.err")"
fi
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable privaudit || bad "pam-auth-update --enable"
# The rules enabled as doc/admin-guide.md says (where auditd is installed),
# but without --load, which would replace the kernel's whole rule set: the
# purge must take them out again.
if [ -d /etc/audit/rules.d ] && command -v augenrules >/dev/null; then
	install -m 0640 /usr/share/privaudit/privaudit.rules /etc/audit/rules.d/ || bad "install the rules"
	augenrules >/dev/null 2>&1 || bad "augenrules"
	grep -qs 'privaudit-exec' /etc/audit/audit.rules && ok "rules enabled: in /etc/audit/audit.rules" ||
		bad "augenrules did not take the rules into /etc/audit/audit.rules"
fi
grep -qs '^session.*pam_privaudit\.so' /etc/pam.d/common-session-noninteractive &&
	ok "pam_privaudit.so in common-session-noninteractive (sudo's stack)" ||
	bad "pam_privaudit.so not in common-session-noninteractive"
useradd -m -s /bin/sh "$user" || bad "useradd"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user" >/etc/sudoers.d/privaudit-deb-test
chmod 0440 /etc/sudoers.d/privaudit-deb-test
n0=$(privaudit verify /var/log/privaudit --json 2>/dev/null | sed -n 's/.*"records":\([0-9]*\).*/\1/p')
out=$(su -s /bin/sh -c 'sudo -n id -un' "$user" 2>&1)
[ "$out" = root ] && ok "sudo by $user ran as root" || bad "sudo by $user: $out"
n1=$(privaudit verify /var/log/privaudit --json 2>/dev/null | sed -n 's/.*"records":\([0-9]*\).*/\1/p')
[ "${n1:-0}" -ge $((${n0:-0} + 2)) ] && ok "the sudo session was recorded ($n0 -> $n1 records)" ||
	bad "no session records: $n0 -> $n1 records"
# Through the daemon: written by its pid, stamped with sudo's credentials.
privaudit show /var/log/privaudit --kind session_open --json 2>/dev/null | python3 -c '
import json, sys
pid, user, uid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ok = False
for line in sys.stdin:
    r = json.loads(line)
    f = r.get("fields", {})
    if (r.get("writer_pid") == pid and f.get("service") == "sudo"
            and (f.get("ruser") == user or str(f.get("uid")) == uid)
            and f.get("peer_pid", 0) > 0):
        ok = True
sys.exit(0 if ok else 1)' "${daemon_pid:-0}" "$user" "$(id -u "$user" 2>/dev/null)" &&
	ok "session_open of sudo written by privauditd (pid $daemon_pid) with the peer's pid" ||
	bad "no session_open of sudo by $user written by privauditd (pid $daemon_pid): $(privaudit show /var/log/privaudit --kind session_open 2>&1 | tail -3)"
cc -o "$work/example" "$top/doc/example.c" $(pkg-config --cflags --libs libprivaudit) ||
	bad "example does not build against libprivaudit-dev"
"$work/example" "$work/example-log" >/dev/null && ok "example built with pkg-config runs" ||
	bad "example failed"
privaudit seal /var/log/privaudit >/dev/null || bad "privaudit seal"
privaudit verify /var/log/privaudit --key "$work/pinned.pub" >"$work/verify.out" 2>&1 &&
	grep -Eq '^result: +OK' "$work/verify.out" && ok "privaudit verify --key: OK" ||
	bad "verify: $(cat "$work/verify.out")"
audisp-privaudit --help >/dev/null 2>&1 || [ $? -le 2 ] || bad "audisp-privaudit does not run"
exit "$failed"
