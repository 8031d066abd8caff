#!/bin/sh
# SPDX-License-Identifier: ISC
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
# The three (four with BASELINE, below) take turns for ROUNDS rounds
# (default 5), so that a slow stretch of a shared VM hits all of them; each
# rate printed is the median of its rounds (with the slowest and fastest
# beside it), and the ratios are of the medians.
# Environment: BENCH_DIR (default /var/tmp; a real disk), LAUREL (path of
# a laurel binary; default: laurel in PATH, else the Debian package is
# fetched with apt-get download and unpacked with dpkg-deb -x into the
# temporary directory, so its auditd plugin conf is never activated),
# BASELINE (another build directory, say of the previous commit: its plugin
# takes a turn in every round too, before or after this one's in turn, its
# log checked by its own privaudit, and the median of the per-round ratios
# says how the two compare on this noisy machine better than two separate
# runs can).
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
ROUNDS=${ROUNDS:-5}
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
# rate NAME NS SLOWEST_NS FASTEST_NS: events/s line (median, range)
rate() {
	awk -v n="$N" -v ns="$2" -v hi="$3" -v lo="$4" -v name="$1" -v bytes="$bytes" 'BEGIN {
		s = ns / 1e9; printf "%-18s %10.0f events/s  %8.1f MB/s  (%.2f s; rounds %.0f to %.0f)\n",
			name, n / s, bytes / s / 1e6, s, n / (hi / 1e9), n / (lo / 1e9) }'
}

echo "== generating $N events"
python3 "$SRCDIR/tests/gen-audit-stream.py" --mode bench --events "$N" --seed 7 -o "$work/stream"
bytes=$(wc -c <"$work/stream")
lines=$(wc -l <"$work/stream")
echo "stream: $bytes bytes, $lines records, $((bytes / N)) bytes/event"
cat "$work/stream" >/dev/null   # warm the page cache for everyone

LAUREL=${LAUREL:-$(command -v laurel || true)}
if [ -z "$LAUREL" ]; then
	if (cd "$work" && apt-get download laurel >/dev/null 2>&1); then
		dpkg-deb -x "$work"/laurel_*.deb "$work/laurel-root"
		LAUREL=$work/laurel-root/usr/sbin/laurel
	fi
fi
[ -n "$LAUREL" ] && [ -x "$LAUREL" ] || LAUREL=""
if [ -n "$LAUREL" ]; then
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
else
	echo "laurel not available: skipped"
fi
# the libtool wrapper would be timed too: run the real binary
# plugin_of BUILD: the real binary, not the libtool wrapper (it would be timed)
plugin_of() {
	if [ -x "$1/audisp_privaudit/.libs/audisp-privaudit" ]; then
		echo "$1/audisp_privaudit/.libs/audisp-privaudit"
	else
		echo "$1/audisp_privaudit/audisp-privaudit"
	fi
}
BASELINE=${BASELINE:-}
if [ -n "$BASELINE" ]; then
	BASELINE=$(cd "$BASELINE" && pwd)
	[ -x "$(plugin_of "$BASELINE")" ] || { echo "bench-plugin: BASELINE $BASELINE is not built" >&2; exit 1; }
fi
# A queue larger than the stream: with the default bound the reader outruns
# the writer and drops (as gap records), which would inflate the rate.  The
# bound counts chunk memory, and a read of 16 to 64 KiB takes a 64 KiB
# chunk: twice the stream leaves room for reads half full.
qbytes=$(( 2 * $(wc -c <"$work/stream") + 1048576 ))

# run_plugin BUILD TIMES: one run of BUILD's plugin on the stream into a
# new log, its time appended to TIMES; the log must verify
run_plugin() {
	rm -rf "$work/log"
	"$1/cli/privaudit" init "$work/log" >/dev/null
	t0=$(now_ns)
	$FEED cat "$work/stream" | LD_LIBRARY_PATH=$1/.libs $PIN "$(plugin_of "$1")" --dir "$work/log" \
		--stats --queue-bytes "$qbytes" 2>"$work/stats"
	echo $(($(now_ns) - t0)) >>"$2"
	cat "$work/stats"
	if grep -Eq 'dropped [1-9]' "$work/stats"; then
		echo "bench-plugin: the plugin dropped events; its rate would be wrong" >&2
		exit 1
	fi
	"$1/cli/privaudit" verify "$work/log" >/dev/null 2>&1 || { echo "bench-plugin: LOG DOES NOT VERIFY ($1)" >&2; exit 1; }
}

: >"$work/t-cat"; : >"$work/t-pa"; : >"$work/t-la"; : >"$work/t-base"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	echo "== round $r of $ROUNDS"
	t0=$(now_ns)
	$FEED cat "$work/stream" | $PIN cat >/dev/null
	echo $(($(now_ns) - t0)) >>"$work/t-cat"

	# with a baseline, the two swap places every round: neither is always
	# the one that runs right after cat
	if [ -n "$BASELINE" ] && [ $((r % 2)) -eq 0 ]; then
		run_plugin "$BASELINE" "$work/t-base"
		run_plugin "$BUILD" "$work/t-pa"
	else
		run_plugin "$BUILD" "$work/t-pa"
		[ -n "$BASELINE" ] && run_plugin "$BASELINE" "$work/t-base"
	fi

	if [ -n "$LAUREL" ]; then
		rm -rf "$work/laurel-log"
		mkdir -p "$work/laurel-log"
		t0=$(now_ns)
		$FEED cat "$work/stream" | $PIN "$LAUREL" -c "$work/laurel.toml" 2>"$work/laurel.err" || true
		t=$(($(now_ns) - t0))
		out=$(wc -l <"$work/laurel-log/audit.log" 2>/dev/null || echo 0)
		if [ "$out" -gt 0 ]; then
			echo "$t" >>"$work/t-la"
			echo "laurel wrote $out JSON events"
		else
			head -5 "$work/laurel.err"
		fi
	fi
	r=$((r + 1))
done
echo "every plugin log verified"

# median (and min, max) of the times in a file, in ns: "MED MIN MAX"
stats() {
	sort -n "$1" | awk '{ t[NR] = $1 } END { if (NR == 0) exit
		m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, t[1], t[NR] }'
}
read -r t_cat t_cat_min t_cat_max <<EOF
$(stats "$work/t-cat")
EOF
read -r t_pa t_pa_min t_pa_max <<EOF
$(stats "$work/t-pa")
EOF
t_la=""; t_la_min=""; t_la_max=""
if [ -s "$work/t-la" ]; then
	read -r t_la t_la_min t_la_max <<EOF
$(stats "$work/t-la")
EOF
fi

echo "== results ($N events, median of $ROUNDS rounds, measured process: ${PIN:-not pinned}; feeder: ${FEED:-not pinned})"
rate cat "$t_cat" "$t_cat_max" "$t_cat_min"
rate audisp-privaudit "$t_pa" "$t_pa_max" "$t_pa_min"
[ -n "$t_la" ] && rate laurel "$t_la" "$t_la_max" "$t_la_min"
if [ -n "$BASELINE" ]; then
	read -r t_b t_b_min t_b_max <<EOF
$(stats "$work/t-base")
EOF
	rate baseline "$t_b" "$t_b_max" "$t_b_min"
	echo "   (baseline: $BASELINE)"
	# (in millionths: stats prints whole numbers)
	paste "$work/t-pa" "$work/t-base" | awk '{ printf "%.0f\n", $2 / $1 * 1e6 }' >"$work/ratios"
	read -r r_med r_min r_max <<EOF
$(stats "$work/ratios")
EOF
	awk -v m="$r_med" -v lo="$r_min" -v hi="$r_max" 'BEGIN { m /= 1e6; lo /= 1e6; hi /= 1e6
		printf "audisp-privaudit / baseline: %.3fx the baseline'"'"'s rate (median of the rounds'"'"' ratios; %.3f to %.3f)\n", m, lo, hi }'
fi
awk -v a="$t_pa" -v c="$t_cat" 'BEGIN { printf "audisp-privaudit / cat:    %.3f of cat'"'"'s rate\n", c / a }'
[ -n "$t_la" ] && awk -v a="$t_pa" -v l="$t_la" 'BEGIN { printf "audisp-privaudit / laurel: %.2fx laurel'"'"'s rate (target 6x)\n", l / a }'
awk -v n="$N" -v a="$t_pa" -v pin="$PIN" 'BEGIN { r = n / (a / 1e9)
	printf "target 150000 events/s on one core: %s\n", (pin == "") ? "unknown (taskset missing: not pinned)" : ((r >= 150000) ? "met" : "NOT met") }'
