#!/bin/bash
# SPDX-License-Identifier: ISC
# bench-sudo-io.sh: what recording a sudo command's output costs.
#
# `sudo cat FILE > /dev/null` of a 100 MB text file, four ways, interleaved
# round by round, best of ROUNDS each:
#   none        no I/O plugin (sudo runs cat directly: the floor)
#   log_output  sudo's own I/O log (sudoers_io), uncompressed
#   compressed  sudo's own I/O log, compress_io (sudoers' default)
#   privaudit   sudo_privaudit.so through a privauditd started here
# and prints privaudit's time as a ratio of each, and the log's bytes per
# output byte for both loggers.  The target (issue 18): at most 1.5x
# sudo's own I/O log time.
#
# Needs root.  Changes /etc/sudo.conf and adds /etc/sudoers.d/privaudit-bench
# for the run; both are put back by the EXIT trap.
# usage: bench/bench-sudo-io.sh [BUILDDIR]   (MB=100 ROUNDS=3 in the environment)

set -u
build=${1:-.}
build=$(cd "$build" && pwd)
MB=${MB:-100}
ROUNDS=${ROUNDS:-3}
plugin=$build/sudo_privaudit/.libs/sudo_privaudit.so
[ "$(id -u)" -eq 0 ] || { echo "bench-sudo-io: needs root" >&2; exit 77; }
for f in "$plugin" "$build/privauditd/privauditd" "$build/cli/privaudit"; do
	[ -e "$f" ] || { echo "bench-sudo-io: not built: $f" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/bench-sudo-io.XXXXXX)
conf=/etc/sudo.conf
drop=/etc/sudoers.d/privaudit-bench
cp -p "$conf" "$tmp/sudo.conf.orig" 2>/dev/null || : >"$tmp/no-conf"
daemon=""
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	if [ -e "$tmp/no-conf" ]; then rm -f "$conf"; else cp -p "$tmp/sudo.conf.orig" "$conf"; fi
	rm -f "$drop"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# About MB megabytes of text lines (base64 of random bytes: what compression
# can do something with, unlike raw random bytes).
head -c $((MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 100 >"$tmp/data"
size=$(stat -c %s "$tmp/data")

"$build/cli/privaudit" init "$tmp/log" >/dev/null || exit 1
"$build/privauditd/privauditd" --dir "$tmp/log" --socket "$tmp/sock" --foreground 2>"$tmp/d.err" &
daemon=$!
for _ in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.05; done
[ -S "$tmp/sock" ] || { cat "$tmp/d.err" >&2; exit 1; }

setup() {
	case $1 in
	none)
		printf 'Plugin sudoers_policy sudoers.so\n' >"$conf"
		rm -f "$drop" ;;
	log_output|compressed)
		printf 'Plugin sudoers_policy sudoers.so\nPlugin sudoers_io sudoers.so\n' >"$conf"
		mkdir -p "$tmp/iolog"
		{
			printf 'Defaults log_output, iolog_dir=%s/iolog, iolog_file=%%{seq}\n' "$tmp"
			[ "$1" = compressed ] && echo 'Defaults compress_io' || echo 'Defaults !compress_io'
		} >"$drop"
		chmod 440 "$drop" ;;
	privaudit)
		printf 'Plugin sudoers_policy sudoers.so\nPlugin privaudit_io %s socket=%s %s\n' \
			"$plugin" "$tmp/sock" "${PLUGIN_OPTS:-}" >"$conf"
		rm -f "$drop" ;;
	esac
}

du_bytes() { du -sb "$1" 2>/dev/null | cut -f1; }

run() {
	local mode=$1 t0 t1 before after
	setup "$mode"
	case $mode in
	privaudit) before=$(du_bytes "$tmp/log") ;;
	log_output|compressed) before=$(du_bytes "$tmp/iolog") ;;
	*) before=0 ;;
	esac
	t0=$(date +%s%N)
	sudo cat "$tmp/data" >/dev/null || { echo "bench-sudo-io: sudo failed ($mode)" >&2; exit 1; }
	t1=$(date +%s%N)
	case $mode in
	privaudit) after=$(du_bytes "$tmp/log") ;;
	log_output|compressed) after=$(du_bytes "$tmp/iolog") ;;
	*) after=0 ;;
	esac
	echo "$((t1 - t0)) $((after - before))"
}

declare -A best bytes
modes="none log_output compressed privaudit"
for r in $(seq "$ROUNDS"); do
	for m in $modes; do
		read -r ns b < <(run "$m")
		if [ -z "${best[$m]:-}" ] || [ "$ns" -lt "${best[$m]}" ]; then best[$m]=$ns; fi
		bytes[$m]=$b
	done
done
# the plugin's records really are in the log, and it verifies
"$build/cli/privaudit" seal "$tmp/log" >/dev/null 2>&1
n=$("$build/cli/privaudit" show "$tmp/log" --kind io_chunk 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "bench-sudo-io: the plugin recorded nothing" >&2; exit 1; }

secs() { awk -v n="$1" 'BEGIN { printf "%.4f", n / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per() { awk -v a="$1" -v b="$size" 'BEGIN { printf "%.3f", a / b }'; }
echo "sudo cat of $size bytes to /dev/null, best of $ROUNDS, interleaved"
printf '%-34s %s s\n' "no I/O plugin (floor):" "$(secs "${best[none]}")"
printf '%-34s %s s  log bytes/output byte %s\n' "sudo log_output, uncompressed:" \
	"$(secs "${best[log_output]}")" "$(per "${bytes[log_output]}")"
printf '%-34s %s s  log bytes/output byte %s\n' "sudo log_output, compress_io:" \
	"$(secs "${best[compressed]}")" "$(per "${bytes[compressed]}")"
printf '%-34s %s s  log bytes/output byte %s  (%s io_chunk records)\n' "sudo_privaudit.so via privauditd:" \
	"$(secs "${best[privaudit]}")" "$(per "${bytes[privaudit]}")" "$((n / ROUNDS))"
printf 'ratio privaudit / log_output uncompressed: %s\n' "$(ratio "${best[privaudit]}" "${best[log_output]}")"
printf 'ratio privaudit / log_output compress_io:  %s  (target <= 1.5)\n' "$(ratio "${best[privaudit]}" "${best[compressed]}")"
printf 'ratio privaudit / no plugin:               %s\n' "$(ratio "${best[privaudit]}" "${best[none]}")"
