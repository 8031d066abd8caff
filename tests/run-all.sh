#!/bin/sh
# SPDX-License-Identifier: ISC
# run-all.sh: the whole test suite, as the README gives it: a -Werror build
# and its make check, the same suite under ASan+UBSan, and make distcheck.
# Run from the top of a checkout; builds out of tree under ${BUILD_ROOT:-_build}.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
root=${BUILD_ROOT:-$top/_build}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

step() { printf '\n==== %s\n' "$*"; }

# failed_logs: the end of the log of every test that failed (or was killed
# by the harness's timeout) in the current build directory.
failed_logs() {
	for trs in tests/*.trs tests/fuzz/*.trs; do
		grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs" 2>/dev/null || continue
		printf '\n---- %s (last 150 lines)\n' "${trs%.trs}.log"
		tail -150 "${trs%.trs}.log"
	done
}

cd "$top"
step "autoreconf"
autoreconf -fi

step "build with --enable-werror, make check"
rm -rf "$root/werror" && mkdir -p "$root/werror"
(cd "$root/werror" && "$top/configure" --enable-werror && make -j"$jobs" &&
	make -j"$jobs" check || { failed_logs; exit 1; })
cat "$root"/werror/tests/test_*.log | grep -E '^\[  (PASSED|FAILED) \]|tests? (passed|failed)' || true

step "build with --enable-sanitizers (ASan+UBSan), make check"
rm -rf "$root/asan" && mkdir -p "$root/asan"
(cd "$root/asan" && "$top/configure" --enable-werror --enable-sanitizers &&
	make -j"$jobs" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 make -j"$jobs" check ||
	{ failed_logs; exit 1; })

step "make distcheck"
(cd "$root/werror" && make -j"$jobs" distcheck)

# Fuzzing, bounded (doc/fuzzing.md), when clang with libFuzzer is there:
# each harness with seed 1, which repeats what was checked before, then
# with a random seed, printed with its replay command, to look further.
if command -v clang >/dev/null 2>&1; then
	step "fuzzers: ${FUZZ_SECONDS:-20} s each, seeds ${FUZZ_SEED:-1 random}"
	rm -rf "$root/fuzz" && mkdir -p "$root/fuzz"
	(cd "$root/fuzz" && CC=clang "$top/configure" --enable-fuzzers >/dev/null &&
		make -j"$jobs" >/dev/null)
	FUZZ_SEED=${FUZZ_SEED:-1 random} tests/fuzz/run-fuzzers.sh "${FUZZ_SECONDS:-20}" "$root/fuzz"
else
	step "fuzzers: skipped (no clang; .ci/run installs it)"
fi

# One closing line over the two make check runs (distcheck repeats the first).
pass=0 fail=0 skip=0
for log in "$root/werror/test-suite.log" "$root/asan/test-suite.log"; do
	p=$(sed -n 's/^# PASS: *//p' "$log"); f=$(sed -n 's/^# FAIL: *//p' "$log")
	s=$(sed -n 's/^# SKIP: *//p' "$log"); e=$(sed -n 's/^# ERROR: *//p' "$log")
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0})); skip=$((skip + ${s:-0}))
done
step "all test stages passed"
echo "tests: $pass passed, $fail failed, $skip skipped"
