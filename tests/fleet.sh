#!/bin/bash
# SPDX-License-Identifier: ISC
# fleet.sh: a fleet on one machine (issue 15).  Network namespaces made
# here: a collector running rsyslogd with contrib/rsyslog's configuration
# (imrelp over TLS, a disk queue, omprog) feeding `privaudit collect`, and
# FLEET_HOSTS hosts (default 8), each with a log of its own and privauditd
# shipping it over RELP+TLS with a certificate of a CA made here.
# FLEET_RECORDS records per host (default 20000) are appended on all hosts
# at once while faults hit the stream: privauditd killed with SIGKILL on
# two hosts and restarted, rsyslog restarted, one host's link down for 10 s,
# 1% packet loss on another.  Once healed every mirror must hold exactly its
# host's records (the same entries, in the same order, none lost, none
# twice) and verify against the host's key.  Then the attacks: a log
# restored from an older copy with its key and resealed (a fork alert
# within one heartbeat, the mirror intact), a log directory deleted (the
# mirror intact, stale after --max-age), and one host sending records under
# another host's origin (rejected: not in that host's mirror, alerts).
# Root only (exit 77 otherwise); traffic stays inside the namespaces, which
# are removed at exit, as are the daemons this test started (by pid).

. "$(dirname "$0")/e2e-lib.sh"
. "$pa_here/fleet-lib.sh"

fleet_need
need_writer
command -v flock >/dev/null 2>&1 || skip "no flock"
# Serialised with the other tests that change the host: this one makes
# namespaces and loads the CPU.
pa_host_lock
T_START=$(date +%s)

NH=${FLEET_HOSTS:-8}
NR=${FLEET_RECORDS:-20000}
HB=${FLEET_HEARTBEAT:-3}          # privauditd's heartbeat in the attack phase, s
MAXAGE=$((3 * HB))                # collect --max-age and fleet status --max-age
CHUNKS=${FLEET_CHUNKS:-20}        # each host's records come as this many runs of pa-writer
[ "$NH" -ge 4 ] || fail "FLEET_HOSTS must be at least 4"
[ "$NR" -ge "$CHUNKS" ] || CHUNKS=1
PER=$((NR / CHUNKS))
NR=$((PER * CHUNKS))

# Roles.  Faults: SIGKILL on hosts 1 and 2, link down on 3, loss on 4.
# Attacks: FORK restored and resealed, DEL deleted, ATT sends under VIC's
# origin.
FORK=$((NH - 3)) DEL=$((NH - 2)) ATT=$((NH - 1)) VIC=$NH

fleet_network "$NH"
# 1% packet loss: netem where the kernel has it, else nftables.
LOSS_HOST=4
if ip netns exec "$(hns $LOSS_HOST)" tc qdisc add dev eth0 root netem loss 1% 2>/dev/null &&
	ip netns exec "$CNS" tc qdisc add dev "vh$LOSS_HOST" root netem loss 1% 2>/dev/null; then
	LOSS=netem
elif command -v nft >/dev/null 2>&1 &&
	ip netns exec "$(hns $LOSS_HOST)" nft -f - <<'EOF'
table inet pafleet {
	chain in { type filter hook input priority 0; numgen random mod 100 < 1 counter drop; }
	chain out { type filter hook output priority 0; numgen random mod 100 < 1 counter drop; }
}
EOF
then
	LOSS=nft
else
	skip "cannot drop packets: neither tc netem (sch_netem) nor nft (nftables)"
fi
# A certificate of the same CA with a name outside tls.permittedPeer too.
# shellcheck disable=SC2046
fleet_pki collector.test $(for i in $(seq 1 "$NH"); do say "host$i.test"; done) intruder.example
# collect also writes its alerts to a file, and raises stale alerts.
fleet_collector "--alerts $ALERTS --max-age $MAXAGE"
rsyslog_start
for i in $(seq 1 "$NH"); do fleet_host "$i"; done
# The copy an insider will restore: the log as it was after its first
# records, with the key of that time.
run_cmd "$PA_WRITER" "$TMP/h$FORK/log" $((FORK * 1000 + 999)) 100 10 2
[ "$rc" -eq 0 ] || fail_cmd "first records of host $FORK"
cp -a "$TMP/h$FORK/log" "$TMP/h$FORK/log.old" || fail "copy of host $FORK's log"
for i in $(seq 1 "$NH"); do daemon_start "$i"; done
elapsed "collector and $NH hosts up ($LOSS loss on host $LOSS_HOST)"

# ------------------------------------------------------------ the stream
# Writer of host i: CHUNKS runs of pa-writer, PER records each ("w<id>-<n>",
# id = i*1000 + run), committed every 50, sealed every 4 commits.
writer() {
	local i=$1 h=$TMP/h$1 c=0
	while [ "$c" -lt "$CHUNKS" ]; do
		[ -e "$TMP/stop" ] && return 1
		"$PA_WRITER" "$h/log" $((i * 1000 + c)) "$PER" 50 4 >>"$h/writer.out" 2>>"$h/writer.err" ||
			{ say "run $c failed" >>"$h/writer.err"; return 1; }
		c=$((c + 1))
		sleep 0.4
	done
	touch "$h/writer.done"
}
declare -a WPID
for i in $(seq 1 "$NH"); do
	writer "$i" &
	WPID[i]=$!
	keep_pid "${WPID[i]}"
done
writing() { [ ! -e "$TMP/h$1/writer.done" ]; }

sleep 3
# Faults, while every host writes.
for i in 1 2; do
	writing "$i" || ffail "host $i finished writing before its fault: raise FLEET_RECORDS"
	elapsed "kill -9 privauditd of host $i (acked $(ship acked "$i") of $(ship size "$i"))"
	kill -9 "${DPID[i]}"
	wait "${DPID[i]}" 2>/dev/null
done
sleep 2
for i in 1 2; do daemon_start "$i"; done
writing 3 || ffail "host 3 finished writing before its fault: raise FLEET_RECORDS"
elapsed "host 3's link down for 10 s"
ip -n "$(hns 3)" link set eth0 down || ffail "link down"
(sleep 10 && ip -n "$(hns 3)" link set eth0 up) &
LINKPID=$!
keep_pid "$LINKPID"
sleep 2
writing "$NH" || ffail "the hosts finished writing before rsyslog's restart: raise FLEET_RECORDS"
elapsed "rsyslog restarted on the collector"
rsyslog_stop
sleep 1
rsyslog_start
for i in $(seq 1 "$NH"); do
	wait "${WPID[i]}" || ffail "the writer of host $i failed: $(tail -n 3 "$TMP/h$i/writer.err")"
done
elapsed "all $NR records per host appended"
wait "$LINKPID" || ffail "link of host 3 not up again"
ip -n "$(hns 3)" link show eth0 | grep -q 'state UP' || ffail "host 3's link is not up"
# The loss really dropped packets; then it heals.
if [ "$LOSS" = nft ]; then
	dropped=$(ip netns exec "$(hns $LOSS_HOST)" nft list table inet pafleet |
		awk '/counter packets/ { for (k = 1; k <= NF; k++) if ($k == "packets") s += $(k + 1) } END { print s + 0 }')
	ip netns exec "$(hns $LOSS_HOST)" nft delete table inet pafleet || ffail "nft delete"
else
	dropped=$(ip netns exec "$(hns $LOSS_HOST)" tc -s qdisc show dev eth0 |
		sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -n 1)
	ip netns exec "$(hns $LOSS_HOST)" tc qdisc del dev eth0 root &&
		ip netns exec "$CNS" tc qdisc del dev "vh$LOSS_HOST" root || ffail "tc qdisc del"
fi
[ "${dropped:-0}" -gt 0 ] || ffail "the 1% loss on host $LOSS_HOST dropped no packet"
elapsed "loss healed ($dropped packets dropped)"

# ------------------------------------------------------------ healed
# Nobody writes now (the daemons' heartbeat is long): every shipper must
# get its whole log acknowledged, and every mirror must then be its host's
# log exactly.
# caught_up LIMIT I...: wait until hosts I... have lag 0 and their mirrors
# hold as many records as their logs (each log must stay as it is).
caught_up() {
	local limit=$1 i t=0 left
	shift
	left=" $* "
	while :; do
		for i in $left; do
			[ "$(ship lag "$i")" = 0 ] || continue
			m=$(mirror_of "$i") && [ "$(size "$m")" = "$(size "$TMP/h$i/log")" ] || continue
			left=${left/ $i / }
		done
		[ -z "${left// /}" ] && return 0
		[ "$t" -lt "$((limit * 2))" ] || ffail "hosts $left did not catch up within $limit s"
		sleep 0.5
		t=$((t + 1))
	done
}
caught_up 600 $(seq 1 "$NH")
elapsed "every shipper caught up, every mirror complete"
# same_entries HOSTLOG MIRROR [prefix]: the same entries in the same order
# (with "prefix": the mirror's are the first of the host's).  Quick when
# the segment files are the same bytes; else entry by entry (paref.py).
same_entries() {
	local n
	if [ "$(segs "$1" | wc -l)" = 1 ] && [ "$(segs "$2" | wc -l)" = 1 ]; then
		if [ "${3:-}" = prefix ]; then
			n=$(stat -c %s "$(segs "$2")")
			cmp -s -n "$n" "$(segs "$1")" "$(segs "$2")" && return 0
		else
			cmp -s "$(segs "$1")" "$(segs "$2")" && return 0
		fi
	fi
	say "note: the segment files of $1 and $2 differ: entry by entry"
	paref entries "$1" >"$TMP/e.host" && paref entries "$2" >"$TMP/e.mirror" ||
		ffail "paref entries of $1 or $2"
	if [ "${3:-}" = prefix ]; then
		head -n "$(wc -l <"$TMP/e.mirror")" "$TMP/e.host" >"$TMP/e.host.prefix"
		mv "$TMP/e.host.prefix" "$TMP/e.host"
	fi
	cmp -s "$TMP/e.host" "$TMP/e.mirror" ||
		ffail "$2 differs from $1: first difference at entry line $(cmp "$TMP/e.host" "$TMP/e.mirror" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')"
}
# mirror_verifies I: verify the mirror with host i's pinned key.
mirror_verifies() {
	local m
	m=$(mirror_of "$1") || ffail "no single mirror for host $1"
	run_cmd "$PRIVAUDIT" verify "$m" --key "$TMP/h$1/log.vkey"
	[ "$rc" -eq 0 ] && grep -q '^result: *OK' "$TMP/out" || { dump; fail_cmd "verify of host $1's mirror"; }
}
for i in $(seq 1 "$NH"); do
	m=$(mirror_of "$i") || ffail "no single mirror for host $i"
	same_entries "$TMP/h$i/log" "$m"
	mirror_verifies "$i"
	# And what the writers wrote is there once each, in order.
	"$PRIVAUDIT" export "$m" --json | "$PYTHON3" -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r["kind"] == "application":
        print(r["fields"]["text"])' >"$TMP/texts" || ffail "export of $m"
	specs=""
	for c in $(seq 0 $((CHUNKS - 1))); do specs="$specs $((i * 1000 + c)):=$PER"; done
	[ "$i" = "$FORK" ] && specs="$specs $((FORK * 1000 + 999)):=100"
	# shellcheck disable=SC2086
	check_writers "$TMP/texts" $specs
	size "$m" >"$TMP/h$i/mirror.size"
done
fpass "after the faults, $NH mirrors hold exactly their hosts' $NR+ records each, and verify"

# ------------------------------------------------------------ attacks
# shellcheck disable=SC2034 # daemon_start (fleet-lib.sh) reads it
DHB=$HB
for i in $(seq 1 "$NH"); do kill -TERM "${DPID[i]}"; done
for i in $(seq 1 "$NH"); do
	wait "${DPID[i]}" || ffail "privauditd of host $i exited $? on SIGTERM"
	daemon_start "$i"
done
elapsed "daemons started again, heartbeat $HB s"
# fleet_json: fleet status --json --max-age MAXAGE into $TMP/fleet.json.
fleet_json() {
	"$PRIVAUDIT" fleet status "$ROOT" --max-age "$MAXAGE" --json >"$TMP/fleet.json" 2>"$TMP/fleet.err"
	fleet_rc=$?
	[ -s "$TMP/fleet.json" ] || ffail "fleet status printed nothing (exit $fleet_rc): $(cat "$TMP/fleet.err")"
}
# verdict I: host i's verdict in $TMP/fleet.json.
verdict() {
	"$PYTHON3" - "$TMP/fleet.json" "host$1.test/privaudit" <<'EOF'
import json, sys
v = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [x for x in v if x.get("host") == sys.argv[2]]
print(v[0]["verdict"] if len(v) == 1 else "(%d lines)" % len(v))
EOF
}
# alert TYPE ORIGIN: an alert of that type for that origin in ALERTS.
alerted() { grep -q "ALERT type=$1 origin=$2 " "$ALERTS" 2>/dev/null; }

# 1. Host FORK restored from the older copy, key included, and resealed.
h=$TMP/h$FORK
daemon_stop "$FORK"
mv "$h/log" "$h/log.real" && cp -a "$h/log.old" "$h/log" || ffail "restore"
run_cmd "$PRIVAUDIT" seal "$h/log"
[ "$rc" -eq 0 ] || fail_cmd "reseal of the restored log"
alerted fork "host$FORK.test/privaudit" && ffail "a fork alert before the attack"
t0=$(date +%s.%N)
daemon_start "$FORK"
for t in $(seq $((HB * 20 + 40))); do
	alerted fork "host$FORK.test/privaudit" && break
	[ "$t" -lt $((HB * 20 + 40)) ] || ffail "no fork alert for host $FORK $((HB + 2)) s after the restored log shipped"
	sleep 0.05
done
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
awk -v t="$took" -v hb="$HB" 'BEGIN { exit !(t <= hb) }' ||
	ffail "fork alert after $took s, more than one heartbeat ($HB s)"
m=$(mirror_of "$FORK")
[ -n "$(ls -A "$m/forks" 2>/dev/null)" ] || ffail "no evidence in $m/forks"
for t in $(seq 30); do
	grep -q '^alert=[0-9]* fork ' "$m/collect-status" 2>/dev/null && break
	[ "$t" -lt 30 ] || ffail "no fork alert in $m/collect-status"
	sleep 0.1
done
# The mirror still holds the real log's records, and verifies.
same_entries "$h/log.real" "$m" prefix
[ "$(size "$m")" -ge "$(cat "$h/mirror.size")" ] || ffail "host $FORK's mirror lost records"
mirror_verifies "$FORK"
fpass "a log restored with its key and resealed: fork alert after $took s (heartbeat $HB s), mirror intact"

# 2. Host DEL's log directory deleted (its daemon stopped first, as the
# insider would; the daemon ships its last records on the way).
h=$TMP/h$DEL
daemon_stop "$DEL"
DHB=600 daemon_start "$DEL"
caught_up 120 "$DEL"
m=$(mirror_of "$DEL")
cp -a "$h/log" "$h/log.final" || ffail "cp"
t_del=$(date +%s)
rm -rf "$h/log" || ffail "rm"
kill -9 "${DPID[DEL]}"
wait "${DPID[DEL]}" 2>/dev/null
DPID[DEL]=""
fleet_json
case "$(verdict "$DEL")" in
*stale*) ffail "host $DEL stale at once (--max-age $MAXAGE): $(cat "$TMP/fleet.json")" ;;
esac
sleep $((t_del + MAXAGE + 2 - $(date +%s)))
fleet_json
case "$(verdict "$DEL")" in
*stale*) ;;
*) ffail "host $DEL not stale $((MAXAGE + 2)) s after its log went (--max-age $MAXAGE): $(verdict "$DEL")" ;;
esac
[ "$fleet_rc" -ne 0 ] || ffail "fleet status exits 0 with a stale host"
case "$(verdict "$ATT")" in
*stale*) ffail "host $ATT, whose daemon runs, is stale too: $(cat "$TMP/fleet.json")" ;;
esac
alerted stale "host$DEL.test/privaudit" || ffail "collect --max-age $MAXAGE raised no stale alert for host $DEL"
same_entries "$h/log.final" "$m"
mirror_verifies "$DEL"
fpass "a deleted log: mirror intact and verified, stale after --max-age $MAXAGE"

# 3a. Host ATT makes a log of its own under host VIC's origin and ships
# it with its own certificate: quarantined, never VIC's mirror.
ha=$TMP/h$ATT
pa_init "$ha/evil" --origin "host$VIC.test/privaudit"
run_cmd "$PA_WRITER" "$ha/evil" 7777 50 10 1
[ "$rc" -eq 0 ] || fail_cmd "records of the evil log"
ip netns exec "$(hns "$ATT")" "$PRIVAUDITD" --dir "$ha/evil" --socket "$ha/evil.sock" --foreground \
	--heartbeat "$HB" --ship-to "$COLLECTOR_IP:$PORT" --ship-tls-peer collector.test \
	--ship-tls-ca "$PKI/ca.pem" --ship-tls-cert "$PKI/host$ATT.test.pem" \
	--ship-tls-key "$PKI/host$ATT.test.key" 2>>"$ha/evil.err" &
evilpid=$!
keep_pid "$evilpid"
for t in $(seq 100); do
	alerted foreign "host$VIC.test/privaudit" && break
	[ "$t" -lt 100 ] || ffail "no foreign alert for a second log under host $VIC's origin"
	sleep 0.1
done
kill -TERM "$evilpid"
wait "$evilpid"
[ "$(ls -d "$ROOT/host$VIC.test_privaudit-"* | wc -l)" = 1 ] ||
	ffail "a second mirror under host $VIC's origin: $(ls "$ROOT")"
[ -n "$(ls -A "$ROOT/quarantine" 2>/dev/null)" ] || ffail "nothing in $ROOT/quarantine"
fpass "a second log under another host's origin: quarantined, foreign alert"

# 3b. Host ATT sends records of its own log as host VIC's (VIC's origin
# and log id), through an rsyslog of its own that relays over RELP with
# ATT's certificate: overlapping what VIC's mirror holds, and beyond it.
# The first that differs from what VIC's mirror holds is fork evidence: it
# is kept aside, an alert names VIC, and the mirror takes nothing more from
# that log (which version goes on is for a person to decide: records are
# not authenticated one by one, only by the checkpoints that follow):
# nothing forged enters VIC's mirror, which stays VIC's log as it was.
hv=$TMP/h$VIC
mv_=$(mirror_of "$VIC")
vic_id=$("$PRIVAUDIT" ship-status "$hv/log" --json | "$PYTHON3" -c 'import json,sys; print(json.load(sys.stdin)["log_id"])')
[ ${#vic_id} = 64 ] || ffail "no log id for host $VIC"
# Host VIC's log stays as it is meanwhile (a long heartbeat), so that
# whatever else its mirror took could only be forged.
daemon_stop "$VIC"
DHB=600 daemon_start "$VIC"
caught_up 60 "$VIC"
sv=$(size "$mv_")
sa=$(size "$ha/log")
if [ "$sa" -lt $((sv + 8)) ]; then
	run_cmd "$PA_WRITER" "$ha/log" 8888 $((sv + 8 - sa)) 50
	[ "$rc" -eq 0 ] || fail_cmd "more records on host $ATT"
fi
paref ship "$ha/log" --origin "host$VIC.test/privaudit" --log-id "$vic_id" \
	--from $((sv - 3)) --to $((sv + 4)) >"$ha/forged" || ffail "paref ship"
[ "$(wc -l <"$ha/forged")" = 7 ] || ffail "expected 7 forged messages: $(wc -l <"$ha/forged")"
# And one message of another program, which the collector's ruleset must
# leave to the default ruleset.
printf '<13>1 2026-01-01T00:00:00Z host%s.test other-app - - - fleet-test: not for privaudit %s\n' "$ATT" "$$" >>"$ha/forged"
cat >"$ha/relay.conf" <<EOF
global(workDirectory="$ha")
module(load="imptcp")
module(load="omrelp")
input(type="imptcp" port="5514" address="127.0.0.1" ruleset="fwd")
ruleset(name="fwd") {
	action(type="omrelp" target="$COLLECTOR_IP" port="$PORT" template="RSYSLOG_SyslogProtocol23Format"
	       tls="on" tls.caCert="$PKI/ca.pem" tls.myCert="$PKI/host$ATT.test.pem"
	       tls.myPrivKey="$PKI/host$ATT.test.key" tls.authMode="name"
	       tls.permittedPeer=["collector.test"])
}
EOF
ip netns exec "$(hns "$ATT")" rsyslogd -n -f "$ha/relay.conf" -i "$ha/relay.pid" 2>>"$ha/relay.err" &
relaypid=$!
keep_pid "$relaypid"
for _ in $(seq 100); do
	ip netns exec "$(hns "$ATT")" ss -Hltn "sport = :5514" 2>/dev/null | grep -q . && break
	sleep 0.1
done
ip netns exec "$(hns "$ATT")" bash -c "cat '$ha/forged' >/dev/tcp/127.0.0.1/5514" || ffail "cannot feed the relay"
for t in $(seq 100); do
	grep -q "fleet-test: not for privaudit $$" "$CW/rsyslog.log" 2>/dev/null && break
	[ "$t" -lt 100 ] || ffail "the relay's messages did not arrive in 10 s: $(tail -n 5 "$ha/relay.err")"
	sleep 0.1
done
sleep 2
kill -TERM "$relaypid"
wait "$relaypid"
grep -q "not for privaudit" "$CW/collect.err" 2>/dev/null && ffail "collect saw another program's message"
grep -q "ALERT type=fork origin=host$VIC.test/privaudit " "$ALERTS" || ffail "no fork alert for host $VIC"
ls "$mv_/forks" | grep -q . || ffail "no fork evidence kept for host $VIC"
[ "$(size "$mv_")" = "$sv" ] || ffail "forged records entered host $VIC's mirror ($(size "$mv_") records, $sv before)"
same_entries "$hv/log" "$mv_" prefix
mirror_verifies "$VIC"
expect 4 "$PRIVAUDIT" fleet status "$ROOT"
grep -q "^host$VIC.test/privaudit .*fork" "$TMP/out" || fail_cmd "fleet status does not flag host $VIC"
fpass "records under another host's origin and log id: kept aside as fork evidence, alerted; its mirror stays its log"

# ------------------------------------------------------------ a certificate outside permittedPeer
# A host whose certificate the CA signed but whose name is not permitted
# gets no session at all (its records would be quarantined anyway).
hi=$TMP/hintruder
mkdir -p "$hi" || fail "mkdir"
pa_init "$hi/log" --origin intruder.example/privaudit
ip netns exec "$(hns "$ATT")" "$PRIVAUDITD" --dir "$hi/log" --socket "$hi/sock" --foreground \
	--ship-to "$COLLECTOR_IP:$PORT" --ship-tls-peer collector.test \
	--ship-tls-ca "$PKI/ca.pem" --ship-tls-cert "$PKI/intruder.example.pem" \
	--ship-tls-key "$PKI/intruder.example.key" 2>>"$hi/privauditd.err" &
ipid=$!
keep_pid "$ipid"
sleep 3
ship=$("$PRIVAUDIT" ship-status "$hi/log" --json 2>/dev/null)
kill -TERM "$ipid"
wait "$ipid"
[ "$(say "$ship" | "$PYTHON3" -c 'import json, sys; j = json.load(sys.stdin); print(j["acked"], j["last_error"] is not None)')" = "0 True" ] ||
	ffail "a certificate outside tls.permittedPeer: expected no acknowledgment and an error: $ship"
alerted '[a-z-]*' intruder.example/privaudit && ffail "the intruder's records reached collect"
fpass "a certificate of the CA outside tls.permittedPeer is refused"

# ------------------------------------------------------------ the end
for i in $(seq 1 "$NH"); do
	[ -n "${DPID[i]}" ] && kill -TERM "${DPID[i]}"
done
for i in $(seq 1 "$NH"); do
	[ -n "${DPID[i]}" ] && { wait "${DPID[i]}" || ffail "privauditd of host $i exited $? on SIGTERM"; }
done
rsyslog_stop
# Under --enable-sanitizers, collect (run by rsyslog) and the daemons
# report to these files, not to the test.
if grep -l -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' \
	"$CW/collect.err" "$TMP"/h*/*.err 2>/dev/null; then
	fail "sanitizer reports in the files above"
fi
elapsed "done"
exit 0
