#!/bin/sh
# SPDX-License-Identifier: ISC
# pam-wrapper.sh: runs tests/test_pam (cmocka + libpamtest) with the real
# libpam under pam_wrapper, without root: service files in a temporary
# directory name the built module by absolute path, and the built privauditd,
# which test_pam starts for each test, on a socket in that directory.  Exit
# 77 (skip) when pam_wrapper or libpamtest were not found at configure time.
# Environment (set by make check): top_builddir, PAM_WRAPPER_SO, PAM_MODULE,
# TEST_PAM, PRIVAUDIT, PRIVAUDITD.

set -u

me=pam-wrapper.sh
fail() { printf 'FAIL: %s: %s\n' "$me" "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s: %s\n' "$me" "$*" >&2; exit 77; }

top_builddir=${top_builddir:-.}
PAM_MODULE=${PAM_MODULE:-$top_builddir/pam_privaudit/.libs/pam_privaudit.so}
TEST_PAM=${TEST_PAM:-$top_builddir/tests/test_pam}
PRIVAUDITD=${PRIVAUDITD:-$top_builddir/privauditd/privauditd}

[ -n "${PAM_WRAPPER_SO:-}" ] ||
	skip "pam_wrapper not found by configure (Debian: libpam-wrapper libpamtest0-dev)"
[ -f "$PAM_WRAPPER_SO" ] || skip "PAM_WRAPPER_SO=$PAM_WRAPPER_SO does not exist"
# configure sets PAM_WRAPPER_SO only when libpamtest was found too, and
# make check then builds test_pam
[ -x "$TEST_PAM" ] || fail "$TEST_PAM not built"
[ -f "$PAM_MODULE" ] || fail "module not built: $PAM_MODULE"
case $PAM_MODULE in /*) ;; *) PAM_MODULE=$(pwd)/$PAM_MODULE ;; esac
[ -x "$PRIVAUDITD" ] || fail "daemon not built: $PRIVAUDITD"
case $PRIVAUDITD in /*) ;; *) PRIVAUDITD=$(pwd)/$PRIVAUDITD ;; esac

# pam_set_items.so (shipped with pam_wrapper) sets hostile items for the test
mods=$(pkg-config --variable=modules pam_wrapper 2>/dev/null) || mods=""
[ -n "$mods" ] || mods=$(dirname "$PAM_WRAPPER_SO")/pam_wrapper
set_items=$mods/pam_set_items.so
[ -f "$set_items" ] || fail "pam_set_items.so not found in $mods (it comes with pam_wrapper)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pa-pam-wrapper.XXXXXX") || fail "mktemp -d"
# pam_wrapper copies the services to /tmp/pam.? at start and removes the
# copy at exit; a test child killed on a hang cannot, so remove any copy
# left by a process of ours that is gone.
before=$(ls -d /tmp/pam.? 2>/dev/null)
cleanup() {
	for d in /tmp/pam.?; do
		[ -f "$d/pid" ] || continue
		case " $(printf '%s ' $before)" in *" $d "*) continue ;; esac
		pid=$(cat "$d/pid" 2>/dev/null)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
		grep -qs "$tmp/" "$d"/pa_basic && rm -rf "$d"
	done
	chmod -R u+rwX "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap 'rc_=$?; cleanup; exit $rc_' EXIT
trap 'exit 1' INT TERM HUP

mkdir "$tmp/services" || fail "mkdir"
"$TEST_PAM" --services "$tmp/services" "$tmp" "$PAM_MODULE" "$set_items" ||
	fail "could not write the service files"

# An AddressSanitizer build (--enable-sanitizers) needs its runtime first.
preload=$PAM_WRAPPER_SO
asan=$(ldd "$TEST_PAM" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
[ -n "$asan" ] && preload="$asan $preload"

# PA_VALGRIND=1 (tests/pam-valgrind.sh): the same cases under valgrind
# memcheck: any error, or a block definitely lost, fails.
run=""
limit=150
if [ "${PA_VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null 2>&1 || skip "valgrind not installed"
	[ -n "$asan" ] && skip "an AddressSanitizer build cannot run under valgrind"
	run="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
	limit=600
fi
# A hung module must fail the test, not stall make check.  Each test
# starts privauditd on a new log and verifies it: about a second apiece.
# shellcheck disable=SC2086
timeout -k 5 $limit env \
	LD_PRELOAD="$preload" PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR="$tmp/services" \
	LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	PA_PAM_BASE="$tmp" TMPDIR="$tmp" PRIVAUDITD="$PRIVAUDITD" \
	$run "$TEST_PAM"
rc=$?
[ "$rc" -eq 124 ] && fail "test_pam timed out"
[ "$rc" -eq 99 ] && fail "valgrind found memory errors or definite leaks in test_pam (above)"
[ "$rc" -eq 0 ] || exit 1
exit 0
