#!/bin/bash
# SPDX-License-Identifier: ISC
# collect.sh: `privaudit collect` fed shipped messages as rsyslog's omprog
# feeds it (RSYSLOG_SyslogProtocol23Format lines on stdin, confirmations on
# stdout), built by paref.py from real logs.  The mirror must hold exactly
# the host's records and verify with the host's key, whatever the order and
# however often they come; a rollback, an impostor, an unknown host, a hole
# and silence must each raise their alert; a witness key cosigns what was
# verified.  No root, no rsyslog (tests/fleet.sh runs the real thing).

. "$(dirname "$0")/e2e-lib.sh"

need_privaudit

ROOT=$TMP/fleet
KEYS=$TMP/keys
ALERTS=$TMP/alerts
mkdir -p "$KEYS"

# collect [ARGS]: run the collector on $TMP/in, replies in $TMP/replies.
collect() {
	timeout -k 5 "$PA_TIMEOUT" "$PRIVAUDIT" collect --root "$ROOT" --hosts "$KEYS" \
		--alerts "$ALERTS" "$@" <"$TMP/in" >"$TMP/replies" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 0 ] || { cat "$TMP/err" >&2; fail "collect exited $rc"; }
}
mirror_of() { ls -d "$ROOT"/"$(printf %s "$1" | tr -c 'A-Za-z0-9._\n-' _)"-* 2>/dev/null | head -1; }
# same_records HOSTLOG MIRROR [N]: the first N (default all) records alike.
same_records() {
	paref entries "$1" >"$TMP/a" || fail "paref entries $1"
	paref entries "$2" >"$TMP/b" || fail "paref entries $2"
	if [ -n "${3:-}" ]; then head -n "$3" "$TMP/a" >"$TMP/a2" && mv "$TMP/a2" "$TMP/a"; fi
	cmp -s "$TMP/a" "$TMP/b" || fail "mirror $2 differs from $1 ($(wc -l <"$TMP/a") vs $(wc -l <"$TMP/b") records)"
}
alerts_of() {
	if [ -f "$ALERTS" ]; then grep -c "ALERT type=$1 " "$ALERTS" || true; else echo 0; fi
}

# Two hosts with logs of their own; host 1 enrolled.
H1=$TMP/h1
H2=$TMP/h2
pa_init "$H1" --origin host1.test/privaudit
pa_init "$H2" --origin host2.test/privaudit
for i in $(seq 1 40); do echo "h1 record $i"; done | pa append "$H1"
pa seal "$H1"
for i in $(seq 1 20); do echo "h1 more $i"; done | pa append "$H1"
pa seal "$H1"
pa append "$H2" "h2 record"
pa seal "$H2"
cp "$H1.vkey" "$KEYS/host1.pub"
N1=$(paref frames "$H1" | wc -l)

# 1. Everything, twice, with lines for other programs in between: one reply
# per line, the ready line first; a mirror that is the host's log.
{
	paref ship "$H1"
	echo '<13>1 2026-01-01T00:00:00Z host1 sshd 42 - - Accepted publickey for root'
	paref ship "$H1" --sync "$N1"
} >"$TMP/in"
collect
lines=$(wc -l <"$TMP/in")
[ "$(grep -c '^OK$' "$TMP/replies")" -eq $((lines + 1)) ] ||
	fail "expected $((lines + 1)) OK replies, got: $(sort "$TMP/replies" | uniq -c)"
M1=$(mirror_of host1.test/privaudit)
[ -n "$M1" ] || fail "no mirror for host1 under $ROOT"
same_records "$H1" "$M1"
verify_ok "$M1" --key "$H1.vkey"
cmp -s "$H1/checkpoint" "$M1/checkpoint" || fail "the mirror's checkpoint is not the host's newest"
[ "$(alerts_of '[a-z-]*')" -eq 0 ] || fail "alerts on a clean stream: $(cat "$ALERTS")"
expect 0 "$PRIVAUDIT" fleet status "$ROOT"
grep -q '^host1.test/privaudit .* ok$' "$TMP/out" || fail_cmd "fleet status: host1 not ok"
pass "a whole log, twice: one exact, verified mirror"
cp -a "$H1" "$TMP/h1-old"   # a backup, for the rollback below
N_OLD=$N1

# 2. Out of order and in transactions (useTransactions="on"): messages
# answered DEFER_COMMIT, marks OK; records that come early wait, durably,
# across a restart of the collector, for the ones before them.
for i in $(seq 1 30); do echo "h1 late $i"; done | pa append "$H1"
pa seal "$H1"
N1=$(paref frames "$H1" | wc -l)
paref ship "$H1" --from $((N_OLD + 8)) >"$TMP/late"
{
	echo "BEGIN TRANSACTION"
	cat "$TMP/late"
	echo "COMMIT TRANSACTION"
} >"$TMP/in"
collect
[ "$(grep -c '^DEFER_COMMIT$' "$TMP/replies")" -eq "$(wc -l <"$TMP/late")" ] ||
	fail "expected DEFER_COMMIT for each message: $(sort "$TMP/replies" | uniq -c)"
[ "$(grep -c '^OK$' "$TMP/replies")" -eq 3 ] || fail "expected OK for ready and both marks"
[ "$(paref frames "$M1" | wc -l)" -eq "$N_OLD" ] || fail "records after a hole were written"
paref ship "$H1" --from "$N_OLD" --to $((N_OLD + 8)) | tac >"$TMP/in"
collect
same_records "$H1" "$M1"
verify_ok "$M1" --key "$H1.vkey"
[ ! -s "$M1/pending" ] || fail "the spool of early records was not emptied"
pass "early records wait across a restart, transactions confirmed at commit"

# 3. A hole that stays: fleet status says which host misses records.
for i in $(seq 1 5); do echo "h1 gap $i"; done | pa append "$H1"
pa seal "$H1"
N1=$(paref frames "$H1" | wc -l)
paref ship "$H1" --from "$((N1 - 3))" --sync "$N1" >"$TMP/in"
collect
expect 4 "$PRIVAUDIT" fleet status "$ROOT"
grep -q 'missing' "$TMP/out" || fail_cmd "fleet status does not say records are missing"
grep -Eq "host1.test/privaudit +[0-9a-f]{16} +$((N1 - 7)) +7 " "$TMP/out" ||
	fail_cmd "fleet status: lag of 7 records not shown"
paref ship "$H1" --from "$((N1 - 7))" --to "$((N1 - 3))" >"$TMP/in"
collect
expect 0 "$PRIVAUDIT" fleet status "$ROOT"
same_records "$H1" "$M1"
pass "a hole is reported until it is filled"

# 4. Rollback: the host's log restored from an older copy with its log.key,
# then resealed.  The records that differ are fork evidence, kept aside; the
# mirror keeps what it had, and still verifies.
mv "$H1" "$TMP/h1-new"
cp -a "$TMP/h1-old" "$H1"
for i in 1 2 3; do echo "forged $i"; done | pa append "$H1"
pa seal "$H1"
paref ship "$H1" --from $((N_OLD - 7)) >"$TMP/in"
collect
[ "$(alerts_of fork)" -ge 1 ] || fail "no fork alert after a rollback: $(cat "$ALERTS" 2>/dev/null)"
ls "$M1/forks" | grep -q . || fail "no fork evidence kept in $M1/forks"
same_records "$TMP/h1-new" "$M1"
verify_ok "$M1" --key "$H1.vkey"
expect 4 "$PRIVAUDIT" fleet status "$ROOT"
grep -q 'fork' "$TMP/out" || fail_cmd "fleet status does not show the fork"
pass "a rolled-back host raises a fork alert; the mirror keeps the original"

# 5. Host 2 is not enrolled: quarantined, alerted, not mirrored.  Host 2's
# records under host 1's origin: rejected as foreign.  Records that claim
# host 1's log id under another origin: rejected too.
: >"$ALERTS"
{
	paref ship "$H2"
	paref ship "$H2" --origin host1.test/privaudit
} >"$TMP/in"
collect
[ "$(alerts_of unknown-host)" -eq 1 ] || fail "expected one unknown-host alert: $(cat "$ALERTS")"
[ "$(alerts_of foreign)" -eq 1 ] || fail "expected one foreign alert: $(cat "$ALERTS")"
[ -z "$(mirror_of host2.test/privaudit)" ] || fail "an unknown host got a mirror"
ls "$ROOT/quarantine" | grep -q host2 || fail "nothing quarantined for host2"
same_records "$TMP/h1-new" "$M1"
M1LOGID=$(sed -n 's/^log_id=//p' "$M1/collect-status")
paref ship "$H2" --origin evil.test/privaudit --log-id "$M1LOGID" >"$TMP/in"
collect
same_records "$TMP/h1-new" "$M1"
pass "unknown hosts quarantined; records under another host's name rejected"

# 6. Enrolment: copying log.pub into KEYDIR is enough, no restart; or on
# first use, with the flag, from the genesis record.
cp "$H2.vkey" "$KEYS/anything"
paref ship "$H2" >"$TMP/in"
collect
M2=$(mirror_of host2.test/privaudit)
[ -n "$M2" ] || fail "host2 not mirrored after enrolment"
same_records "$H2" "$M2"
H3=$TMP/h3
pa_init "$H3" --origin host3.test/privaudit
pa append "$H3" "h3 record"
pa seal "$H3"
paref ship "$H3" >"$TMP/in"
collect --enroll-on-first-use
M3=$(mirror_of host3.test/privaudit)
[ -n "$M3" ] || fail "host3 not enrolled on first use"
grep -qxF "$(cat "$H3.vkey")" "$KEYS"/host3* || fail "host3's key not written to KEYDIR"
verify_ok "$M3" --key "$H3.vkey"
pass "enrolment by KEYDIR, and on first use when asked"

# 7. A witness: the collector cosigns each checkpoint it verified;
# `verify --witness` holds on the mirror, and fails with another witness.
expect 0 "$PRIVAUDIT" keygen-witness collector.test/witness --out "$TMP/witness.key"
expect 0 "$PRIVAUDIT" keygen-witness other.test/witness --out "$TMP/other.key"
pa append "$H2" "h2 again"
pa seal "$H2"
paref ship "$H2" >"$TMP/in"
collect --witness-key "$TMP/witness.key"
grep -q '^— collector.test/witness ' "$M2/checkpoint" || fail "the mirror's checkpoint carries no cosignature"
verify_ok "$M2" --key "$H2.vkey" --witness "$TMP/witness.key.pub"
run_cmd "$PRIVAUDIT" verify "$M2" --key "$H2.vkey" --witness "$TMP/other.key.pub"
[ "$rc" -eq 10 ] || fail_cmd "verify with another witness's key: expected exit 10"
pass "checkpoints the collector verified carry its cosignature"

# 8. Silence: a host whose newest checkpoint is older than --max-age is
# stale, in fleet status and as an alert from collect.
sleep 2
expect 8 "$PRIVAUDIT" fleet status "$ROOT" --max-age 1
[ "$(grep -c ' stale$' "$TMP/out")" -ge 2 ] || fail_cmd "fleet status --max-age: hosts not stale"
: >"$TMP/in"
(sleep 2) | timeout 20 "$PRIVAUDIT" collect --root "$ROOT" --hosts "$KEYS" --alerts "$ALERTS" \
	--max-age 1 >/dev/null 2>&1
[ "$(alerts_of stale)" -ge 2 ] || fail "no stale alerts from collect: $(cat "$ALERTS")"
grep -q '^alert=.* stale ' "$M2/collect-status" || fail "stale alert not in the status file"
expect 0 "$PRIVAUDIT" fleet status "$ROOT" --max-age 3600 --json
grep -q '"host":"host2.test/privaudit"' "$TMP/out" || fail_cmd "fleet status --json"
pass "stale hosts reported"

# 9. Bad input: a privaudit message that does not parse is confirmed (it
# cannot be stored) and alerted; a line in no syslog format is confirmed.
printf '%s\n' '<86>1 2026-01-01T00:00:00Z h privaudit 1 record - {"privaudit":1,"origin":"x"' \
	'garbage' '<86>1 2026-01-01T00:00:00Z h privaudit 1 record - {"privaudit":2}' >"$TMP/in"
collect
[ "$(grep -c '^OK$' "$TMP/replies")" -eq 4 ] || fail "bad lines not confirmed"
[ "$(alerts_of format)" -ge 2 ] || fail "no format alerts for malformed messages"
pass "malformed input confirmed and alerted"

# 10. The fleet's sessions: every mirror's, with a HOST column, verified
# against each host's enrolled key.
if [ -x "${PA_SESSIONS:-}" ]; then
	for h in 4 5; do
		pa_init "$TMP/s$h" --origin "sess$h.test/privaudit"
		"$PA_SESSIONS" "$TMP/s$h" 3 2 >/dev/null || fail "pa-sessions"
		pa seal "$TMP/s$h"
		cp "$TMP/s$h.vkey" "$KEYS/sess$h"
		paref ship "$TMP/s$h"
	done >"$TMP/in"
	collect
	expect 0 "$PRIVAUDIT" sessions "$ROOT" --fleet --verified
	# HOST (the mirror's name) is the fifth column, as on one log
	[ "$(grep -c '^[0-9a-f]\{12\}  .*  sess4.test/privaudit  ' "$TMP/out")" -ge 3 ] ||
		fail_cmd "sessions --fleet: host 4's sessions missing"
	[ "$(grep -c '^[0-9a-f]\{12\}  .*  sess5.test/privaudit  ' "$TMP/out")" -ge 3 ] ||
		fail_cmd "sessions --fleet: host 5's sessions missing"
	grep -q 'sess5.test/privaudit: verified now' "$TMP/err" || fail_cmd "no verdict for host 5"
	expect 0 "$PRIVAUDIT" sessions "$ROOT" --fleet --host sess5.test/privaudit --json
	[ "$(grep -c '"fleet_host":"sess5.test/privaudit"' "$TMP/out")" -ge 3 ] ||
		fail_cmd "sessions --fleet --host --json"
	grep -q '"fleet_host":"sess4' "$TMP/out" && fail_cmd "--host matched another host"
	pass "sessions across the fleet"
fi
