#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-sessions.sh: listing sessions and replaying one session of a big
# log, cold (no index, page cache dropped when root) and warm (index
# built), against ausearch/aureport on an audit.log holding the same
# events, written by the same generator (tests/pa-sessions --audit-log);
# and searching for a command (sessions --command, from the index) against
# ausearch -x on the same events.
#
#   bench/bench-sessions.sh [BUILD_DIR] [-s SESSIONS] [-c COMMANDS]
#
# Defaults: 9500 sessions of 100 commands = about 1,000,000 records.
# Environment: BENCH_DIR (default /var/tmp), RUNS (warm runs, default 5).
set -eu

BUILD=""
case "${1:-}" in
"" | -*) ;;
*) BUILD=$1; shift ;;
esac
[ -n "$BUILD" ] || BUILD=.
BUILD=$(cd "$BUILD" && pwd)
S=9500
C=100
while [ $# -gt 0 ]; do
	case "$1" in
	-s) S=$2; shift 2 ;;
	-c) C=$2; shift 2 ;;
	*) echo "usage: bench/bench-sessions.sh [BUILD_DIR] [-s SESSIONS] [-c COMMANDS]" >&2; exit 2 ;;
	esac
done
PA=$BUILD/cli/privaudit
GEN=$BUILD/tests/pa-sessions
RUNS=${RUNS:-5}
[ -x "$PA" ] || { echo "bench-sessions: build $BUILD first" >&2; exit 1; }
[ -x "$GEN" ] || make -C "$BUILD" -s tests/pa-sessions >/dev/null
for t in ausearch aureport; do
	command -v $t >/dev/null 2>&1 || { echo "bench-sessions: $t not found (package auditd)" >&2; exit 1; }
done
BENCH_DIR=${BENCH_DIR:-/var/tmp}
work=$(mktemp -d "$BENCH_DIR/privaudit-bench-sessions.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
drop_caches() {
	sync
	if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
	fi
}
cold_note="page cache dropped"
[ "$(id -u)" -eq 0 ] || cold_note="page cache NOT dropped (not root)"
# time_once CMD...: seconds of one run, output discarded
time_once() {
	t0=$(now_ns)
	"$@" >/dev/null 2>&1 || { echo "bench-sessions: failed: $*" >&2; exit 1; }
	t1=$(now_ns)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}
# median_of CMD...: median seconds over RUNS warm runs
median_of() {
	i=0
	: >"$work/times"
	while [ $i -lt "$RUNS" ]; do
		time_once "$@" >>"$work/times"
		i=$((i + 1))
	done
	sort -n "$work/times" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
line() { printf '%-44s %8.3f s\n' "$1" "$2"; }
ratio() { awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN { printf "%-44s %8.1fx\n", n, (a > 0 ? b / a : 0) }'; }

LOG=$work/log
echo "== generating $S sessions x $C commands (log and audit.log)"
"$PA" init "$LOG" >/dev/null
"$GEN" "$LOG" "$S" "$C" --audit-log "$work/audit.log"
"$PA" seal "$LOG" >/dev/null
records=$("$PA" tail -n 1 --json "$LOG" | sed 's/^{"index":\([0-9]*\),.*/\1/')
records=$((records + 1))
echo "log: $records records, $(du -sm "$LOG" | cut -f1) MB; audit.log: $(wc -l <"$work/audit.log") lines, $(du -sm "$work/audit.log" | cut -f1) MB"
mid=$((S / 2 + 1))
id=$("$PA" sessions "$LOG" --json | sed -n "${mid}p" | sed 's/^{"id":"\([0-9a-f]*\)".*/\1/')
rm -f "$LOG/index"

echo "== cold ($cold_note; privaudit: no index, so it is built, verification included)"
drop_caches
t_build=$(time_once "$PA" sessions "$LOG")
line "privaudit sessions (builds the index)" "$t_build"
drop_caches
t_sess_cold=$(time_once "$PA" sessions "$LOG")
line "privaudit sessions (index, cold cache)" "$t_sess_cold"
drop_caches
t_rep_cold=$(time_once "$PA" replay "$LOG" "$id")
line "privaudit replay one session (cold cache)" "$t_rep_cold"
drop_caches
t_aur_cold=$(time_once aureport --input "$work/audit.log" --login)
line "aureport --login (cold cache)" "$t_aur_cold"
drop_caches
t_aus_cold=$(time_once ausearch --input "$work/audit.log" --session "$mid" -i)
line "ausearch --session -i (cold cache)" "$t_aus_cold"

echo "== warm (median of $RUNS)"
t_sess=$(median_of "$PA" sessions "$LOG")
line "privaudit sessions" "$t_sess"
t_json=$(median_of "$PA" sessions "$LOG" --json)
line "privaudit sessions --json" "$t_json"
t_rep=$(median_of "$PA" replay "$LOG" "$id")
line "privaudit replay one session" "$t_rep"
t_aur=$(median_of aureport --input "$work/audit.log" --login)
line "aureport --login" "$t_aur"
t_aus=$(median_of ausearch --input "$work/audit.log" --session "$mid" -i)
line "ausearch --session -i" "$t_aus"
t_ver=$(median_of "$PA" replay "$LOG" "$id" --verified)
line "privaudit replay --verified (verifies all)" "$t_ver"

# The same program in both: every session ran it (the generator's commands
# repeat), so both report all of them.
CMD=/usr/sbin/auditctl
echo "== search by command (EXE = $CMD; median of $RUNS, warm)"
t_cmd=$(median_of "$PA" sessions "$LOG" --command "$CMD")
line "privaudit sessions --command EXE" "$t_cmd"
t_ausx=$(median_of ausearch --input "$work/audit.log" -x "$CMD")
line "ausearch -x EXE" "$t_ausx"
echo "  (privaudit found $("$PA" sessions "$LOG" --command "$CMD" --json | wc -l) of $S sessions;" \
	"ausearch $(ausearch --input "$work/audit.log" -x "$CMD" --format raw 2>/dev/null | grep -c '^type=SYSCALL') events)"

echo "== ratios (how many times faster privaudit is)"
ratio "sessions vs aureport --login, warm" "$t_sess" "$t_aur"
ratio "replay vs ausearch --session, warm" "$t_rep" "$t_aus"
ratio "sessions --command vs ausearch -x, warm" "$t_cmd" "$t_ausx"
ratio "sessions vs aureport --login, cold" "$t_sess_cold" "$t_aur_cold"
ratio "replay vs ausearch --session, cold" "$t_rep_cold" "$t_aus_cold"
