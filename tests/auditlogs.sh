#!/bin/bash
# SPDX-License-Identifier: ISC
# auditlogs.sh: audisp-privaudit on real-world input.  Every file of real
# audit.log text in the shared corpus (../shared/auditlogs beside the source
# tree, or the directory PRIVAUDIT_AUDITLOGS names; SOURCES.md there says
# where each file comes from) is fed to the plugin as auditd would feed it,
# and the signed log it writes is read back with the CLI: every event of the
# file is recorded, each line in exactly one event, nothing dropped, and the
# argv of every EXECVE record is what `ausearch -i` decodes
# (tests/auditlogs-check.py says how each is checked).  The corpus is other
# projects' data and is not shipped: the test skips where it is not found
# (make distcheck, a tarball build), and .ci/run fails if it skipped there.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
src=${top_srcdir:-${srcdir:-$pa_here/..}}
CORPUS=${PRIVAUDIT_AUDITLOGS:-$src/../shared/auditlogs}
[ -d "$CORPUS" ] || skip "no corpus of real audit logs at $CORPUS (set PRIVAUDIT_AUDITLOGS)"
command -v ausearch >/dev/null 2>&1 || skip "no ausearch (package auditd)"
BOOT=00000000-test-boot-0000-000000000000

n=0
set --
for f in "$CORPUS"/*; do
	case $(basename "$f") in SOURCES.md | README* | *.md) continue ;; esac
	[ -f "$f" ] || continue
	n=$((n + 1))
	L=$TMP/log$n
	pa_init "$L"
	run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$BOOT" --no-sync --stats <"$f"
	[ "$rc" -eq 0 ] || fail_cmd "$(basename "$f"): plugin exited $rc"
	for c in failed dropped; do
		v=$(sed -n "s/.* $c \([0-9]*\).*/\1/p" "$TMP/err")
		[ "${v:-x}" = 0 ] || fail_cmd "$(basename "$f"): the plugin's --stats say $c ${v:-(none)}"
	done
	# the log verifies against its pinned key, and every record is checked
	run_cmd "$PRIVAUDIT" export "$L" --json --verified --key "$L.vkey"
	[ "$rc" -eq 0 ] || fail_cmd "$(basename "$f"): export --verified exited $rc"
	mv "$TMP/out" "$TMP/export$n"
	# ausearch prints local time in the locale's format: UTC and C, so the
	# checker can read the stamps back.  Exit 1 is "no matches" (a file
	# with no record ausearch reads); the checker then fails any EXECVE
	# record of the file, so no file is left out unsaid.
	TZ=UTC LC_ALL=C timeout -k 5 "$PA_TIMEOUT" ausearch -i -if "$f" >"$TMP/aus$n" 2>"$TMP/aus$n.err"
	arc=$?
	if [ "$arc" -gt 1 ]; then
		fail "ausearch -i -if $(basename "$f") exited $arc: $(head -c 500 "$TMP/aus$n.err")"
	fi
	set -- "$@" "$f" "$TMP/export$n" "$TMP/aus$n"
	rm -rf "$L"
done
[ "$n" -gt 0 ] || fail "no audit log files in $CORPUS"
"$PYTHON3" "$pa_here/auditlogs-check.py" "$@" >"$TMP/check" 2>&1
crc=$?
cat "$TMP/check"
[ "$crc" -eq 0 ] || fail "$(grep -c '^FAIL' "$TMP/check") problems in the $n files of $CORPUS (above)"
pass "$n real audit logs from $CORPUS: every event recorded, argv as ausearch decodes it"
