#!/bin/sh
# SPDX-License-Identifier: ISC
# replay.sh: `make check` runs every fuzz harness over its committed corpus
# through the stub main (stub-main.c).  A crash, a sanitizer report or a
# failed harness check fails the test; nothing here needs libFuzzer.
set -u
here=$(cd "$(dirname "$0")" && pwd)
FUZZ_DIR=${FUZZ_DIR:-${top_builddir:-.}/tests/fuzz}
rc=0
n=0
for h in record segment note proof stream pam_args proof_file index request shipped ttyplay; do
	n=$((n + 1))
	corpus=$here/corpus/$h
	prog=$FUZZ_DIR/replay_$h
	if [ ! -x "$prog" ]; then
		echo "not ok $n - $h: $prog not built"
		rc=1
		continue
	fi
	if [ -z "$(ls "$corpus" 2>/dev/null)" ]; then
		echo "not ok $n - $h: empty corpus $corpus"
		rc=1
		continue
	fi
	if out=$("$prog" "$corpus" 2>&1); then
		echo "ok $n - $h: $(echo "$out" | tail -n 1 | sed 's/.*: //')"
	else
		echo "$out" | tail -n 40
		echo "not ok $n - $h: replay failed"
		rc=1
	fi
done
echo "1..$n"
exit $rc
