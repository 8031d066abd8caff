#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-verify-resume.sh: `privaudit verify --state` after new records,
# against a full verify of the same log, in the same run.  A benchmark,
# not a test.
#
#   bench-verify-resume.sh
#
# It makes a log of RECORDS records (default 10000000) with bench-append,
# verifies it whole once with --state, appends NEW records (default 10000)
# and seals, then times, taking turns, a full verify, a verify that
# resumes from (a copy of) the state, and one given the checkpoint from
# before the new records as --trusted.  Target (issue 19): the resumed run
# under 2% of the full one.
#
# Environment:
#   PRIVAUDIT     the privaudit program (default: privaudit on PATH)
#   BENCH_APPEND  the bench-append program (required)
#   RECORDS, NEW  as above; TEXT_BYTES per record (default 64)
#   RUNS          rounds, the best of each is kept (default 3)
#   BENCH_TMP     where the log goes (default /var/tmp; about 1.5 GB for
#                 the default size)
#
# Warm page cache: CPU work, not the disk.
set -eu

PRIVAUDIT=${PRIVAUDIT:-privaudit}
RECORDS=${RECORDS:-10000000}
NEW=${NEW:-10000}
TEXT_BYTES=${TEXT_BYTES:-64}
RUNS=${RUNS:-3}
BENCH_TMP=${BENCH_TMP:-/var/tmp}
[ -n "${BENCH_APPEND:-}" ] || { echo "bench-verify-resume: set BENCH_APPEND" >&2; exit 2; }
# A build tree's cli/privaudit is libtool's wrapper script, whose start-up
# (about 150 ms) would swamp a run that reads 10,000 records: use the
# program it wraps.
p=$(command -v "$PRIVAUDIT")
if head -c 4096 "$p" | grep -q 'libtool' && [ -x "$(dirname "$p")/.libs/privaudit" ]; then
	LD_LIBRARY_PATH=$(cd "$(dirname "$p")/../.libs" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
	PRIVAUDIT=$(dirname "$p")/.libs/privaudit
fi

out=$("$BENCH_APPEND" -n "$RECORDS" -c 10000 -s "$TEXT_BYTES" --no-raw "$BENCH_TMP")
log=$(printf '%s\n' "$out" | sed -n 's/^log: //p')
[ -n "$log" ] || { echo "bench-verify-resume: bench-append printed no log path" >&2; exit 1; }
tmp=$(dirname "$log")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

"$PRIVAUDIT" verify "$log" --state "$tmp/state" --quiet ||
	{ echo "bench-verify-resume: the log does not verify" >&2; exit 1; }
"$PRIVAUDIT" checkpoint "$log" >"$tmp/trusted.note"
seq "$NEW" | "$PRIVAUDIT" append "$log" --batch 1000
"$PRIVAUDIT" seal "$log" >/dev/null
cat "$log"/seg-* >/dev/null   # warm the page cache

now_ns() { date +%s%N; }
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.4f", ns / 1e9 }'; }

full="" resumed="" trusted=""
i=0
while [ "$i" -lt "$RUNS" ]; do
	t0=$(now_ns)
	"$PRIVAUDIT" verify "$log" --quiet || { echo "bench-verify-resume: full verify failed" >&2; exit 1; }
	t1=$(now_ns)
	full=$(min "$full" $((t1 - t0)))
	cp "$tmp/state" "$tmp/state.run"
	t0=$(now_ns)
	"$PRIVAUDIT" verify "$log" --state "$tmp/state.run" --quiet ||
		{ echo "bench-verify-resume: resumed verify failed" >&2; exit 1; }
	t1=$(now_ns)
	resumed=$(min "$resumed" $((t1 - t0)))
	t0=$(now_ns)
	"$PRIVAUDIT" verify "$log" --trusted "$tmp/trusted.note" --quiet ||
		{ echo "bench-verify-resume: verify --trusted failed" >&2; exit 1; }
	t1=$(now_ns)
	trusted=$(min "$trusted" $((t1 - t0)))
	i=$((i + 1))
done
bytes=$(cat "$log"/seg-* | wc -c)
ratio=$(awk -v a="$resumed" -v b="$full" 'BEGIN { printf "%.4f", a / b }')
met=$(awk -v r="$ratio" 'BEGIN { print (r < 0.02) ? "met" : "NOT met" }')
echo "log: $RECORDS records + $NEW new, $bytes bytes, best of $RUNS"
echo "full verify:                 $(secs "$full") s"
echo "verify --state (new only):   $(secs "$resumed") s"
echo "verify --trusted (from its segment): $(secs "$trusted") s"
echo "ratio resumed/full: $ratio (target < 0.02: $met)"
echo "ratio trusted/full: $(awk -v a="$trusted" -v b="$full" 'BEGIN { printf "%.4f", a / b }') (reads from the start of the segment holding the trusted checkpoint, up to 64 MiB more)"
