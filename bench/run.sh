#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh: build and run the privaudit benchmarks (bench/README.md).
#
#   bench/run.sh [BUILD_DIR] [bench-append options: -n N -c EVERY -s BYTES]
#
# BUILD_DIR is a configured build directory (default: the current directory
# when it holds cli/privaudit or a Makefile).  Environment: BENCH_DIR, the
# parent of the temporary log (default /var/tmp, must be a real disk);
# RUNS, runs per verify measurement (default 3); CC (default cc); KEEP_LOG=1
# keeps the log afterwards.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)

BUILD=""
case "${1:-}" in
"" | -*) ;;
*) BUILD=$1; shift ;;
esac
if [ -z "$BUILD" ]; then
	if [ -e ./cli/privaudit ] || [ -f ./Makefile ]; then
		BUILD=.
	else
		echo "usage: bench/run.sh BUILD_DIR [-n RECORDS] [-c COMMIT_EVERY] [-s TEXT_BYTES]" >&2
		exit 2
	fi
fi
BUILD=$(cd "$BUILD" && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp}

echo "== build ($BUILD)"
if [ -f "$BUILD/Makefile" ]; then
	make -C "$BUILD" -s >/dev/null
fi
for f in "$BUILD/cli/privaudit" "$BUILD/.libs/libprivaudit.so"; do
	[ -e "$f" ] || { echo "run.sh: $f missing: is $BUILD a built privaudit build directory?" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/privaudit-bench-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# Prefer the Makefile rule (bench/Makefile.am fragment) when the build has it.
# shellcheck disable=SC2016
if [ -f "$BUILD/Makefile" ] && grep -q '^bench/bench-append\$(EXEEXT):' "$BUILD/Makefile"; then
	make -C "$BUILD" -s bench/bench-append >/dev/null
	BENCH_APPEND=$BUILD/bench/bench-append
else
	(cd "$here" && ${CC:-cc} -O2 -I"$SRCDIR/libprivaudit" bench-append.c \
		-L"$BUILD/.libs" -lprivaudit -Wl,-rpath,"$BUILD/.libs" -o "$work/bench-append")
	BENCH_APPEND=$work/bench-append
fi

if grep -q -w sha_ni /proc/cpuinfo 2>/dev/null; then
	backend="in-house, x86 SHA extensions"
else
	backend="in-house, portable C"
fi

echo "== machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "host: $(uname -srm), $(nproc) cores online, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
if [ -r /etc/debian_version ]; then echo "debian: $(cat /etc/debian_version)"; fi
if grep -qw sha_ni /proc/cpuinfo; then echo "cpu: SHA-NI present"; else echo "cpu: no SHA-NI"; fi
echo "privaudit: $("$BUILD/cli/privaudit" --version 2>/dev/null | head -n 1 || echo '?'), SHA-256 via $backend"
echo "tools: $(sha256sum --version | head -n 1); $(openssl version)"
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || stat -f -c %T "$BENCH_DIR")
echo "bench dir: $BENCH_DIR ($fstype)"
echo "load average before: $(cut -d ' ' -f 1-3 /proc/loadavg)"

echo "== append"
"$BENCH_APPEND" "$@" "$BENCH_DIR" | tee "$work/append.out"
log=$(sed -n 's/^log: //p' "$work/append.out")
[ -n "$log" ] || { echo "run.sh: bench-append printed no log path" >&2; exit 1; }

echo "== verify"
rc=0
PRIVAUDIT=$BUILD/cli/privaudit BENCH_TMP=$BENCH_DIR sh "$here/bench-verify.sh" "$log" || rc=$?
if [ -z "${KEEP_LOG:-}" ]; then
	rm -rf "$(dirname "$log")"
else
	echo "log kept: $log"
fi
exit "$rc"
