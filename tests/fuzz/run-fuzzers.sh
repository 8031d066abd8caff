#!/bin/sh
# SPDX-License-Identifier: ISC
# run-fuzzers.sh: run each libFuzzer harness, one at a time, for SECONDS
# on a copy of its corpus (the committed one stays as it is), with its
# dictionary.  Any crash, leak, sanitizer report, timeout or harness check
# fails the run; the input that found it is kept in ARTIFACTS.
#   tests/fuzz/run-fuzzers.sh SECONDS [BUILDDIR] [HARNESS...]
# BUILDDIR (default .) is configured with --enable-fuzzers (CC=clang).
# FUZZ_SEED fixes libFuzzer's seed: a run with a seed explores a prefix of
# the same inputs as a longer run with it, so CI repeats what was checked.
set -u
secs=${1:?usage: run-fuzzers.sh SECONDS [BUILDDIR] [HARNESS...]}
shift
B=${1:-.}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
harnesses=${*:-record segment note proof stream pam_args proof_file index request shipped}
art=${ARTIFACTS:-$B/fuzz-artifacts}
mkdir -p "$art"
art=$(cd "$art" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rc=0
for h in $harnesses; do
	prog=$B/tests/fuzz/fuzz_$h
	if [ ! -x "$prog" ]; then
		echo "run-fuzzers: $prog not built (configure --enable-fuzzers CC=clang)" >&2
		exit 2
	fi
	cp -r "$here/corpus/$h" "$work/$h"
	dict=""
	[ -f "$here/$h.dict" ] && dict="-dict=$here/$h.dict"
	case $h in
	segment|record|stream) maxlen=65536 ;;
	proof_file|index) maxlen=32768 ;;
	*) maxlen=4096 ;;
	esac
	# shellcheck disable=SC2086
	seed=""
	[ -n "${FUZZ_SEED:-}" ] && seed="-seed=$FUZZ_SEED"
	"$prog" $seed -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=$maxlen \
		-print_final_stats=1 -artifact_prefix="$art/$h-" $dict "$work/$h" \
		>"$work/$h.log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log")
	cov=$(grep -E '^#[0-9]+' "$work/$h.log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	if [ "$st" -eq 0 ]; then
		echo "ok   $h: ${execs:-?} execs in ${secs}s, cov ${cov:-?}"
	else
		tail -n 60 "$work/$h.log"
		echo "FAIL $h: exit $st; input kept in $art/$h-*"
		rc=1
	fi
done
exit $rc
