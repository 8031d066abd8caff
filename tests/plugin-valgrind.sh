#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-valgrind.sh: audisp-privaudit under valgrind memcheck on a recorded
# stream (every record type, malformed lines, huge argv, missing EOE): no
# memory error, nothing definitely lost, and the log verifies.  Skipped when
# valgrind is missing or the build uses sanitizers (they do not mix).
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
command -v valgrind >/dev/null 2>&1 || skip "valgrind not installed"
real=$PA_PLUGIN
[ -x "$(dirname "$PA_PLUGIN")/.libs/$(basename "$PA_PLUGIN")" ] &&
	real=$(dirname "$PA_PLUGIN")/.libs/$(basename "$PA_PLUGIN")
ldd "$real" 2>/dev/null | grep -q 'libasan\.so' && skip "sanitizer build: valgrind cannot run it"
libs=${top_builddir:-.}/.libs

L=$TMP/log
pa_init "$L"
"$PYTHON3" "$pa_here/gen-audit-stream.py" --seed 7 --events 120 >"$TMP/stream" ||
	fail "generator failed"
LD_LIBRARY_PATH=$libs valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --track-fds=no \
	"$real" --dir "$L" --boot-id 00000000-test-boot-0000-000000000000 \
	<"$TMP/stream" >"$TMP/out" 2>"$TMP/vg"
rc=$?
[ "$rc" -eq 0 ] || { cat "$TMP/vg" >&2; fail "plugin under valgrind exited $rc"; }
verify_ok "$L"
pass "plugin under valgrind: no memory errors, nothing definitely lost, log verifies"
