#!/bin/sh
# SPDX-License-Identifier: ISC
# run-fuzzers.sh: run each libFuzzer harness, one at a time, for SECONDS
# on a copy of its corpus (the committed one stays as it is), with its
# dictionary.  Any crash, leak, sanitizer report, timeout or harness check
# fails the run; the input that found it is kept in ARTIFACTS.
#   tests/fuzz/run-fuzzers.sh SECONDS [BUILDDIR] [HARNESS...]
# BUILDDIR (default .) is configured with --enable-fuzzers (CC=clang).
# FUZZ_SEED is a list of seeds, each a number or "random" (the default):
# every harness runs once per seed, in that order.  A fixed seed explores a
# prefix of the same inputs as a longer run with it, so CI repeats what was
# checked; a random one explores further, and is printed with the command
# that replays it before the run starts, so a failure can be run again.
# Every run starts from the committed corpus (a copy), so a seed replays
# the same run; the new inputs it finds go to a directory of their own,
# DIR/HARNESS-SEED when FUZZ_CORPUS=DIR, to be merged by hand
# (doc/fuzzing.md), else a temporary one.
# FUZZ_STOP=1 stops at the first failure instead of running the rest.
set -u
secs=${1:?usage: run-fuzzers.sh SECONDS [BUILDDIR] [HARNESS...]}
shift
B=${1:-.}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "$B" && pwd)
harnesses=${*:-record segment note proof stream pam_args proof_file index request shipped ttyplay}
seeds=${FUZZ_SEED:-random}
art=${ARTIFACTS:-$B/fuzz-artifacts}
mkdir -p "$art"
art=$(cd "$art" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
keep=""
if [ -n "${FUZZ_CORPUS:-}" ]; then
	mkdir -p "$FUZZ_CORPUS"
	keep=$(cd "$FUZZ_CORPUS" && pwd)
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# random_seed: a libFuzzer seed (unsigned 32 bits; 0 would ask libFuzzer to
# pick one we could not print).
random_seed() {
	s=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	[ "$s" -eq 0 ] && s=1
	echo "$s"
}

rc=0
run=0
for h in $harnesses; do
	prog=$B/tests/fuzz/fuzz_$h
	if [ ! -x "$prog" ]; then
		echo "run-fuzzers: $prog not built (configure --enable-fuzzers CC=clang)" >&2
		exit 2
	fi
	dict=""
	[ -f "$here/$h.dict" ] && dict="-dict=$here/$h.dict"
	case $h in
	segment|record|stream) maxlen=65536 ;;
	proof_file|index) maxlen=32768 ;;
	*) maxlen=4096 ;;
	esac
	for s in $seeds; do
		run=$((run + 1))
		if [ "$s" = random ]; then
			s=$(random_seed)
			# The same corpus, dictionary and options: only how many
			# inputs fit in the time can differ.
			echo "fuzz_$h: seed $s (replay: FUZZ_SEED=$s $here/run-fuzzers.sh $secs $B $h)"
		fi
		seeds_in=$work/$h-$run
		cp -r "$here/corpus/$h" "$seeds_in"
		new=$work/$h-$run-new
		[ -n "$keep" ] && new=$keep/$h-$s
		mkdir -p "$new"
		log=$work/$h-$run.log
		# libFuzzer writes what it finds to the first directory only.
		# -reload=0: reading back its own finds at times that depend on
		# the load would make the run differ from its replay.
		# shellcheck disable=SC2086
		"$prog" -seed="$s" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
			-max_len=$maxlen -reload=0 -print_final_stats=1 -artifact_prefix="$art/$h-" \
			$dict "$new" "$seeds_in" >"$log" 2>&1
		st=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
		if [ "$st" -eq 0 ]; then
			echo "ok   $h: ${execs:-?} execs in ${secs}s, cov ${cov:-?}, seed $s${keep:+, $(ls "$new" | wc -l) new inputs in $new}"
			continue
		fi
		tail -n 60 "$log"
		found=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		if [ -n "$found" ]; then
			echo "FAIL $h: exit $st, seed $s; input $found (replay: $prog $found)"
		else
			echo "FAIL $h: exit $st, seed $s; no input written (see the log above)"
		fi
		rc=1
		[ "${FUZZ_STOP:-}" = 1 ] && exit 1
	done
done
exit $rc
