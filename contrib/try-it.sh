#!/bin/bash
# SPDX-License-Identifier: ISC
# try-it.sh: from a fresh Debian 12 machine to a verified replay of a real
# sudo session, in one command:
#
#     sh contrib/try-it.sh
#
# It needs root.  Run by another user, it runs itself again as root with
# sudo, or with su (root's password) where sudo is not installed, as on a
# fresh Debian 12 minimal image.
#
# It installs the build dependencies with apt-get, builds privaudit and
# installs it into /usr, creates the log /var/log/privaudit, starts
# privauditd (the writer for the PAM module's records), turns on the
# auditd plugin and the PAM module (pam-auth-update), puts the audit rules
# in /etc/audit/rules.d and loads them (starting auditd if it is not
# running), creates the user "demo" with a
# NOPASSWD sudoers drop-in, has demo run commands through sudo in a login
# session of its own, then prints `privaudit sessions --verified`, that session's
# `privaudit replay` and `privaudit verify`'s verdict.
#
# Everything it changes is written down in /var/lib/privaudit-try-it, and
# contrib/undo-try-it.sh puts it back.  Running it again reuses what is
# there.  Environment: DEMO_USER (default demo), BUILD_DIR (default
# _build/try-it in the checkout), PRIVAUDIT_DIR (default /var/log/privaudit).

# Run by sh (dash): the rest is bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/_build/try-it}
state=/var/lib/privaudit-try-it
logdir=${PRIVAUDIT_DIR:-/var/log/privaudit}
demo=${DEMO_USER:-demo}
sudoers=/etc/sudoers.d/privaudit-demo
pa=/usr/bin/privaudit
plugin=/usr/sbin/audisp-privaudit
plugin_conf=/etc/audit/plugins.d/privaudit.conf
rules=/etc/audit/rules.d/privaudit.rules
shipped_rules=/usr/share/privaudit/privaudit.rules

say() { printf '\n== %s\n' "$*"; }
die() { printf 'try-it: %s\n' "$*" >&2; printf 'try-it: contrib/undo-try-it.sh undoes what was done so far\n' >&2; exit 1; }
# mark NAME [VALUE]: remember a change for undo-try-it.sh (first value kept).
mark() { [ -e "$state/$1" ] || printf '%s\n' "${2:-yes}" >"$state/$1"; }

# shq ARG...: the ARGs quoted for any POSIX shell (su -c hands them to
# root's login shell, whichever it is).
shq() {
	local a out="" q="'" e="'\\''"
	for a; do out+="${out:+ }'${a//$q/$e}'"; done
	printf '%s\n' "$out"
}
if [ "$(id -u)" != 0 ]; then
	# sudo drops the environment: the variables above are handed on.
	cmd=(env)
	for v in DEMO_USER BUILD_DIR PRIVAUDIT_DIR; do
		[ -z "${!v+set}" ] || cmd+=("$v=${!v}")
	done
	cmd+=(bash "$top/contrib/${0##*/}" "$@")
	if command -v sudo >/dev/null; then
		echo "try-it: not root: running again as root with sudo" >&2
		exec sudo -- "${cmd[@]}"
	elif command -v su >/dev/null; then
		echo "try-it: not root and no sudo here: running again as root with su (root's password)" >&2
		exec su -c "$(shq "${cmd[@]}")" root
	fi
	echo "try-it: run it as root (neither sudo nor su is installed)" >&2
	exit 1
fi
# su without "-" keeps the caller's PATH, without the sbin directories on
# Debian (useradd, auditctl, pam-auth-update...).
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
mkdir -p "$state"
chmod 0700 "$state"

# ---------------------------------------------------------------- packages
say "build dependencies (apt-get)"
pkgs=(build-essential autoconf automake libtool pkg-config libsodium-dev
      libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libpam0g-dev
      librelp-dev libzstd-dev libvterm-dev libpam-runtime python3 auditd sudo passwd util-linux procps)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "all installed"
fi

# ---------------------------------------------------------------- build, install
say "build in $build and install into /usr"
(cd "$top" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed"
mkdir -p "$build"
(cd "$build" && "$top/configure" -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	--with-logdir="$logdir" &&
	make -s -j"$(nproc)" >/dev/null) || die "build failed"
# What make install writes, listed first from a staged copy, so the undo
# removes exactly those files.
rm -rf "$build/stage"
make -s -C "$build" install DESTDIR="$build/stage" >"$build/install.log" 2>&1 ||
	{ cat "$build/install.log"; die "staged install failed"; }
(cd "$build/stage" && find . \( -type f -o -type l \) -printf '/%P\n') | sort >"$state/files.new"
[ -s "$state/files" ] || cp "$state/files.new" "$state/files"
sort -u "$state/files" "$state/files.new" -o "$state/files"
rm -f "$state/files.new"
rm -rf "$build/stage"
make -s -C "$build" install >"$build/install.log" 2>&1 ||
	{ cat "$build/install.log"; die "make install failed"; }
ldconfig
mark installed
"$pa" --help >/dev/null 2>&1 || die "$pa does not run"
echo "installed $(wc -l <"$state/files") files"

# ---------------------------------------------------------------- log
say "the log: $logdir"
if [ -e "$logdir/log.pub" ]; then
	echo "$logdir already holds a log: keeping it"
else
	"$pa" init "$logdir" --origin "$(hostname -f 2>/dev/null || hostname)/privaudit" ||
		die "privaudit init failed"
	mark log-created "$logdir"
	echo "(the line above is the log's first public key, $logdir/log.pub:"
	echo " in real use, copy it off this host now; auditors verify with --key)"
fi
[ -e "$state/pinned.pub" ] || cp "$logdir/log.pub" "$state/pinned.pub"

# ---------------------------------------------------------------- daemon
# privauditd writes what pam_privaudit.so sends it (over its socket,
# /run/privaudit/privauditd.sock).  Under systemd: its socket unit, enabled;
# the service starts at the first connection.  Else started here, in the
# background, with a pidfile for the undo.
say "privauditd: the writer for the PAM module's records"
daemon=/usr/sbin/privauditd
daemon_conf=/etc/privaudit/privauditd.conf
daemon_pidfile=/run/privaudit/privauditd.pid
daemon_sock=/run/privaudit/privauditd.sock
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
	systemctl daemon-reload
	systemctl enable --now privauditd.socket || die "systemctl enable --now privauditd.socket failed"
	mark daemon-started systemd
	# a privauditd already running (a second run) takes the new program
	# and, in its sandbox, the log made above
	systemctl try-restart privauditd.service || die "systemctl try-restart privauditd failed"
	echo "privauditd.socket enabled and listening on $daemon_sock"
else
	pid=$(cat "$daemon_pidfile" 2>/dev/null) || pid=""
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = privauditd ]; then
		echo "stopping the privauditd of an earlier run (pid $pid)"
		kill -TERM "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	mkdir -p -m 0755 /run/privaudit
	# A session of its own: a ^C in this terminal is not for it.
	setsid "$daemon" --foreground --config "$daemon_conf" </dev/null >>"$state/privauditd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$daemon_pidfile"
	mark daemon-started pidfile
	for _ in $(seq 1 100); do
		[ -S "$daemon_sock" ] || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.1
	done
	[ -S "$daemon_sock" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = privauditd ] ||
		die "privauditd did not start: $(tail -5 "$state/privauditd.log")"
	echo "no systemd here: started $daemon --config $daemon_conf (pid $pid, in $daemon_pidfile)"
fi

# ---------------------------------------------------------------- PAM
say "PAM: session optional pam_privaudit.so"
# The installed module, named as the profile names it (a test's line with
# a path to a build tree does not count).
in_stack() { grep -qsE '^[^#]*[[:space:]](/usr)?(/lib/[^[:space:]]*/security/)?pam_privaudit\.so' "$@"; }
if in_stack /etc/pam.d/common-session-noninteractive /etc/pam.d/sudo; then
	echo "already in the sudo stack"
else
	DEBIAN_FRONTEND=noninteractive pam-auth-update --enable privaudit ||
		echo "pam-auth-update refused (locally edited common-* files?)"
	if in_stack /etc/pam.d/common-session-noninteractive; then
		mark pam-auth-update
		echo "enabled with pam-auth-update (common-session, common-session-noninteractive)"
	else
		# pam-auth-update leaves hand-edited files alone: add the one
		# line to sudo's stack instead.
		echo 'session optional pam_privaudit.so # privaudit try-it.sh' >>/etc/pam.d/sudo
		mark pam-sudo-line
		echo "added to /etc/pam.d/sudo"
	fi
fi

# ---------------------------------------------------------------- auditd
say "auditd: plugin and rules"
command -v auditctl >/dev/null || die "no auditctl"
st=$(auditctl -s 2>&1) || die "kernel audit is not available here: $st"
enabled=$(sed -n 's/^enabled \([0-9]*\)$/\1/p' <<<"$st")
[ "$enabled" != 2 ] || die "the audit configuration is locked (enabled 2): reboot without -e 2 first"
sed -i 's/^active = no$/active = yes/' "$plugin_conf"
mark plugin-activated
# make install leaves the rules in /usr/share/privaudit; enabling puts them
# in rules.d (as doc/admin-guide.md says), where augenrules loads them at
# each start of auditd.  Loaded below with auditctl, not augenrules --load,
# which would replace the whole running set.
install -m 0640 "$shipped_rules" "$rules" || die "cannot install $shipped_rules into $rules"
mark rules-installed "$rules"
auditd_pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$st")
if [ "${auditd_pid:-0}" -ne 0 ]; then
	echo "auditd runs (pid $auditd_pid): reloading it to start the plugin"
	kill -HUP "$auditd_pid"
elif [ -d /run/systemd/system ]; then
	echo "starting auditd (systemctl)"
	systemctl start auditd || die "systemctl start auditd failed"
	mark auditd-started systemd
else
	echo "starting auditd"
	/sbin/auditd || die "auditd did not start"
	for _ in $(seq 1 50); do
		auditd_pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$(auditctl -s 2>&1)")
		[ "${auditd_pid:-0}" -eq 0 ] || break
		sleep 0.1
	done
	[ "${auditd_pid:-0}" -ne 0 ] || die "auditd did not register with the kernel"
	mark auditd-started "pid $auditd_pid"
fi
# auditd starts (or, on a second run, restarts) the plugin: give it 30 s,
# and one more reload after 10.
for i in $(seq 1 300); do
	pgrep -f "^$plugin" >/dev/null && break
	if [ "$i" -eq 100 ]; then
		auditd_pid=$(sed -n 's/^pid \([0-9]*\)$/\1/p' <<<"$(auditctl -s 2>&1)")
		[ "${auditd_pid:-0}" -eq 0 ] || kill -HUP "$auditd_pid"
	fi
	sleep 0.1
done
pgrep -f "^$plugin" >/dev/null || die "auditd did not start the plugin $plugin"
echo "plugin running: pid $(pgrep -f "^$plugin" | head -n1)"
# The rules go in next to the running set (nothing else is deleted); in
# rules.d they are also loaded at the next start of auditd.
if auditctl -l | grep -q 'key=privaudit-exec'; then
	echo "rules already loaded"
else
	auditctl -R "$rules" >/dev/null || die "auditctl -R $rules failed"
	mark rules-loaded
	echo "loaded $(auditctl -l | grep -c 'key=privaudit-') rules from $rules"
fi
enabled=$(sed -n 's/^enabled \([0-9]*\)$/\1/p' <<<"$(auditctl -s)")
if [ "$enabled" = 0 ]; then
	auditctl -e 1 >/dev/null
	mark audit-enabled-before 0
fi

# ---------------------------------------------------------------- demo user
say "the demo user: $demo, allowed sudo without a password"
if id "$demo" >/dev/null 2>&1; then
	[ -e "$state/user-created" ] ||
		die "a user $demo exists and was not made by this script: set DEMO_USER"
else
	useradd -m -s /bin/bash -c "privaudit try-it demo" "$demo" || die "useradd $demo failed"
	mark user-created "$demo"
fi
uid=$(id -u "$demo")
[ "$uid" -ge 1000 ] || die "$demo has uid $uid: the rules select login uids from 1000"
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$demo" >"$sudoers.tmp"
chmod 0440 "$sudoers.tmp"
visudo -cqf "$sudoers.tmp" || { rm -f "$sudoers.tmp"; die "sudoers drop-in rejected"; }
mv "$sudoers.tmp" "$sudoers"
mark sudoers "$sudoers"

# ---------------------------------------------------------------- the session
say "$demo logs in and runs commands through sudo"
# A login sets the audit login uid (pam_loginuid): done here for a fresh
# audit session of $demo, which ties its sudo to it.
script="sudo -- sh -c 'whoami; id -u; ls /root; cat /etc/hostname'"
echo "$demo\$ $script"
bash -c 'echo "$1" >/proc/self/loginuid 2>/dev/null ||
		echo "(could not set the login uid: the session keeps the current one)" >&2
	exec sudo -u "$2" -H -- bash -c "cd && $3"' try-it "$uid" "$demo" "$script" ||
	die "the demo session failed"
# demo_session [FIELD...]: the fields of $demo's sudo session in
# `privaudit sessions --json --verified`, space-separated; empty if none.
demo_session() {
	"$pa" sessions "$logdir" --json --verified --key "$state/pinned.pub" 2>/dev/null |
		python3 -c '
import json, sys
demo, found = sys.argv[1], ""
for line in sys.stdin:
    try:
        s = json.loads(line)
    except ValueError:
        continue
    who = {s.get(k) for k in ("user", "ruser", "login_user")}
    if s.get("service") == "sudo" and s.get("target") == "root" and demo in who:
        found = " ".join(str(s.get(k)) for k in sys.argv[2:])
print(found)' "$demo" "$@"
}
# The plugin seals at session end, but the session's last audit events may
# reach it later on a busy machine: seal until the session is sealed whole
# and has not grown for a second (at most 30 s).
prev=""
for _ in $(seq 30); do
	sleep 1
	"$pa" seal "$logdir" >/dev/null || die "privaudit seal failed"
	cur=$(demo_session records sealed)
	[ -n "$cur" ] && [ "$cur" = "$prev" ] && [ "${cur#* }" = True ] && break
	prev=$cur
done

# ---------------------------------------------------------------- results
rc=0
# --verified --key: checked now against the key pinned at init, not the
# index's cached (unauthenticated) verdict.
say "privaudit sessions $logdir --verified --key $state/pinned.pub"
"$pa" sessions "$logdir" --verified --key "$state/pinned.pub" ||
	{ echo "(privaudit sessions failed)"; rc=1; }
id=$(demo_session id)
if [ -n "$id" ]; then
	say "privaudit replay $logdir $id --verified --key $state/pinned.pub"
	"$pa" replay "$logdir" "$id" --verified --key "$state/pinned.pub" ||
		{ echo "(privaudit replay failed)"; rc=1; }
else
	say "privaudit replay: no sudo session of $demo found by privaudit sessions --json"
	rc=1
fi
say "privaudit verify $logdir --key $state/pinned.pub"
"$pa" verify "$logdir" --key "$state/pinned.pub" || { echo "(privaudit verify failed)"; rc=1; }

say "done: contrib/undo-try-it.sh undoes all of it"
exit "$rc"
