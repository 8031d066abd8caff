# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# fleet-lib.sh: a fleet on one machine, for tests/fleet.sh and
# bench/bench-fleet.sh (sourced after e2e-lib.sh, not run): network
# namespaces (a collector on a bridge, hosts on veth pairs), a CA and
# certificates, the collector's rsyslog with the shipped configuration
# (contrib/rsyslog/privaudit-collector.conf.in, this run's paths in place
# of the system's), and one privauditd per host shipping over RELP+TLS.
# Everything it starts is killed by pid at exit, and the namespaces go.

# fleet_need: skip unless this machine can run a fleet.
fleet_need() {
	local c m
	is_root || skip "needs root (network namespaces)"
	need_privaudit
	need_daemon
	for c in ip rsyslogd openssl ss; do
		command -v "$c" >/dev/null 2>&1 || skip "no $c"
	done
	RSMODDIR=${RSYSLOG_MODDIR:-$(dirname "$(find /usr/lib* -name imrelp.so -path '*rsyslog*' 2>/dev/null | head -n 1)")}
	for m in imrelp omrelp omprog imptcp lmnsd_gtls; do
		[ -e "$RSMODDIR/$m.so" ] || skip "no rsyslog module $m (rsyslog-relp, rsyslog-gnutls)"
	done
	top_srcdir=${top_srcdir:-$pa_here/..}
	CONF_IN=$top_srcdir/contrib/rsyslog/privaudit-collector.conf.in
	[ -r "$CONF_IN" ] || fail "no $CONF_IN"
	"$PRIVAUDIT" collect --help >/dev/null 2>&1 || fail "privaudit has no collect command"
	"$PRIVAUDITD" --help 2>&1 | grep -q -- '--ship-to' || fail "privauditd has no --ship-to"
}

PORT=2514
NET=10.77.0
COLLECTOR_IP=$NET.1
T_START=$(date +%s)
elapsed() { say "[$(($(date +%s) - T_START))s] $*"; }
fpass() { pass "$* [$(($(date +%s) - T_START))s]"; }

# ------------------------------------------------------------ cleanup
# Daemons are killed by the pids kept here, then the namespaces go.
PIDS=$TMP/pids NSLIST=$TMP/netns
: >"$PIDS"
: >"$NSLIST"
fleet_cleanup() {
	local p n
	touch "$TMP/stop" 2>/dev/null
	while read -r p; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done <"$PIDS"
	while read -r n; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done <"$NSLIST"
}
on_exit fleet_cleanup
keep_pid() { say "$1" >>"$PIDS"; }

# The state of the fleet, for the log of a failure.
dump() {
	local f i
	say "--- fleet state at failure:" >&2
	for f in "$CW/rsyslog.log" "$CW/collect.err" "$CW/rsyslogd.err" "$ALERTS" \
		"$TMP"/h*/privauditd.err "$TMP"/h*/writer.err; do
		[ -s "$f" ] || continue
		say "--- $f (last lines):" >&2
		tail -n 15 "$f" >&2
	done
	"$PRIVAUDIT" fleet status "$ROOT" >&2 2>&1
	for i in $(seq 1 "$NH"); do
		"$PRIVAUDIT" ship-status "$TMP/h$i/log" 2>/dev/null | tr '\n' ' ' >&2
		say "" >&2
	done
}
ffail() { dump; fail "$@"; }

# ------------------------------------------------------------ network
# fleet_network N: the collector's namespace CNS with a bridge at
# COLLECTOR_IP, and N hosts, host i in namespace $(hns i) at NET.(10+i),
# its eth0 a veth pair with vhi on the bridge.
CNS=pafc-$$
hns() { say "pafh$1-$$"; }
fleet_network() {
	local i ns
	ip netns add "$CNS" || skip "cannot make a network namespace"
	say "$CNS" >>"$NSLIST"
	ip -n "$CNS" link set lo up || fail "lo up"
	ip -n "$CNS" link add br0 type bridge || fail "bridge"
	ip -n "$CNS" addr add "$COLLECTOR_IP/24" dev br0 || fail "bridge address"
	ip -n "$CNS" link set br0 up || fail "bridge up"
	for i in $(seq 1 "$1"); do
		ns=$(hns "$i")
		ip netns add "$ns" || fail "netns $ns"
		say "$ns" >>"$NSLIST"
		ip -n "$ns" link set lo up || fail "lo up in $ns"
		ip link add eth0 netns "$ns" type veth peer name "vh$i" netns "$CNS" || fail "veth for host $i"
		ip -n "$CNS" link set "vh$i" master br0 up || fail "vh$i into the bridge"
		ip -n "$ns" addr add "$NET.$((10 + i))/24" dev eth0 || fail "address of host $i"
		ip -n "$ns" link set eth0 up || fail "eth0 up on host $i"
	done
}

# ------------------------------------------------------------ certificates
# fleet_pki NAME...: a CA ($PKI/ca.pem) and, for each NAME, NAME.pem and
# NAME.key with NAME as its DNS name, for servers and clients alike.
PKI=$TMP/pki
mkkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>>"$PKI/err"; }
mkcert() {
	mkkey "$PKI/$1.key" &&
		openssl req -new -key "$PKI/$1.key" -subj "/CN=$1" -out "$PKI/$1.csr" 2>>"$PKI/err" &&
		printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' "$1" >"$PKI/$1.ext" &&
		openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
			-days 2 -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>>"$PKI/err" ||
		fail "certificate for $1: $(cat "$PKI/err")"
}
fleet_pki() {
	local n
	mkdir -p "$PKI" || fail "mkdir"
	mkkey "$PKI/ca.key" || fail "CA key: $(cat "$PKI/err")"
	openssl req -x509 -new -key "$PKI/ca.key" -out "$PKI/ca.pem" -days 2 -subj "/CN=privaudit fleet test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>>"$PKI/err" || fail "CA: $(cat "$PKI/err")"
	for n in "$@"; do mkcert "$n"; done
}

# ------------------------------------------------------------ collector
# fleet_collector [COLLECT_ARGS]: the collector's files under CW and its
# rsyslog configuration, the shipped one with this run's paths (collect
# run with COLLECT_ARGS besides), checked with rsyslogd -N1.  The action
# can then be swapped (bench-fleet.sh) before rsyslog_start.
CW=$TMP/collector
ROOT=$CW/fleet
KEYDIR=$CW/conf/hosts
ALERTS=$CW/alerts
fleet_collector() {
	mkdir -p "$CW/work" "$CW/conf/tls" "$KEYDIR" || fail "mkdir"
	cp "$PKI/ca.pem" "$CW/conf/tls/ca.pem" && cp "$PKI/collector.test.pem" "$CW/conf/tls/collector.pem" &&
		cp "$PKI/collector.test.key" "$CW/conf/tls/collector.key" || fail "cp"
	sed -e "s|@bindir@/privaudit collect|$PRIVAUDIT collect${1:+ $1}|" \
		-e "s|/var/lib/privaudit/fleet|$ROOT|g" \
		-e "s|/var/log/privaudit-collect.log|$CW/collect.err|g" \
		-e "s|@daemonconfdir@|$CW/conf|g" \
		-e "s|\"\\*\\.example\\.org\"|\"*.test\"|" \
		"$CONF_IN" >"$CW/privaudit-collector.conf" || fail "sed"
	if grep -v -e '^[[:space:]]*#' -e "\"$TMP/" -e "\"$PRIVAUDIT " "$CW/privaudit-collector.conf" |
		grep -n -E '@[a-z]+@|"/(var|etc|usr)/|example\.org' >&2; then
		fail "the collector configuration still names system paths (above): update fleet-lib.sh"
	fi
	grep -q "permittedPeer=\[\"\\*\\.test\"\]" "$CW/privaudit-collector.conf" ||
		fail "tls.permittedPeer was not set to *.test: update fleet-lib.sh"
	cat >"$CW/rsyslog.conf" <<EOF
global(workDirectory="$CW/work")
include(file="$CW/privaudit-collector.conf")
# Everything else (rsyslog's own messages, and what the configuration
# hands to the default ruleset) goes here.
*.* action(type="omfile" file="$CW/rsyslog.log")
EOF
	run_cmd rsyslogd -N1 -f "$CW/rsyslog.conf"
	[ "$rc" -eq 0 ] || fail_cmd "rsyslogd -N1 refuses the collector configuration"
}

RSPID=""
rsyslog_start() {
	ip netns exec "$CNS" rsyslogd -n -f "$CW/rsyslog.conf" -i "$CW/rsyslogd.pid" \
		2>>"$CW/rsyslogd.err" &
	RSPID=$!
	keep_pid "$RSPID"
	for _ in $(seq 100); do
		ip netns exec "$CNS" ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && return 0
		kill -0 "$RSPID" 2>/dev/null || ffail "rsyslogd exited at start"
		sleep 0.1
	done
	ffail "rsyslogd does not listen on $PORT after 10 s"
}
rsyslog_stop() {
	kill -TERM "$RSPID" || ffail "rsyslogd $RSPID is gone"
	wait "$RSPID"
	RSPID=""
}

# ------------------------------------------------------------ hosts
# fleet_host I: host i's log, $TMP/hi/log (origin hosti.test/privaudit),
# enrolled: its log.pub line in the collector's KEYDIR.
fleet_host() {
	mkdir -p "$TMP/h$1" || fail "mkdir"
	pa_init "$TMP/h$1/log" --origin "host$1.test/privaudit"
	cp "$TMP/h$1/log/log.pub" "$KEYDIR/host$1.pub" || fail "enrol host $1"
}
# daemon_start I [ARGS]: privauditd of host i in its namespace, shipping
# its log, sealing every DHB seconds.
declare -a DPID
DHB=600
daemon_start() {
	local i=$1 h=$TMP/h$1
	shift
	rm -f "$h/sock"
	ip netns exec "$(hns "$i")" "$PRIVAUDITD" --dir "$h/log" --socket "$h/sock" --foreground \
		--heartbeat "$DHB" --ship-to "$COLLECTOR_IP:$PORT" --ship-tls-peer collector.test \
		--ship-tls-ca "$PKI/ca.pem" --ship-tls-cert "$PKI/host$i.test.pem" \
		--ship-tls-key "$PKI/host$i.test.key" "$@" 2>>"$h/privauditd.err" &
	DPID[i]=$!
	keep_pid "${DPID[i]}"
	for _ in $(seq 200); do
		[ -S "$h/sock" ] && return 0
		kill -0 "${DPID[i]}" 2>/dev/null || ffail "privauditd of host $i exited at start"
		sleep 0.05
	done
	ffail "privauditd of host $i made no socket in 10 s"
}
daemon_stop() {
	kill -TERM "${DPID[$1]}" || ffail "privauditd of host $1 is gone"
	wait "${DPID[$1]}" || ffail "privauditd of host $1 exited $? on SIGTERM"
	DPID[$1]=""
}

# ship FIELD I: a field of host i's ship-status (acked, size, lag).
ship() {
	"$PRIVAUDIT" ship-status "$TMP/h$2/log" 2>/dev/null | awk -v k="$1:" '$1 == k { print $2 }'
}
# mirror_of I: host i's mirror directory (fails unless exactly one).
mirror_of() {
	local m
	m=$(ls -d "$ROOT/host$1.test_privaudit-"* 2>/dev/null)
	[ -n "$m" ] && [ "$(say "$m" | wc -l)" -eq 1 ] || return 1
	say "$m"
}
# size DIR: records in the log (or mirror), as the library reads them.
size() { "$PRIVAUDIT" export "$1" --json 2>/dev/null | wc -l | tr -d ' '; }
# segs DIR: the log's segment files, in order.
segs() { ls "$1"/seg-* 2>/dev/null | sort; }
