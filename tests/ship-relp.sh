#!/bin/bash
# SPDX-License-Identifier: ISC
# ship-relp.sh: privauditd ships its log to a real rsyslog (imrelp, then
# imrelp with TLS and client certificates made here with certtool), which
# writes what it receives with omfile.  Every record 0..N-1 must arrive, each
# message's entry must be the log's stored entry byte for byte, with the
# right index, kind, note and readable fields (export --json's), through a
# kill -9 of privauditd mid-stream, rsyslog down for a while (privauditd
# must back off: the connections it tries meanwhile are counted), a switch
# to TLS by SIGHUP, and a collector whose certificate names another peer
# (refused).  ship-status must end with acked == size and lag 0.  Root is
# not needed: rsyslogd runs as the caller, on a free loopback port, with a
# private configuration and work directory.

. "$(dirname "$0")/e2e-lib.sh"

need_privaudit
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"
RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd || ls /usr/sbin/rsyslogd 2>/dev/null)}
[ -n "$RSYSLOGD" ] && [ -x "$RSYSLOGD" ] || skip "no rsyslogd (Debian: rsyslog)"
command -v certtool >/dev/null 2>&1 || skip "no certtool (Debian: gnutls-bin)"

LOG=$TMP/log
SOCK=$TMP/privauditd.sock
CONF=$TMP/privauditd.conf
pa_init "$LOG"

free_port() {
	"$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# rs_conf NAME PORT [TLS imrelp parameters]: an rsyslogd configuration
# that writes every privaudit message to $TMP/NAME.msgs, one a line: the
# header's APP-NAME, MSGID, PROCID, TIMESTAMP, then the message.
rs_conf() {
	mkdir -p "$TMP/$1.work"
	cat >"$TMP/$1.conf" <<EOF
global(workDirectory="$TMP/$1.work" maxMessageSize="8m")
module(load="imrelp")
input(type="imrelp" address="127.0.0.1" port="$2" maxDataSize="8m" ruleset="pa" ${3:-})
template(name="pa" type="string"
         string="%app-name% %msgid% %procid% %timereported:::date-rfc3339% %msg%\n")
ruleset(name="pa") {
	if \$app-name == "privaudit" then
		action(type="omfile" file="$TMP/$1.msgs" template="pa")
}
EOF
	"$RSYSLOGD" -N1 -f "$TMP/$1.conf" >"$TMP/$1.check" 2>&1 ||
		{ grep -qi 'imrelp' "$TMP/$1.check" && skip "rsyslog cannot load imrelp (Debian: rsyslog-relp, rsyslog-gnutls): $(head -c 300 "$TMP/$1.check")"; fail "rsyslogd -N1: $(cat "$TMP/$1.check")"; }
}

# rs_start NAME PORT: start rsyslogd on it; rs_pid is its pid.
rs_pid=""
rs_start() {
	"$RSYSLOGD" -n -f "$TMP/$1.conf" -i "$TMP/$1.pid" >>"$TMP/$1.out" 2>&1 &
	rs_pid=$!
	on_exit "kill $rs_pid"
	wait_port "$2" || { cat "$TMP/$1.out" >&2; fail "rsyslogd ($1) does not listen on port $2"; }
}
rs_stop() {
	kill "$rs_pid" 2>/dev/null
	wait "$rs_pid" 2>/dev/null
	rs_pid=""
}
wait_port() {
	"$PYTHON3" - "$1" <<'EOF'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# ship_json DIR: ship-status --json into $TMP/ship.json.
ship_json() {
	expect 0 "$PRIVAUDIT" ship-status "$1" --json
	cp "$TMP/out" "$TMP/ship.json"
}
# wait_shipped DIR SECONDS: until acked == size (a size that stays put).
wait_shipped() {
	w_i=0
	while :; do
		ship_json "$1"
		[ "$(json_get "$TMP/ship.json" 'j["acked"] == j["size"] and j["lag"] == 0')" = True ] && return 0
		w_i=$((w_i + 1))
		[ "$w_i" -lt $(($2 * 10)) ] || { cat "$TMP/privauditd.err" >&2; fail "not shipped within $2 s: $(cat "$TMP/ship.json")"; }
		sleep 0.1
	done
}

# check_msgs DIR MSGFILE...: every record of DIR arrived, exactly as stored.
cat >"$TMP/check.py" <<'EOF'
import base64, datetime, json, os, re, subprocess, sys
sys.path.insert(0, os.path.dirname(os.environ["PAREF"]))
import paref

KINDS = ["genesis", "writer_start", "writer_stop", "heartbeat", "gap", "recovery",
         "key_rotation", "checkpoint", "session_open", "session_close", "auth_attempt",
         "command", "tty_input", "config_change", "audit_event", "application"]
log_dir, files = sys.argv[1], sys.argv[2:]
log = paref.Log(log_dir)
if log.errors:
    sys.exit("paref: %s" % log.errors)
frames = {fr.index: fr for fr in log.frames}
size = len(log.frames)
export, export_len = {}, {}
out = subprocess.run([os.environ["PRIVAUDIT"], "export", log_dir, "--json"], check=True,
                     capture_output=True).stdout
for line in out.splitlines():
    j = json.loads(line)
    export[j["index"]] = j
    export_len[j["index"]] = len(line)
g = paref.message_fields(paref.record_body(frames[0].record)[1])
origin, log_id = g[2].decode(), g[4].hex()

bad, seen, syncs, omitted, big = [], {}, 0, 0, 0
def err(m):
    if len(bad) < 20:
        bad.append(m)
for f in files:
    for n, line in enumerate(open(f, encoding="utf-8", errors="strict")):
        where = "%s:%d" % (os.path.basename(f), n + 1)
        app, msgid, procid, ts, msg = line.rstrip("\n").split(" ", 4)
        m = json.loads(msg)
        if app != "privaudit" or m["privaudit"] != 1:
            err("%s: APP-NAME %s, privaudit %r" % (where, app, m.get("privaudit")))
        if m["origin"] != origin or m["log_id"] != log_id:
            err("%s: origin %r log_id %r, not the log's" % (where, m["origin"], m["log_id"]))
        if not procid.isdigit():
            err("%s: PROCID %r" % (where, procid))
        if msgid == "sync":
            syncs += 1
            if list(m) != ["privaudit", "origin", "log_id", "size", "acked"] or m["acked"] > m["size"] or m["size"] > size:
                err("%s: bad sync %s" % (where, msg[:300]))
            continue
        i = m["index"]
        fr = frames.get(i)
        if fr is None:
            err("%s: index %d is not in the log (%d records)" % (where, i, size))
            continue
        entry = base64.b64decode(m["entry"], validate=True)
        if entry != fr.entry:
            err("%s: record %d: the entry differs from the stored bytes" % (where, i))
        if int.from_bytes(entry[:8], "big") != i:
            err("%s: record %d: entry says index %d" % (where, i, int.from_bytes(entry[:8], "big")))
        kno, body, _ = paref.record_body(fr.record)
        kind = KINDS[kno - 16]
        if m["kind"] != kind or msgid != ("checkpoint" if kind == "checkpoint" else "record"):
            err("%s: record %d is a %s, sent as kind %s MSGID %s" % (where, i, kind, m["kind"], msgid))
        want = ["privaudit", "origin", "log_id", "index", "kind", "entry"]
        if kind == "checkpoint":
            want.append("note")
            if m.get("note", "").encode() != paref.message_fields(body)[4]:
                err("%s: checkpoint %d: the note is not the record's" % (where, i))
        if "fields" in m:
            want.append("fields")
            if m["fields"] != export[i]:
                err("%s: record %d: fields are not export --json's" % (where, i))
            if export_len[i] > 16384:
                err("%s: record %d: fields of %d bytes sent" % (where, i, export_len[i]))
        else:
            want.append("fields_omitted")
            omitted += 1
            if m.get("fields_omitted") is not True or export_len[i] <= 16384:
                err("%s: record %d: fields omitted wrongly" % (where, i))
        if list(m) != want:
            err("%s: record %d: members %s, expected %s" % (where, i, list(m), want))
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
        us = int(t.timestamp()) * 1000000 + t.microsecond
        rec_ns = paref.message_fields(fr.record).get(1, 0)
        if us != rec_ns // 1000:
            err("%s: record %d: TIMESTAMP %s, the record's time is %d ns" % (where, i, ts, rec_ns))
        big = max(big, len(line))
        if i in seen and seen[i] != entry:
            err("%s: record %d sent twice with different bytes" % (where, i))
        seen[i] = entry
missing = [i for i in range(size) if i not in seen]
if missing:
    err("%d of %d records never arrived, first %s" % (len(missing), size, missing[:10]))
for b in bad:
    print(b, file=sys.stderr)
print("%d records, all arrived exactly as stored; %d sync messages; %d with fields omitted; "
      "largest message %d bytes" % (size, syncs, omitted, big))
sys.exit(1 if bad else 0)
EOF
check_msgs() {
	PRIVAUDIT=$PRIVAUDIT PAREF=$PAREF "$PYTHON3" "$TMP/check.py" "$@" >"$TMP/check.out" 2>&1 ||
		{ cat "$TMP/check.out" >&2; fail "the shipped messages do not match the log $1"; }
	cat "$TMP/check.out"
}

# append_socket N TAG [FLAGS]: N records through privauditd's socket.
append_socket() {
	"$PYTHON3" - "$SOCK" "$1" "$2" <<'EOF' || fail "requests to privauditd failed"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire
sock, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for k in range(n):
    flags = pawire.SYNC | (pawire.SEAL if k % 50 == 49 else 0)
    fields = [("service", "sudo"), ("user", "root"), ("ruser", b"r\xffuser \x1b[31m"),
              ("pid", k), ("session_key", "%s-%d" % (tag, k))]
    code, text = pawire.call(sock, pawire.request("session_open", fields, flags), timeout=10)
    if code != pawire.OK:
        sys.exit("request %d: %d %s" % (k, code, text))
EOF
}

# Settings that do not go together are refused at start (exit 2).
expect 2 "$PRIVAUDITD" --dir "$LOG" --socket "$SOCK" --foreground --ship-to 127.0.0.1
expect 2 "$PRIVAUDITD" --dir "$LOG" --socket "$SOCK" --foreground --ship-to ::1:2514
expect 2 "$PRIVAUDITD" --dir "$LOG" --socket "$SOCK" --foreground --ship-to 127.0.0.1:2514 \
	--ship-tls-ca /etc/hosts
grep -q 'all three' "$TMP/err" || fail_cmd "no word on the TLS files that go together"
expect 2 "$PRIVAUDITD" --dir "$LOG" --socket "$SOCK" --foreground --ship-tls-ca /a \
	--ship-tls-cert /b --ship-tls-key /c
[ ! -e "$LOG/ship-state" ] || fail "a refused start wrote ship-state"
pass "bad shipping settings are refused at start"

# ------------------------------------------------------------ plain RELP
P1=$(free_port)
rs_conf plain "$P1"
rs_start plain "$P1"
printf 'ship_to = 127.0.0.1:%s\n' "$P1" >"$CONF"
pa_daemon_start "$LOG" "$SOCK" --config "$CONF"
append_socket 200 a
# the auditd plugin's way: appends that do not go through privauditd,
# among them one whose readable fields are over 16 KiB and one of 300 KiB
"$PYTHON3" -c 'print("x" * 20000); print("y" * 300000); print("after big")' |
	"$PRIVAUDIT" append "$LOG" || fail "privaudit append"
expect 0 "$PRIVAUDIT" seal "$LOG"
wait_shipped "$LOG" 20
grep -q 'plain RELP' "$TMP/privauditd.err" || fail "no warning about plain RELP at start"
check_msgs "$LOG" "$TMP/plain.msgs"
grep -q '2 with fields omitted' "$TMP/check.out" || fail "the two large records should go without fields"
json_get "$TMP/ship.json" 'j["target"] == "127.0.0.1:'"$P1"'" and j["tls"] is False and j["connected"] is True and j["last_error"] is None and j["ack_age_s"] is not None' |
	grep -qx True || fail "ship-status: $(cat "$TMP/ship.json")"
pass "plain RELP: $(json_get "$TMP/ship.json" 'j["size"]') records shipped, byte for byte"

# Commit to arrival: a record through the socket reaches rsyslog's file
# well within 100 ms (the main loop wakes the shipper after each commit).
"$PYTHON3" - "$SOCK" "$TMP/plain.msgs" <<'EOF' || fail "shipping is slow (see above)"
import os, sys, time
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire
sock, msgs = sys.argv[1:3]
lat = []
for k in range(20):
    key = ("lag-%d-%f" % (k, time.time())).encode()
    code, _ = pawire.call(sock, pawire.request("session_open", [("service", "su"), ("user", "root"),
                                                                ("session_key", key)]), timeout=10)
    t0 = time.monotonic()
    assert code == pawire.OK
    while True:
        with open(msgs, "rb") as f:
            f.seek(max(0, os.path.getsize(msgs) - 65536))
            if key in f.read():
                break
        if time.monotonic() - t0 > 5:
            sys.exit("record %s not shipped within 5 s" % key)
        time.sleep(0.001)
    lat.append(time.monotonic() - t0)
lat.sort()
print("commit to rsyslog's file: median %.1f ms, max %.1f ms" % (lat[10] * 1000, lat[-1] * 1000))
sys.exit(0 if lat[10] < 0.1 else 1)
EOF

# ------------------------------------------------------------ kill -9 mid-stream
# Records keep coming meanwhile, from a writer beside privauditd (as the
# auditd plugin writes): 40 commits of 100 records, 50 ms apart.
(
	for b in $(seq 1 40); do
		seq -f "stream-$b-%g" 1 100 | "$PRIVAUDIT" append "$LOG" || exit 1
		sleep 0.05
	done
) >"$TMP/append.out" 2>&1 &
apid=$!
on_exit "kill -9 $apid"
start=$(json_get "$TMP/ship.json" 'j["acked"]')
w_i=0
until [ "$(json_get "$TMP/ship.json" 'j["acked"]')" -gt $((start + 500)) ]; do
	ship_json "$LOG"
	w_i=$((w_i + 1))
	[ "$w_i" -lt 200 ] || fail "shipping did not progress: $(cat "$TMP/ship.json")"
	sleep 0.05
done
kill -0 "$apid" 2>/dev/null || fail "the writer was done before the kill: not mid-stream"
kill -9 "$pa_daemon_pid"
wait "$pa_daemon_pid" 2>/dev/null
ship_json "$LOG"
at_kill=$(json_get "$TMP/ship.json" 'j["acked"]')
say "privauditd killed with $at_kill records acknowledged, $(json_get "$TMP/ship.json" 'j["size"]') in the log"
sleep 0.3
pa_daemon_start "$LOG" "$SOCK" --config "$CONF"
wait "$apid" || fail "privaudit append failed: $(cat "$TMP/append.out")"
wait_shipped "$LOG" 30
from=$(sed -n 's/.*shipping .* to 127\.0\.0\.1:'"$P1"' from record \([0-9]*\).*/\1/p' "$TMP/privauditd.err" | tail -n 1)
[ -n "$from" ] && [ "$from" -ge "$at_kill" ] && [ "$from" -gt $((start + 500)) ] ||
	fail "the restarted shipper began at record '${from}', not where it had been acknowledged ($at_kill)"
check_msgs "$LOG" "$TMP/plain.msgs"
pass "kill -9 mid-stream: shipping resumed at record $from (acked $at_kill at the kill), nothing missing"

# ------------------------------------------------------------ collector down
rs_stop
# While rsyslog is away, something that accepts connections and hangs up at
# once stands on its port and notes when privauditd tries again.
"$PYTHON3" - "$P1" "$TMP/tries" 10 <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
s.settimeout(0.2)
open(sys.argv[2] + ".ready", "w").close()
end = time.monotonic() + float(sys.argv[3])
with open(sys.argv[2], "w") as out:
    while time.monotonic() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        out.write("%.3f\n" % time.monotonic())
        out.flush()
        c.close()
EOF
lpid=$!
on_exit "kill $lpid"
w_i=0
until [ -e "$TMP/tries.ready" ]; do
	w_i=$((w_i + 1))
	[ "$w_i" -lt 200 ] || fail "the stand-in listener did not start"
	sleep 0.05
done
"$PRIVAUDIT" append "$LOG" "while the collector is down" >/dev/null || fail "append"
wait "$lpid"
ship_json "$LOG"
json_get "$TMP/ship.json" 'j["connected"] is False and j["last_error"] is not None and j["lag"] > 0' |
	grep -qx True || fail "ship-status while the collector is down: $(cat "$TMP/ship.json")"
"$PYTHON3" - "$TMP/tries" <<'EOF' || fail "privauditd did not back off (see above)"
import sys
t = [float(l) for l in open(sys.argv[1])]
gaps = [b - a for a, b in zip(t, t[1:])]
print("%d connection attempts in 10 s, gaps %s" % (len(t), ["%.2f" % g for g in gaps]))
# 0.5 s doubling up to 30 s, each drawn in [d/2, d]: gaps of 0.5-1, 1-2,
# 2-4, 4-8 s: 4 or 5 tries in 10 s (a retry every 0.5 s would make 20)
ok = 4 <= len(t) <= 6 and gaps[0] <= 1.2 and max(gaps) >= 1.9 and gaps[-1] > gaps[0]
sys.exit(0 if ok else 1)
EOF
rs_start plain "$P1"
wait_shipped "$LOG" 45
check_msgs "$LOG" "$TMP/plain.msgs"
pass "collector down: privauditd backed off, then caught up when it came back"

# ------------------------------------------------------------ TLS, by SIGHUP
mkdir -p "$TMP/pki"
cd "$TMP/pki" || fail "cd"
cat >ca.tmpl <<'EOF'
cn = "privaudit test CA"
ca
cert_signing_key
expiration_days = 2
EOF
cat >collector.tmpl <<'EOF'
cn = "collector.test"
dns_name = "collector.test"
tls_www_server
signing_key
encryption_key
expiration_days = 2
EOF
cat >host.tmpl <<'EOF'
cn = "host1.test"
dns_name = "host1.test"
tls_www_client
signing_key
encryption_key
expiration_days = 2
EOF
{
	certtool --generate-privkey --key-type=ecdsa --outfile ca.key &&
	certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl --outfile ca.pem &&
	for n in collector host; do
		certtool --generate-privkey --key-type=ecdsa --outfile $n.key &&
		certtool --generate-certificate --load-privkey $n.key --load-ca-certificate ca.pem \
			--load-ca-privkey ca.key --template $n.tmpl --outfile $n.pem || exit 1
	done
} >certtool.out 2>&1 || fail "certtool: $(tail -5 certtool.out)"
cd - >/dev/null || fail "cd -"
P2=$(free_port)
rs_conf tls "$P2" "tls=\"on\" tls.caCert=\"$TMP/pki/ca.pem\" tls.myCert=\"$TMP/pki/collector.pem\" tls.myPrivKey=\"$TMP/pki/collector.key\" tls.authMode=\"name\" tls.permittedPeer=[\"host1.test\"]"
plain_pid=$rs_pid
rs_start tls "$P2"
cat >"$CONF" <<EOF
ship_to = 127.0.0.1:$P2
ship_tls_ca = $TMP/pki/ca.pem
ship_tls_cert = $TMP/pki/host.pem
ship_tls_key = $TMP/pki/host.key
ship_tls_peer = collector.test
EOF
kill -HUP "$pa_daemon_pid"
append_socket 50 b
wait_shipped "$LOG" 30
json_get "$TMP/ship.json" 'j["tls"] is True and j["target"] == "127.0.0.1:'"$P2"'"' | grep -qx True ||
	fail "ship-status after SIGHUP: $(cat "$TMP/ship.json")"
# a new target gets the whole log, from the genesis record
check_msgs "$LOG" "$TMP/tls.msgs"
pass "TLS with client certificates, switched to by SIGHUP: the new collector got every record"

# A collector whose certificate does not name the peer asked for is refused.
LOG2=$TMP/log2
pa_init "$LOG2"
"$PRIVAUDITD" --dir "$LOG2" --socket "$TMP/d2.sock" --foreground --ship-to "127.0.0.1:$P2" \
	--ship-tls-ca "$TMP/pki/ca.pem" --ship-tls-cert "$TMP/pki/host.pem" \
	--ship-tls-key "$TMP/pki/host.key" --ship-tls-peer wrong.test 2>"$TMP/d2.err" &
d2=$!
on_exit "kill -9 $d2"
w_i=0
until grep -q 'TLS authentication of the server failed' "$LOG2/ship-state" 2>/dev/null; do
	w_i=$((w_i + 1))
	[ "$w_i" -lt 100 ] || fail "no TLS authentication failure for a wrong peer name: $(cat "$TMP/d2.err" "$LOG2/ship-state")"
	sleep 0.1
done
kill "$d2"
wait "$d2" || fail "the second privauditd exited $? on SIGTERM"
expect 0 "$PRIVAUDIT" ship-status "$LOG2"
grep -q '^connected: *no' "$TMP/out" || fail_cmd "a refused collector shows as connected"
log2_id=$(sed -n 's/^log_id=//p' "$LOG2/ship-state")
[ -n "$log2_id" ] || fail "no log_id in $LOG2/ship-state"
! grep -q "$log2_id" "$TMP/tls.msgs" || fail "records went to a collector whose certificate names another peer"
pass "a collector whose certificate does not name the expected peer gets nothing"

# ------------------------------------------------------------ the end
append_socket 10 c
wait_shipped "$LOG" 20
pa_daemon_stop
# a clean stop ships what it wrote last (writer stop, the final checkpoint)
ship_json "$LOG"
json_get "$TMP/ship.json" 'j["acked"] == j["size"] and j["lag"] == 0 and j["connected"] is False' |
	grep -qx True || fail "after SIGTERM: $(cat "$TMP/ship.json")"
check_msgs "$LOG" "$TMP/tls.msgs"
expect 0 "$PRIVAUDIT" ship-status "$LOG"
grep -q '^lag: *0 records' "$TMP/out" || fail_cmd "ship-status: lag is not 0"
pass "after SIGTERM: acked == size ($(json_get "$TMP/ship.json" 'j["size"]')), lag 0, all of it at the collector"

LOG3=$TMP/log3
pa_init "$LOG3"
expect 9 "$PRIVAUDIT" ship-status "$LOG3"
grep -q 'not shipped' "$TMP/err" || fail_cmd "ship-status without ship-state"
pass "ship-status on a log that is not shipped exits 9"
kill "$plain_pid" 2>/dev/null
exit 0
