#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-verify.sh: `privaudit verify` throughput against sha256sum and
# openssl's SHA-256 over the same bytes.  A benchmark, not a test.
#
#   bench-verify.sh [LOGDIR]
#
# Environment:
#   PRIVAUDIT     the privaudit program (default: privaudit on PATH)
#   BENCH_APPEND  bench-append program, used to make a log when no LOGDIR is
#                 given (its extra arguments in BENCH_APPEND_ARGS)
#   BENCH_TMP     where the concatenated copy of the segments goes
#                 (default /var/tmp)
#   RUNS          runs per measurement, the best is kept (default 3)
#
# All measurements are with a warm page cache: they measure CPU work, not
# the disk.  MB = 10^6 bytes.
set -eu

PRIVAUDIT=${PRIVAUDIT:-privaudit}
RUNS=${RUNS:-3}
BENCH_TMP=${BENCH_TMP:-/var/tmp}

log=${1:-}
made_log=""
if [ -z "$log" ]; then
	if [ -z "${BENCH_APPEND:-}" ]; then
		echo "bench-verify: give a log directory or set BENCH_APPEND" >&2
		exit 2
	fi
	# shellcheck disable=SC2086
	out=$("$BENCH_APPEND" ${BENCH_APPEND_ARGS:-})
	printf '%s\n' "$out"
	log=$(printf '%s\n' "$out" | sed -n 's/^log: //p')
	[ -n "$log" ] || { echo "bench-verify: bench-append printed no log path" >&2; exit 1; }
	made_log=$(dirname "$log")
fi
[ -d "$log" ] || { echo "bench-verify: $log: not a directory" >&2; exit 2; }

tmp=$(mktemp -d "$BENCH_TMP/privaudit-bench-verify.XXXXXX")
cleanup() {
	rm -rf "$tmp"
	if [ -n "$made_log" ] && [ -z "${KEEP_LOG:-}" ]; then rm -rf "$made_log"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same bytes verify reads: every segment, in order.
cat "$log"/seg-* >"$tmp/segments"
bytes=$(stat -c %s "$tmp/segments")
set -- "$log"/seg-*
nseg=$#
cat "$tmp/segments" "$log"/seg-* >/dev/null   # warm the page cache

now_ns() { date +%s%N; }

# time_ns CMD...: run CMD (output discarded, must exit 0), print its wall
# time in nanoseconds.
time_ns() {
	t0=$(now_ns)
	if ! "$@" >/dev/null 2>"$tmp/err"; then
		echo "bench-verify: failed: $*" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	t1=$(now_ns)
	echo $((t1 - t0))
}

min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
mbs() { awk -v b="$bytes" -v ns="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# One set of measurements; $1 is a label, the rest a command prefix
# (taskset ...) or nothing.  The three programs take turns, $RUNS rounds,
# so that a slow patch of a shared machine hits them alike; each keeps its
# best time.
measure() {
	label=$1
	shift
	bv="" bs="" bo=""
	round=0
	while [ "$round" -lt "$RUNS" ]; do
		t=$(time_ns "$@" "$PRIVAUDIT" verify "$log" --key "$log/log.pub" --quiet)
		bv=$(min "$bv" "$t")
		t=$(time_ns "$@" sha256sum "$tmp/segments")
		bs=$(min "$bs" "$t")
		t=$(time_ns "$@" openssl dgst -sha256 "$tmp/segments")
		bo=$(min "$bo" "$t")
		round=$((round + 1))
	done
	mv=$(mbs "$bv")
	ms=$(mbs "$bs")
	mo=$(mbs "$bo")
	echo "== $label"
	echo "verify: $mv MB/s ($(secs "$bv") s)"
	echo "sha256sum: $ms MB/s ($(secs "$bs") s)"
	echo "openssl sha256 (CPU hashing limit): $mo MB/s ($(secs "$bo") s)"
	echo "ratio verify/sha256sum: $(ratio "$mv" "$ms") (target >= 0.8)"
	echo "ratio verify/openssl: $(ratio "$mv" "$mo")"
}

echo "verify input: $log, $nseg segment(s), $bytes bytes; best of $RUNS interleaved rounds, warm cache"
"$PRIVAUDIT" verify "$log" --key "$log/log.pub" 2>&1 | sed 's/^/  | /' || true
if command -v taskset >/dev/null 2>&1; then
	measure "one core (taskset -c 0)" taskset -c 0
else
	echo "== one core: taskset not found (util-linux), skipped"
fi
measure "all cores ($(nproc) online, no taskset; a second thread checks CRCs and hashes leaves)"
