#!/bin/sh
# SPDX-License-Identifier: ISC
# example.sh: the libprivaudit(3) example (doc/example.c) on a fresh log and
# again, each result accepted by "privaudit verify --key DIR/log.pub".
# Environment (set by make check): PA_EXAMPLE, PRIVAUDIT.  Exit 0 pass, 1 fail.

set -u

fail() { printf 'FAIL: example.sh: %s\n' "$*" >&2; exit 1; }

if [ -z "${PA_EXAMPLE:-}" ] || [ ! -x "$PA_EXAMPLE" ]; then
	fail "PA_EXAMPLE is not an executable: ${PA_EXAMPLE:-unset}"
fi
if [ -z "${PRIVAUDIT:-}" ] || [ ! -x "$PRIVAUDIT" ]; then
	fail "PRIVAUDIT is not an executable: ${PRIVAUDIT:-unset}"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pa-example.XXXXXX") || fail "mktemp -d"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
dir=$tmp/log

# records: genesis, rotation, checkpoint from init; then per run the text,
# a rotation and a checkpoint
for want in 6 9; do
	"$PA_EXAMPLE" "$dir" || fail "example exited $? on $dir"
	out=$("$PRIVAUDIT" verify "$dir" --key "$dir/log.pub" --json)
	rc=$?
	[ "$rc" -eq 0 ] || fail "privaudit verify exited $rc after the example: $out"
	case $out in
	*'"records":'"$want"[,'}']*) ;;
	*) fail "expected $want records after the example, verify says: $out" ;;
	esac
	printf 'ok - example run, %s records verified against log.pub\n' "$want"
done

# the example's own usage error
"$PA_EXAMPLE" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "example without DIR exited $rc, expected 2"
exit 0
