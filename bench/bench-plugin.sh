#!/bin/sh
# bench-plugin.sh: auditd plugin ingest rate, side by side in one run, on the
# same generated stream (tests/gen-audit-stream.py --mode bench: mostly
# execve events with 2 to 20 arguments, some TTY, USER_CMD and PAM events,
# about 1 KiB each):
#   cat                the stream through a pipe, the raw limit
#   audisp-privaudit   parsed, appended, durable (group commit), sealed
#   laurel             the Debian package's plugin, JSON log (no fsync)
# Each runs pinned to CPU 0 (taskset -c 0, which binds every thread of the
# process: the plugin's reader, writer and sync threads share that core),
# while the cat that feeds it, standing in for auditd, runs on CPU 1 when
# there is one, so that the feeder takes no time from the measured core.
#
#   bench/bench-plugin.sh [BUILD_DIR] [-n EVENTS]
#
# Environment: BENCH_DIR (default /var/tmp; a real disk), LAUREL (path of
# a laurel binary; default: laurel in PATH, else the Debian package is
# fetched with apt-get download and unpacked with dpkg-deb -x into the
# temporary directory, so its auditd plugin conf is never activated).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BUILD=""
case "${1:-}" in
"" | -*) ;;
*) BUILD=$1; shift ;;
esac
[ -n "$BUILD" ] || BUILD=.
BUILD=$(cd "$BUILD" && pwd)
N=100000
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift 2 ;;
	*) echo "usage: bench/bench-plugin.sh [BUILD_DIR] [-n EVENTS]" >&2; exit 2 ;;
	esac
done
PLUGIN=$BUILD/audisp_privaudit/audisp-privaudit
PRIVAUDIT=$BUILD/cli/privaudit
[ -x "$PLUGIN" ] && [ -x "$PRIVAUDIT" ] || { echo "bench-plugin: build $BUILD first" >&2; exit 1; }
BENCH_DIR=${BENCH_DIR:-/var/tmp}
work=$(mktemp -d "$BENCH_DIR/privaudit-bench-plugin.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

PIN=""
FEED=""
if command -v taskset >/dev/null 2>&1; then
	PIN="taskset -c 0"
	[ "$(nproc 2>/dev/null || echo 1)" -ge 2 ] && FEED="taskset -c 1"
fi

now_ns() { date +%s%N; }
# rate NAME NS: events/s line
rate() {
	awk -v n="$N" -v ns="$2" -v name="$1" -v bytes="$bytes" 'BEGIN {
		s = ns / 1e9; printf "%-18s %10.0f events/s  %8.1f MB/s  (%.2f s)\n", name, n / s, bytes / s / 1e6, s }'
}

echo "== generating $N events"
python3 "$SRCDIR/tests/gen-audit-stream.py" --mode bench --events "$N" --seed 7 -o "$work/stream"
bytes=$(wc -c <"$work/stream")
lines=$(wc -l <"$work/stream")
echo "stream: $bytes bytes, $lines records, $((bytes / N)) bytes/event"
cat "$work/stream" >/dev/null   # warm the page cache for everyone

echo "== cat"
t0=$(now_ns)
$FEED cat "$work/stream" | $PIN cat >/dev/null
t_cat=$(($(now_ns) - t0))

echo "== audisp-privaudit (durable group commit, sealed at exit)"
"$PRIVAUDIT" init "$work/log" >/dev/null
# the libtool wrapper would be timed too: run the real binary
real=$PLUGIN
[ -x "$BUILD/audisp_privaudit/.libs/audisp-privaudit" ] && real=$BUILD/audisp_privaudit/.libs/audisp-privaudit
t0=$(now_ns)
# A queue larger than the stream: with the default bound the reader outruns
# the writer and drops (as gap records), which would inflate the rate.
qbytes=$(( $(wc -c <"$work/stream") + 1048576 ))
$FEED cat "$work/stream" | LD_LIBRARY_PATH=$BUILD/.libs $PIN "$real" --dir "$work/log" --stats \
	--queue-bytes "$qbytes" 2>"$work/stats"
t_pa=$(($(now_ns) - t0))
cat "$work/stats"
if grep -Eq 'dropped [1-9]' "$work/stats"; then
	echo "bench-plugin: the plugin dropped events; its rate would be wrong" >&2
	exit 1
fi
"$PRIVAUDIT" verify "$work/log" >/dev/null 2>&1 && echo "log verifies" || echo "LOG DOES NOT VERIFY"

echo "== laurel"
LAUREL=${LAUREL:-$(command -v laurel || true)}
if [ -z "$LAUREL" ]; then
	if (cd "$work" && apt-get download laurel >/dev/null 2>&1); then
		dpkg-deb -x "$work"/laurel_*.deb "$work/laurel-root"
		LAUREL=$work/laurel-root/usr/sbin/laurel
	fi
fi
t_la=""
if [ -n "$LAUREL" ] && [ -x "$LAUREL" ]; then
	mkdir -p "$work/laurel-log"
	cat >"$work/laurel.toml" <<EOF
directory = "$work/laurel-log"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000000
generations = 2
[transform]
execve-argv = [ "array" ]
[enrich]
pid = true
EOF
	echo "laurel: $("$LAUREL" --version 2>&1 | head -1)"
	t0=$(now_ns)
	$FEED cat "$work/stream" | $PIN "$LAUREL" -c "$work/laurel.toml" 2>"$work/laurel.err" || true
	t_la=$(($(now_ns) - t0))
	out=$(wc -l <"$work/laurel-log/audit.log" 2>/dev/null || echo 0)
	echo "laurel wrote $out JSON events"
	[ "$out" -gt 0 ] || { head -5 "$work/laurel.err"; t_la=""; }
else
	echo "laurel not available: skipped"
fi

echo "== results ($N events, measured process: ${PIN:-not pinned}; feeder: ${FEED:-not pinned})"
rate cat "$t_cat"
rate audisp-privaudit "$t_pa"
[ -n "$t_la" ] && rate laurel "$t_la"
awk -v a="$t_pa" -v c="$t_cat" 'BEGIN { printf "audisp-privaudit / cat:    %.3f of cat'"'"'s rate\n", c / a }'
[ -n "$t_la" ] && awk -v a="$t_pa" -v l="$t_la" 'BEGIN { printf "audisp-privaudit / laurel: %.2fx laurel'"'"'s rate (target 6x)\n", l / a }'
awk -v n="$N" -v a="$t_pa" -v pin="$PIN" 'BEGIN { r = n / (a / 1e9)
	printf "target 150000 events/s on one core: %s\n", (pin == "") ? "unknown (taskset missing: not pinned)" : ((r >= 150000) ? "met" : "NOT met") }'
