#!/bin/bash
# deb-install.sh: the Debian packages built with `dpkg-buildpackage -us -uc
# -b`, installed with dpkg -i, tried, and purged; then nothing of privaudit
# may be left active in /etc/pam.d or /etc/audit, and the common-* PAM
# files (which pam-auth-update writes) must be what they were before.
#
# The try: a log in /var/log/privaudit (privaudit init), the PAM profile
# enabled with pam-auth-update, a real sudo session recorded in it, the
# example program compiled against libprivaudit-dev with pkg-config, and the
# log verified against its first key.  The purge runs with the profile still
# enabled, so that libpam-privaudit's prerm must take it out.
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
purge() {
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
	if [ "$failed" -eq 0 ]; then echo "deb-install: PASS"; else echo "deb-install: FAIL"; fi
}
trap 'purge; exit "$failed"' EXIT
trap 'exit 1' INT TERM HUP

step "dpkg -i ${debs[*]##*/}"
dpkg -i "${debs[@]}" || bad "dpkg -i exited $?"
grep -qs '^active = no$' /etc/audit/plugins.d/privaudit.conf &&
	ok "plugin conf installed, inactive" || bad "no inactive /etc/audit/plugins.d/privaudit.conf"
[ -f /etc/audit/rules.d/privaudit.rules ] && ok "rules in /etc/audit/rules.d" || bad "no rules file"
[ -d /var/log/privaudit ] && ok "postinst made /var/log/privaudit" || bad "no /var/log/privaudit"
[ -z "$(pam_naming | comm -13 "$work/pam-naming.before" -)" ] &&
	ok "PAM profile installed, not enabled by default" || bad "PAM profile enabled by default"

step "try: init, pam-auth-update --enable privaudit, a sudo session, example, verify"
privaudit init /var/log/privaudit --origin deb-test/privaudit >/dev/null || bad "privaudit init"
cp /var/log/privaudit/log.pub "$work/pinned.pub"
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable privaudit || bad "pam-auth-update --enable"
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
