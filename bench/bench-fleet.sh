#!/bin/bash
# SPDX-License-Identifier: ISC
# bench-fleet.sh: the collector with a fleet on this machine (issue 15,
# item 7), in network namespaces as tests/fleet.sh makes them (root only):
# HOSTS hosts, each with privauditd shipping over RELP+TLS to rsyslog with
# the shipped configuration (contrib/rsyslog/privaudit-collector.conf).
#
# 1. Throughput.  Each host's log holds RECORDS records (made first); the
#    daemons start at once and ship them all; timed until the collector
#    holds every one:
#      ceiling   the same rsyslog configuration with an omfile action in
#                place of omprog (same queue): rsyslog's own ceiling for
#                the same messages, imrelp to a file
#      collect   the shipped configuration: privaudit collect, each record
#                verified and durable in its host's mirror
#    and the ratio collect/ceiling (target: at least 0.5).  Both include
#    the shippers, which run on the same cores.
# 2. Lag.  Every host appends RATE records/s for SECONDS
#    (bench/bench-fleet-writer: durable every 10 ms, sealed every 100 ms,
#    as privauditd's group commit and a busy host's seals); a watcher
#    (bench/fleet-lag.py) notes when each record's frame appears in its
#    mirror, and when a verified checkpoint covers it; printed: the lag
#    from each record's own time, p50, p99 (target p99 < 1 s) and max.
#
#   bench/bench-fleet.sh [BUILD_DIR] [-h HOSTS] [-n RECORDS] [-r RATE] [-s SECONDS]
#
# Defaults: 8 hosts, 20000 records, 5000 records/s, 20 s.  BENCH_DIR
# (default /var/tmp, a real disk) holds everything.  Not part of make check.
set -u

here=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$here/.." && pwd)
BUILD=""
case "${1:-}" in
"" | -*) ;;
*) BUILD=$1; shift ;;
esac
BUILD=$(cd "${BUILD:-.}" && pwd)
NH=8 NR=20000 RATE=5000 SECS=20
while [ $# -gt 0 ]; do
	case "$1" in
	-h) NH=$2; shift 2 ;;
	-n) NR=$2; shift 2 ;;
	-r) RATE=$2; shift 2 ;;
	-s) SECS=$2; shift 2 ;;
	*) echo "usage: bench/bench-fleet.sh [BUILD_DIR] [-h HOSTS] [-n RECORDS] [-r RATE] [-s SECONDS]" >&2; exit 2 ;;
	esac
done
export PRIVAUDIT=$BUILD/cli/privaudit PRIVAUDITD=$BUILD/privauditd/privauditd \
	PA_WRITER=$BUILD/tests/pa-writer PAREF=$SRCDIR/tests/paref.py top_srcdir=$SRCDIR
export TMPDIR=${BENCH_DIR:-/var/tmp}
FWRITER=$BUILD/bench/bench-fleet-writer
make -C "$BUILD" -s tests/pa-writer bench/bench-fleet-writer >/dev/null ||
	{ echo "bench-fleet.sh: cannot build tests/pa-writer and bench/bench-fleet-writer in $BUILD" >&2; exit 1; }
# The test libraries: temporary directory, cleanup, the fleet.
. "$SRCDIR/tests/e2e-lib.sh"
. "$SRCDIR/tests/fleet-lib.sh"
fleet_need
LAGPY=$here/fleet-lag.py

say "== bench-fleet: $NH hosts, $(nproc) CPUs, rsyslog $(rsyslogd -v | sed -n "1s/^rsyslogd *\([^ ]*\).*/\1/p"), Linux $(uname -r)"
fleet_network "$NH"
# shellcheck disable=SC2046
fleet_pki collector.test $(for i in $(seq 1 "$NH"); do say "host$i.test"; done)
fleet_collector
cp "$CW/privaudit-collector.conf" "$CW/collect.conf" || fail "cp"
# The ceiling: the omprog action, whatever its parameters, becomes an
# omfile action with the same queue.
"$PYTHON3" - "$CW/collect.conf" "$CW/omfile.conf" "$CW/sink" <<'EOF' || fail "cannot make the omfile configuration"
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r'action\(type="omprog".*?\)', s, re.S)
queue = " ".join(re.findall(r'queue\.[A-Za-z]+="[^"]*"', m.group(0)))
omfile = ('action(type="omfile" file="%s" template="RSYSLOG_SyslogProtocol23Format" %s)'
          % (sys.argv[3], queue))
open(sys.argv[2], "w").write(s[:m.start()] + omfile + s[m.end():])
EOF
for i in $(seq 1 "$NH"); do fleet_host "$i"; done

# use CONF: the collector's configuration for the next run, on an empty
# collector (no mirrors, no queue, no sink) and with every host's shipping
# state gone, so that each log goes again from its first record.
use() {
	rm -rf "$ROOT" "$CW/work" "$CW/sink" && mkdir -p "$CW/work" || fail "rm"
	cp "$CW/$1.conf" "$CW/privaudit-collector.conf" || fail "cp"
	for i in $(seq 1 "$NH"); do rm -f "$TMP/h$i/log/ship-state"; done
}
# done KIND: whether the collector holds every record: the sink has a
# line for each (wc -l first, as it is cheap, then the records counted), or
# the mirrors' segments are as large as the hosts' (a mirror's segment is
# the host's, byte for byte: tests/fleet.sh), or their status files say so.
done_() {
	local n=0 f i
	if [ "$1" = omfile ]; then
		[ -e "$CW/sink" ] && [ "$(wc -l <"$CW/sink")" -ge "$total" ] &&
			[ "$(grep -c -F '"entry":' "$CW/sink")" -ge "$total" ]
		return
	fi
	for i in $(seq 1 "$NH"); do
		m=$(mirror_of "$i") || return 1
		[ "$(cat "$(segs "$m")" 2>/dev/null | wc -c)" = "$(cat "$(segs "$TMP/h$i/log")" | wc -c)" ] || {
			n=0
			for f in "$ROOT"/*/collect-status; do
				[ -e "$f" ] && n=$((n + $(sed -n 's/^records=//p' "$f")))
			done
			[ "$n" -ge "$total" ]
			return
		}
	done
}
held() {
	local n=0 f
	for f in "$ROOT"/*/collect-status; do
		[ -e "$f" ] && n=$((n + $(sed -n 's/^records=//p' "$f")))
	done
	say "$n"
}
now() { date +%s.%N; }

# ------------------------------------------------------------ 1. throughput
for i in $(seq 1 "$NH"); do
	"$PA_WRITER" "$TMP/h$i/log" "$i" "$NR" 100 10 >/dev/null || fail "pa-writer"
done
total=0
for i in $(seq 1 "$NH"); do total=$((total + $(size "$TMP/h$i/log"))); done
say "== throughput: $NH logs, $total records, $(du -sh "$TMP"/h1/log | cut -f1) per log"
declare -A RATEOF
for kind in omfile collect; do
	use "$kind"
	rsyslog_start
	t0=$(now)
	for i in $(seq 1 "$NH"); do daemon_start "$i"; done
	until done_ "$kind"; do
		awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 900) }' && ffail "$kind: not done in 900 s"
		sleep 0.2
	done
	t1=$(now)
	for i in $(seq 1 "$NH"); do kill -TERM "${DPID[i]}"; done
	for i in $(seq 1 "$NH"); do wait "${DPID[i]}"; done
	rsyslog_stop
	RATEOF[$kind]=$(awk -v n="$total" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
	printf '  %-8s %8d records in %6.2f s: %7s records/s\n' "$kind" "$total" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "${RATEOF[$kind]}"
done
for i in $(seq 1 "$NH"); do
	m=$(mirror_of "$i") || fail "no mirror for host $i"
	run_cmd "$PRIVAUDIT" verify "$m" --key "$TMP/h$i/log.vkey"
	[ "$rc" -eq 0 ] || fail_cmd "the mirror of host $i does not verify"
done
awk -v c="${RATEOF[collect]}" -v f="${RATEOF[omfile]}" \
	'BEGIN { printf "  collect / ceiling: %.2f (target >= 0.5)\n", c / f }'

# ------------------------------------------------------------ 2. lag
say "== lag: $NH hosts appending $RATE records/s each for $SECS s"
# The collector as the collect run left it: every mirror complete, every
# host's shipping state at its end.
rsyslog_start
for i in $(seq 1 "$NH"); do daemon_start "$i"; done
rm -f "$TMP/stop-watch"
"$PYTHON3" "$LAGPY" watch "$ROOT" "$TMP/lag.out" "$TMP/stop-watch" &
watcher=$!
keep_pid "$watcher"
t0=$(now)
for i in $(seq 1 "$NH"); do
	"$FWRITER" "$TMP/h$i/log" "$i" "$RATE" "$SECS" >"$TMP/h$i/fwriter.out" &
	wp[i]=$!
	keep_pid "${wp[i]}"
done
for i in $(seq 1 "$NH"); do wait "${wp[i]}" || fail "the writer of host $i failed"; done
t1=$(now)
want=0
for i in $(seq 1 "$NH"); do want=$((want + $(size "$TMP/h$i/log"))); done
until [ "$(held)" -ge "$want" ]; do
	awk -v a="$t1" -v b="$(now)" 'BEGIN { exit !(b - a > 300) }' && ffail "lag: the collector did not catch up in 300 s"
	sleep 0.2
done
touch "$TMP/stop-watch"
wait "$watcher"
printf '  written: %s records/s per host (asked %s)\n' \
	"$(awk -v n="$((RATE * SECS))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')" "$RATE"
pairs=""
for i in $(seq 1 "$NH"); do
	"$PRIVAUDIT" export "$TMP/h$i/log" --json >"$TMP/h$i/export" || fail "export"
	pairs="$pairs $(basename "$(mirror_of "$i")")=$TMP/h$i/export"
done
# shellcheck disable=SC2086
"$PYTHON3" "$LAGPY" report "$TMP/lag.out" "$t0" $pairs
for i in $(seq 1 "$NH"); do kill -TERM "${DPID[i]}"; done
for i in $(seq 1 "$NH"); do wait "${DPID[i]}"; done
rsyslog_stop
exit 0
