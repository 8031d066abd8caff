#!/bin/bash
# SPDX-License-Identifier: ISC
# collector-conf.sh: the collector's rsyslog configuration as `make`
# builds it for installation (contrib/rsyslog/privaudit-collector.conf,
# with the installed paths) is one that rsyslog accepts (`rsyslogd -N1`),
# with every placeholder filled in; and -N1 refuses it once broken, so
# this test can fail.  No root needed; tests/fleet.sh runs it for real.

. "$(dirname "$0")/e2e-lib.sh"

command -v rsyslogd >/dev/null 2>&1 || skip "no rsyslogd"
RSMODDIR=${RSYSLOG_MODDIR:-$(dirname "$(find /usr/lib* -name imrelp.so -path '*rsyslog*' 2>/dev/null | head -n 1)")}
for m in imrelp omprog lmnsd_gtls; do
	[ -e "$RSMODDIR/$m.so" ] || skip "no rsyslog module $m (rsyslog-relp, rsyslog-gnutls)"
done
CONF=${top_builddir:-.}/contrib/rsyslog/privaudit-collector.conf
[ -r "$CONF" ] || fail "$CONF was not built"

grep -n '@[a-z_]*@' "$CONF" && fail "placeholders left in $CONF (above)"
# rsyslogd -N1 opens the TLS files: stand-ins for the collector's.
for f in caCert myCert myPrivKey; do : >"$TMP/$f.pem"; done
sed -E "s|(tls\.(caCert\|myCert\|myPrivKey)=\")[^\"]*\"|\1$TMP/\2.pem\"|" "$CONF" >"$TMP/collector.conf"
[ "$(grep -c "tls\.[a-zA-Z]*=\"$TMP/" "$TMP/collector.conf")" = 3 ] ||
	fail "cannot find the three TLS files in $CONF"
# The order the file's comment asks for: it comes first.
cat >"$TMP/rsyslog.conf" <<EOF
include(file="$TMP/collector.conf")
global(workDirectory="$TMP")
*.* action(type="omfile" file="$TMP/other.log")
EOF
run_cmd rsyslogd -N1 -f "$TMP/rsyslog.conf"
[ "$rc" -eq 0 ] || fail_cmd "rsyslogd -N1 refuses $CONF"
pass "rsyslogd -N1 accepts $CONF"

# What the file promises, in the file rsyslog just read.
for want in 'global(maxMessageSize="8m")' 'type="imrelp"' 'tls="on"' 'tls.authMode="name"' \
	'maxDataSize="8m"' 'ruleset(name="privaudit" queue.type="Direct")' \
	'if $app-name == "privaudit" then' 'type="omprog"' 'confirmMessages="on"' \
	'useTransactions="on"' 'forceSingleInstance="on"' \
	'template="RSYSLOG_SyslogProtocol23Format"' 'queue.saveOnShutdown="on"' \
	'queue.timeoutEnqueue="2147483647"' 'action.resumeRetryCount="-1"' \
	'call RSYSLOG_DefaultRuleset' ' collect --root '; do
	grep -q -F -- "$want" "$CONF" || fail "$CONF lacks $want"
done
# The first statement is the size limit (inputs made before it keep theirs).
first=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$CONF" | head -n 1)
[ "$first" = 'global(maxMessageSize="8m")' ] || fail "the first statement of $CONF is not the size limit: $first"
pass "$CONF has what doc/admin-guide.md says"

# Broken, it must be refused: a misspelt parameter, an unknown queue type.
sed 's/confirmMessages="on"/confirmMesages="on"/' "$TMP/collector.conf" >"$TMP/bad1.conf"
sed 's/queue.type="LinkedList"/queue.type="LinkedLst"/' "$TMP/collector.conf" >"$TMP/bad2.conf"
for b in bad1 bad2; do
	cmp -s "$TMP/collector.conf" "$TMP/$b.conf" && fail "could not break $CONF ($b)"
	sed "s|$TMP/collector.conf|$TMP/$b.conf|" "$TMP/rsyslog.conf" >"$TMP/$b-main.conf"
	run_cmd rsyslogd -N1 -f "$TMP/$b-main.conf"
	[ "$rc" -ne 0 ] || fail_cmd "rsyslogd -N1 accepts a broken configuration ($b)"
done
pass "rsyslogd -N1 refuses it broken"
