#!/bin/sh
# SPDX-License-Identifier: ISC
# make-corpus.sh: (re)generate the seed corpora in tests/fuzz/corpus from
# real output of a build: logs written by the privaudit CLI and by
# audisp-privaudit fed tests/gen-audit-stream.py, their segments, checkpoints
# and key lines, proofs gen-proofs makes over them, and PAM arguments from
# the man page's examples.  Nothing here is written by hand.
#   tests/fuzz/make-corpus.sh BUILDDIR
set -eu

B=$(cd "${1:?usage: make-corpus.sh BUILDDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
C=$here/corpus
PA=$B/cli/privaudit
PLUGIN=$B/audisp_privaudit/audisp-privaudit
PY=${PYTHON3:-python3}
PACK="$PY $here/pack-log.py"
(cd "$B" && make -s cli/privaudit audisp_privaudit/audisp-privaudit tests/fuzz/gen-proofs tests/pa-sessions tests/pa-backdate) >/dev/null

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
# Inputs that found bugs (regress-*) and those kept from fuzzing runs
# (named by libFuzzer for their SHA-1, doc/fuzzing.md) are kept; every
# seed is made again.
x8='[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'
[ -d "$C" ] && find "$C" -type f ! -name 'regress-*' ! -name "$x8$x8$x8$x8$x8" -delete
for h in record segment note proof stream pam_args proof_file index request shipped; do mkdir -p "$C/$h"; done

# ---------------------------------------------------------------- logs
# a: fresh (genesis, key rotation, checkpoint)
"$PA" init "$T/a" --origin fuzz.example/a >/dev/null
# b: application records, sealed twice, some unsealed after
"$PA" init "$T/b" --origin fuzz.example/b >/dev/null
"$PA" append "$T/b" "first record" >/dev/null
printf 'line one\nline two \001\002 binary\n\nlast\n' | "$PA" append "$T/b" --tag fuzz >/dev/null
"$PA" seal "$T/b" >"$T/b.note1"
"$PA" append "$T/b" after the first seal >/dev/null
"$PA" seal "$T/b" >/dev/null
"$PA" append "$T/b" unsealed >/dev/null
# c: many small segments
"$PA" init "$T/c" --origin fuzz.example/c >/dev/null
seq 1 400 | "$PA" append "$T/c" --segment-size 4096 --batch 50 >/dev/null
"$PA" seal "$T/c" >/dev/null
# d: what the auditd plugin writes (commands, tty, config, gaps...)
"$PA" init "$T/d" --origin fuzz.example/d >/dev/null
# (the generator's huge-argv events are left out: seeds stay small)
short() { awk 'length($0) < 2048'; }
$PY "$top/tests/gen-audit-stream.py" --seed 7 --events 40 | short >"$T/d.stream"
"$PLUGIN" --dir "$T/d" --boot-id 00000000-fuzz-boot-0000-000000000000 <"$T/d.stream" >/dev/null 2>&1
"$PA" seal "$T/d" >/dev/null
$PY "$top/tests/gen-audit-stream.py" --seed 8 --events 25 --enriched | short >"$T/e.stream"
"$PA" init "$T/e" --origin fuzz.example/e >/dev/null
"$PLUGIN" --dir "$T/e" <"$T/e.stream" >/dev/null 2>&1

# ---------------------------------------------------------------- record
for l in a b c d e; do
	for s in "$T/$l"/seg-*; do
		n=$(basename "$s")
		[ "$(wc -c <"$s")" -le 65536 ] && cp "$s" "$C/record/$l-$n"
		$PACK frames "$s" "$C/record" "$l-$n"
	done
done

# ---------------------------------------------------------------- segment
cp "$T/a/seg-0000000000000000" "$C/segment/raw-a"
cp "$T/b/seg-0000000000000000" "$C/segment/raw-b"
now=$(date +%s)
$PACK archive "$T/a" --pin -o "$C/segment/a-pinned"
$PACK archive "$T/b" --pin --trusted "$T/b.note1" -o "$C/segment/b-trusted"
$PACK archive "$T/b" --cut 7 -o "$C/segment/b-torn"
$PACK archive "$T/b" --max-age 3600 "$now" -o "$C/segment/b-maxage"
$PACK archive "$T/c" --pin -o "$C/segment/c-segments"
$PACK archive "$T/d" --pin -o "$C/segment/d-plugin"
$PACK archive "$T/e" -o "$C/segment/e-unsealed"

# ---------------------------------------------------------------- note
for l in a b c d e; do
	cp "$T/$l/checkpoint" "$C/note/checkpoint-$l"
	cp "$T/$l/log.pub" "$C/note/vkey-$l"
	cat "$T/$l/log.pub" "$T/$l/checkpoint" >"$C/note/vkey-checkpoint-$l"
done
cp "$T/b.note1" "$C/note/sealed-b"
cat "$T/a/log.pub" "$T/b/checkpoint" >"$C/note/vkey-a-checkpoint-b"

# ---------------------------------------------------------------- proof
"$B/tests/fuzz/gen-proofs" "$C/proof" "$T/d"/seg-* >/dev/null

# ---------------------------------------------------------------- stream
i=0
for args in "--seed 1 --events 12" "--seed 2 --events 12 --enriched" "--seed 3 --events 30" \
	    "--seed 4 --events 8 --enriched" "--seed 5 --events 20" "--seed 6 --events 5"; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	$PY "$top/tests/gen-audit-stream.py" $args | short | head -c 24000 >"$T/s$i"
	$PACK stream "$i" "$T/s$i" "$C/stream/gen-$i"
done
$PACK stream 99 "$T/d.stream" "$T/big" && head -c 48000 "$T/big" >"$C/stream/gen-d-head"

# ---------------------------------------------------------------- pam_args
# The module lines of the man page's examples, as the PAM hooks they name
# (hook bits: 1 session, 2 auth, 4 account), with items of this system:
# service names from the module's escalation default, users from passwd,
# this host's name.
escalation=$(sed -n 's/^#define DEFAULT_ESCALATION "\(.*\)"$/\1/p' "$top/pam_privaudit/pam_privaudit.c")
users="root $(getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 { print $1; exit }') $(id -un)"
host=$(hostname)
i=0
sed -n 's/^\(auth\|account\|session\)  *[a-z]*  *pam_privaudit\.so *\(.*\)$/\1 \2/p' \
	"$top/doc/pam_privaudit.8" | sed 's/\\-/-/g' | sort -u >"$T/pam-lines"
while read -r hook args; do
	case $hook in session) bit=1 ;; auth) bit=2 ;; *) bit=4 ;; esac
	for svc in $(echo "$escalation" | tr , ' ' | cut -d' ' -f1-3); do
		for u in $users; do
			i=$((i + 1))
			[ "$i" -le 40 ] || break 3
			{
				printf "\\$(printf '%03o' "$bit")"
				printf '%s\0%s\0%s\0%s\0%s\0' "$svc" "$u" "$(id -un)" "$host" "pts/$i"
				# shellcheck disable=SC2086
				for a in $args; do printf '%s\0' "$a"; done
			} >"$C/pam_args/$hook-$svc-$u-$i"
		done
	done
done <"$T/pam-lines"


# ---------------------------------------------------------------- proof_file, index
# f: login sessions with sudo, commands, TTY input, hostile strings and a
# gap, as pa-sessions writes them; proofs of its sessions (the key line
# first, as the harness reads it) and the session index beside it.
"$PA" init "$T/f" --origin fuzz.example/f >"$T/f.vkey"
"$B/tests/pa-sessions" "$T/f" 2 3 --hostile --gap >/dev/null
"$PA" seal "$T/f" >/dev/null
"$B/tests/pa-sessions" "$T/f" 1 2 --open-last --boot 11111111-2222-3333-4444-555555555555 >/dev/null
"$PA" seal "$T/f" >/dev/null
n=0
for id in $("$PA" sessions "$T/f" --json | sed 's/^{"id":"\([0-9a-f]*\)".*/\1/'); do
	n=$((n + 1))
	"$PA" prove "$T/f" "$id" --output "$T/f.proof" 2>/dev/null
	cat "$T/f.vkey" "$T/f.proof" >"$C/proof_file/f-session-$n"
done
cp "$T/f/index" "$C/index/f-index"
"$PA" sessions "$T/a" >/dev/null
cp "$T/a/index" "$C/index/a-index"
"$PA" sessions "$T/d" >/dev/null
cp "$T/d/index" "$C/index/d-index"
# l: f with a command appended to its first session after it was sealed
key=$("$PA" sessions "$T/f" --json | sed -n '1s/.*"key":"\([^"]*\)".*/\1/p')
"$B/tests/pa-backdate" "$T/f" "$key" 3600
# (it fails verification now, as it should: the index is what is kept)
"$PA" sessions "$T/f" --no-verify >/dev/null
cp "$T/f/index" "$C/index/l-index-late"
# w: sessions only their audit events name (audisp-privaudit fed an sshd
# login and a sudo of each), beside one a PAM open names
wb=00000000-fuzz-boot-0000-000000000000
"$PA" init "$T/w" --origin fuzz.example/w >/dev/null
"$B/tests/pa-sessions" "$T/w" 1 1 --boot "$wb" >/dev/null
for ses in 1 41 42; do
	[ "$ses" = 42 ] || printf "type=USER_START msg=audit(1700000100.%03d:%d): pid=7 uid=0 auid=1001 ses=%d msg='op=PAM:session_open acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=198.51.100.7 addr=198.51.100.7 terminal=ssh res=success'\ntype=USER_LOGIN msg=audit(1700000100.%03d:%d): pid=7 uid=0 auid=1001 ses=%d msg='op=login id=1001 exe=\"/usr/sbin/sshd\" hostname=198.51.100.7 addr=198.51.100.7 terminal=/dev/pts/3 res=success'\n" \
		"$ses" "$((ses * 10))" "$ses" "$ses" "$((ses * 10 + 1))" "$ses"
	printf "type=USER_START msg=audit(1700000100.%03d:%d): pid=8 uid=0 auid=1001 ses=%d msg='op=PAM:session_open acct=\"root\" exe=\"/usr/bin/sudo\" hostname=? addr=? terminal=/dev/pts/3 res=success'\n" \
		"$ses" "$((ses * 10 + 2))" "$ses"
done | "$PLUGIN" --dir "$T/w" --boot-id "$wb" >/dev/null 2>&1
"$PA" sessions "$T/w" >/dev/null
cp "$T/w/index" "$C/index/w-index-audit"

# ---------------------------------------------------------------- request
# Request bodies (no frame length) as pam_privaudit sends privauditd, built
# by tests/pawire.py: the three kinds with the module's fields, and the
# malformed ones daemon-clients.sh sends (the NUL-in-a-name one is kept as
# regress-request-nul-name).
PYTHONPATH=$top/tests $PY - "$C/request" <<'EOF'
import struct, sys
from pawire import body, SYNC, SEAL
out = sys.argv[1]
key = 'f00dfeedf00dfeedf00dfeedf00dfeed'
pam = [('service', 'sudo'), ('user', 'root'), ('ruser', 'alice'), ('rhost', ''),
       ('tty', '/dev/pts/3')]
seeds = {
    'open': body('session_open', pam + [
        ('pid', 4242), ('uid', 1000), ('euid', 0), ('auid', 1000), ('ses', 7),
        ('boot_id', '00000000-fuzz-boot-0000-000000000000'), ('login_user', 'alice'),
        ('result', 0), ('session_key', key)], SYNC),
    'open-seal': body('session_open', pam[:2] + [('pid', 1), ('session_key', key)], SYNC | SEAL),
    'close': body('session_close', [('service', 'sudo'), ('user', 'root'), ('pid', 4242),
                                    ('duration_ns', 1234567890), ('result', 0),
                                    ('session_key', key)], SEAL),
    'auth': body('auth_attempt', pam + [('phase', 'auth'), ('uid', 1000), ('auid', 1000),
                                        ('ses', 4294967295), ('result', 1), ('success', 0)], 0),
    'auth-account': body('auth_attempt', [('service', 'su'), ('phase', 'account'),
                                          ('result', -1), ('success', 1)], SYNC),
    'kind-only': body('session_close', [], 0),
    'bad-version': body('session_open', [('user', 'root')], SYNC, version=2),
    'bad-flags': body('session_open', [('user', 'root')], 0x80),
    'bad-kind-checkpoint': body('checkpoint', [('tree_size', 1)]),
    'bad-kind-heartbeat': body('heartbeat', [('events_seen', 1)]),
    'bad-peer-uid': body('session_open', [('user', 'root'), ('peer_uid', 0)]),
    'bad-unknown-field': body('session_open', [('no_such_field', 'x')]),
    'bad-int-range': body('session_open', [('pid', -1)]),
    'bad-bytes-for-int': body('session_open', [('pid', 'x')]),
}
ok = body('session_open', [('user', 'root')])
seeds['bad-truncated-field'] = ok + b'b'
seeds['bad-truncated-value'] = ok[:-3]
seeds['bad-field-too-long'] = ok[:-8] + struct.pack('>I', 1000) + ok[-4:]
seeds['bad-header'] = ok[:2]
for name, b in seeds.items():
    open('%s/%s' % (out, name), 'wb').write(b)
EOF

# ---------------------------------------------------------------- shipped
# The JSON bodies of the messages privauditd ships, as paref.py makes them
# (record, checkpoint and sync messages of log b), and broken ones.
$PY "$top/tests/paref.py" ship "$T/b" --sync 9 | sed 's/^[^{]*//' |
	awk -v d="$C/shipped" '{ f = d "/ship-" NR; print > f; close(f) }'
printf '{"privaudit":1,"origin":"o","log_id":"%064d","index":0,"entry":"AA=="}' 0 >"$C/shipped/bad-short-entry"
printf '{"privaudit":2,"origin":"o","log_id":"%064d","size":1}' 0 >"$C/shipped/bad-version"
printf '{"privaudit":1,"origin":"o\\u0000x","log_id":"%064d","size":1}' 0 >"$C/shipped/bad-nul-origin"
printf '{"privaudit":1,"origin":"\\ud83d\\ude00","log_id":"%064d","size":1,"x":[{"a":[]}]}' 0 >"$C/shipped/surrogates"

du -sh "$C"
for h in "$C"/*; do echo "$(basename "$h"): $(ls "$h" | wc -l) files"; done
