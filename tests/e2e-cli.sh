#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-cli.sh: what an auditor meets at the command line (issue 17): --key
# verifies, a failed verdict never exits 0, one mark for unsealed records,
# errors that name their cause (a missing or unreadable directory, a full
# stdout, the wrong key with both ids, an ambiguous session prefix, the
# wrong file given to check-proof, a log that cannot be read to its end),
# the time forms, the sessions listing (newest first, -n, --host, aligned
# columns, a pager only on a terminal), show --kind and bash completion.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_SESSIONS=${PA_SESSIONS:-}
[ -x "$PA_SESSIONS" ] || skip "PA_SESSIONS is not set"

L=$TMP/log
pa_init "$L"
expect 0 "$PA_SESSIONS" "$L" 3 4 --hostile --open-last --gap
expect 0 "$PRIVAUDIT" seal "$L"
expect 0 "$PA_SESSIONS" "$L" 2 2 --boot 11111111-2222-3333-4444-555555555555
expect 0 "$PRIVAUDIT" sessions "$L" --json
mapfile -t ids < <(grep -o '"id":"[0-9a-f]*"' "$TMP/out" | cut -d'"' -f4)
[ "${#ids[@]}" -eq 5 ] || fail_cmd "expected 5 sessions"
S1=${ids[0]} S4=${ids[3]} S5=${ids[4]}
# the host the records were written on (this machine's name)
host=$(grep -o '"host":"[^"]*"' "$TMP/out" | head -1 | cut -d'"' -f4)
[ -n "$host" ] || fail_cmd "no host in sessions --json"
pa_init "$TMP/other"
key_id() { cut -d+ -f2 "$1" | head -c 8; }

# every "verification:" line of the last output within 100 columns
short_verdicts() {
	awk -v what="$1" '/^verification:/ && length($0) > 100 {
		print "FAIL: " what ": verification line of " length($0) " columns: " $0; bad = 1 }
		END { exit bad }' "$TMP/out" >&2 || fail "$1: the verification line is wider than 100 columns"
}

# ---------------------------------------------------------------- 2. evidence first
# --key alone verifies (no --verified needed), in every reader verb
expect 0 "$PRIVAUDIT" sessions "$L" --key "$L.vkey"
grep -q '^verification: log verified now' "$TMP/out" || fail_cmd "sessions --key did not verify"
grep -q 'WARNING: no --key' "$TMP/err" && fail_cmd "sessions --key warns of a missing key"
short_verdicts "sessions --key"
expect 0 "$PRIVAUDIT" replay "$L" "$S1" --key "$L.vkey"
grep -q '^verified: yes' "$TMP/out" || fail_cmd "replay --key did not verify"
expect 0 "$PRIVAUDIT" show "$L" --key "$L.vkey" --kind session_open
grep -q '\[verified\]' "$TMP/out" || fail_cmd "show --key did not verify"
expect 0 "$PRIVAUDIT" export "$L" --key "$L.vkey"
grep -q '"verified":true' "$TMP/out" || fail_cmd "export --key did not verify"
# the wrong key: exit 5 in each verb, both key ids named
for verb in "sessions $L" "replay $L $S1" "show $L" "export $L"; do
	# shellcheck disable=SC2086
	expect 5 "$PRIVAUDIT" $verb --key "$TMP/other.vkey"
	grep -q "the log's first key: .*(key id $(key_id "$L.vkey"))" "$TMP/err" &&
		grep -q "the --key file's key: .*(key id $(key_id "$TMP/other.vkey"))" "$TMP/err" ||
		fail_cmd "$verb with the wrong key does not name both key ids"
done
short_verdicts "sessions, wrong key"
expect 5 "$PRIVAUDIT" verify "$L" --key "$TMP/other.vkey"
grep -q "(key id $(key_id "$L.vkey"))" "$TMP/err" && grep -q "(key id $(key_id "$TMP/other.vkey"))" "$TMP/err" ||
	fail_cmd "verify with the wrong key does not name both key ids"
expect 2 "$PRIVAUDIT" sessions "$L" --key "$L.vkey" --no-verify
grep -q 'no-verify contradicts --key' "$TMP/err" || fail_cmd "--no-verify --key: not named"
# one mark for records no verified checkpoint covers, in replay and show
expect 0 "$PRIVAUDIT" replay "$L" "$S5" --key "$L.vkey"
[ "$(grep -c ' #[0-9]* *\[NOT VERIFIED\]  ' "$TMP/out")" -eq 7 ] || fail_cmd "replay: 7 records marked [NOT VERIFIED]"
grep -Eq ' #[0-9]+ +!' "$TMP/out" && fail_cmd "replay still marks with !"
expect 0 "$PRIVAUDIT" show "$L" --key "$L.vkey" --session "$S5"
[ "$(grep -c '\[NOT VERIFIED\]' "$TMP/out")" -eq 7 ] || fail_cmd "show: 7 records marked [NOT VERIFIED]"
# a failed verdict, even the one cached in the index, is not exit 0
T=$TMP/tampered
cp -a "$L" "$T" && cp "$L.vkey" "$T.vkey"
expect 0 "$PRIVAUDIT" show "$T" --session "$S1" --kind command --json
idx=$("$PYTHON3" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["index"])' "$TMP/out")
paref forge "$T" "$idx" >/dev/null || fail "paref forge"
for verb in "sessions $T" "replay $T $S1" "show $T" "export $T"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" $verb
	[ "$rc" -eq 3 ] || [ "$rc" -eq 4 ] || fail_cmd "$verb of a tampered log: expected exit 3 or 4"
	grep -q 'FAILED verification' "$TMP/err" || fail_cmd "$verb: the failed verdict is not said on stderr"
	# shellcheck disable=SC2086
	expect 0 "$PRIVAUDIT" $verb --no-verify
done
expect 0 "$PRIVAUDIT" sessions "$T" --no-verify
grep -q '^verification: FAILED' "$TMP/out" || fail_cmd "sessions --no-verify hides the failed verdict"
short_verdicts "sessions of a tampered log"
expect 0 "$PRIVAUDIT" sessions "$L"
short_verdicts "sessions, cached verdict"
pass "--key verifies; the wrong key names both ids; one [NOT VERIFIED] mark; failed verdicts exit non-zero; --no-verify"

# ---------------------------------------------------------------- 5. errors that name the cause
for verb in "sessions @" "replay @ $S1" "show @" "export @" "tail @" "prove @ $S1" "verify @" "seal @"; do
	# shellcheck disable=SC2086
	expect 1 "$PRIVAUDIT" ${verb/@/$TMP/no-such-dir}
	grep -q 'No such file or directory' "$TMP/err" || fail_cmd "$verb of a missing directory"
done
mkdir "$TMP/empty-dir"
expect 1 "$PRIVAUDIT" sessions "$TMP/empty-dir"
grep -q 'not a privaudit log' "$TMP/err" || fail_cmd "sessions of an empty directory"
if is_root && command -v setpriv >/dev/null 2>&1; then
	# as an unprivileged user (root reads anything): the log is 0750 root
	chmod 755 "$TMP"
	for verb in sessions show verify; do
		run_cmd setpriv --reuid=65534 --regid=65534 --clear-groups "$PRIVAUDIT" "$verb" "$L"
		[ "$rc" -eq 1 ] && grep -q 'Permission denied' "$TMP/err" ||
			fail_cmd "$verb of an unreadable log does not say Permission denied"
		grep -qi 'input/output error' "$TMP/err" && fail_cmd "$verb says input/output error"
	done
	chmod 700 "$TMP"
fi
# a full standard output is said, and never exit 0
for verb in "sessions $L" "replay $L $S1" "show $L" "export $L" "verify $L --key $L.vkey" "tail $L"; do
	# shellcheck disable=SC2086
	timeout 60 "$PRIVAUDIT" $verb >/dev/full 2>"$TMP/err"
	rc=$?
	[ "$rc" -ne 0 ] && grep -q 'No space left on device' "$TMP/err" ||
		fail "$verb >/dev/full: exit $rc, stderr: $(cat "$TMP/err")"
done
# a misused option names the one thing, not the whole usage
expect 2 "$PRIVAUDIT" sessions
grep -q '^privaudit sessions: missing DIR$' "$TMP/err" || fail_cmd "sessions without DIR"
expect 2 "$PRIVAUDIT" replay "$L"
grep -q '^privaudit replay: missing SESSION$' "$TMP/err" || fail_cmd "replay without SESSION"
expect 2 "$PRIVAUDIT" show "$L" extra
grep -q "^privaudit show: unexpected argument 'extra'$" "$TMP/err" || fail_cmd "show with an extra argument"
expect 2 "$PRIVAUDIT" sessions "$L" --bogus
grep -q "^privaudit sessions: unrecognized option '--bogus'" "$TMP/err" || fail_cmd "an unknown option"
expect 2 "$PRIVAUDIT" sessions "$L" -n x
grep -q "^privaudit sessions: -n needs a positive number, not 'x'" "$TMP/err" || fail_cmd "-n x"
for args in "sessions" "replay $L" "show $L extra" "sessions $L --bogus" "check-proof $L.vkey"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" $args
	[ "$(wc -l <"$TMP/err")" -le 2 ] && ! grep -q '^usage:' "$TMP/err" ||
		fail_cmd "$args: prints the whole usage"
done
# an ambiguous prefix lists the sessions it matches: two sessions whose
# ids (SHA-256 of host and key) share 4 digits, found before writing them
boot=$("$PYTHON3" -c '
import hashlib, sys
def sid(key):
    return hashlib.sha256(b"privaudit session\n" + sys.argv[1].encode() + b"\n" + key.encode()).hexdigest()[:12]
for n in range(10**7):
    b = "aaaaaaaa-0000-0000-0000-%012d" % n
    if sid(b + ":1")[:4] == sid(b + ":2")[:4]:
        print(b, sid(b + ":1"), sid(b + ":2"))
        break' "$host")
read -r boot A1 A2 <<<"$boot"
A=$TMP/amb
pa_init "$A"
expect 0 "$PA_SESSIONS" "$A" 2 1 --boot "$boot"
expect 9 "$PRIVAUDIT" replay "$A" "${A1:0:4}"
grep -q 'matches more than one session' "$TMP/err" && grep -q "^  $A1 " "$TMP/err" && grep -q "^  $A2 " "$TMP/err" ||
	fail_cmd "an ambiguous prefix does not list $A1 and $A2"
expect 9 "$PRIVAUDIT" show "$A" --session "${A1:0:4}"
grep -q "^  $A2 " "$TMP/err" || fail_cmd "show --session: an ambiguous prefix does not list the matches"
expect 0 "$PRIVAUDIT" replay "$A" "$A1"
# check-proof blames the file that is wrong
expect 0 "$PRIVAUDIT" prove "$L" "$S1" --output "$TMP/proof"
expect 5 "$PRIVAUDIT" check-proof "$TMP/other.vkey" "$TMP/proof"
grep -q "$TMP/proof: a proof for the log .*, but $TMP/other.vkey is the key of .*(key id $(key_id "$TMP/other.vkey"))" "$TMP/err" ||
	fail_cmd "check-proof with another log's key does not blame the key file"
expect 2 "$PRIVAUDIT" check-proof "$TMP/proof" "$TMP/proof"
grep -q "^privaudit check-proof: $TMP/proof: not a privaudit public key line" "$TMP/err" ||
	fail_cmd "check-proof with a proof as the key does not blame the key file"
head -c 300 "$TMP/proof" >"$TMP/proof-cut"
run_cmd "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof-cut"
[ "$rc" -eq 3 ] || [ "$rc" -eq 4 ] || fail_cmd "check-proof of a cut proof: expected exit 3 or 4"
grep -q "^privaudit check-proof: $TMP/proof-cut: proof REJECTED" "$TMP/err" || fail_cmd "a cut proof is not blamed"
expect 1 "$PRIVAUDIT" check-proof "$TMP/nothing.pub" "$TMP/proof"
grep -q "$TMP/nothing.pub: No such file or directory" "$TMP/err" || fail_cmd "a missing key file"
# sessions of a log it cannot read to its end: said, and not exit 0
D=$TMP/damaged
cp -a "$L" "$D"
read -r seg off <<<"$(frame_at "$D" 20)"
[ -n "$off" ] || fail "no frame for record 20"
printf '\377\377\377\377' | dd of="$D/seg-$(printf %016x "$seg")" bs=1 seek="$off" conv=notrunc status=none
rm -f "$D/index"
run_cmd "$PRIVAUDIT" sessions "$D"
[ "$rc" -eq 12 ] || fail_cmd "sessions of a damaged log: expected exit 12 (read past damage)"
grep -q 'WARNING: damage at record 20 ' "$TMP/err" || fail_cmd "sessions of a damaged log does not say so"
run_cmd "$PRIVAUDIT" sessions "$D" --json --no-verify
[ "$rc" -ne 0 ] || fail_cmd "sessions --json --no-verify of a damaged log exits 0"
pass "errors name their cause: missing, unreadable, /dev/full, misused options, ambiguous prefix, check-proof files, damage"

# ---------------------------------------------------------------- time forms
for t in today yesterday -1w -2h "2 hours ago" "1 week ago" "3 days ago" "90 min ago" now @0 "$(date +%Y-%m-%d)"; do
	expect 0 "$PRIVAUDIT" sessions "$L" --since "$t" --json
done
expect 0 "$PRIVAUDIT" sessions "$L" --since yesterday --json
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail_cmd "--since yesterday: every session of the last minutes"
expect 0 "$PRIVAUDIT" sessions "$L" --since "1 week ago" --until "@$(($(date +%s) + 60))" --json
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail_cmd "--since '1 week ago'"
expect 0 "$PRIVAUDIT" sessions "$L" --until "2 hours ago" --json
[ ! -s "$TMP/out" ] || fail_cmd "--until '2 hours ago' listed sessions"
for bad in "someday" "2 fortnights ago" "-3" "2026-13-01" "ago"; do
	expect 2 "$PRIVAUDIT" sessions "$L" --since "$bad"
	grep -q "bad time for --since: '$bad'" "$TMP/err" && grep -q 'yesterday' "$TMP/err" &&
		grep -q 'hours ago' "$TMP/err" || fail_cmd "--since '$bad': the error does not list the forms"
done
expect 2 "$PRIVAUDIT" show "$L" --until never
grep -q 'today, yesterday' "$TMP/err" || fail_cmd "show: the bad time error does not list the forms"
# --utc / --local: output in that zone, and the replay timeline carries
# the date and the zone
TZ=IST-5:30 run_cmd "$PRIVAUDIT" sessions "$L" --local
[ "$rc" -eq 0 ] && grep -Eq '^[0-9a-f]{12}  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}\+05:30 ' "$TMP/out" ||
	fail_cmd "sessions --local in +05:30"
TZ=IST-5:30 run_cmd "$PRIVAUDIT" sessions "$L" --utc
[ "$rc" -eq 0 ] && grep -Eq '^[0-9a-f]{12}  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z ' "$TMP/out" ||
	fail_cmd "sessions --utc"
expect 0 "$PRIVAUDIT" replay "$L" "$S1"
[ "$(grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z #[0-9]+ ' "$TMP/out")" -eq 9 ] ||
	fail_cmd "replay: 9 timeline lines with date and zone"
TZ=IST-5:30 run_cmd "$PRIVAUDIT" replay "$L" "$S1" --local
[ "$(grep -Ec '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}\+05:30 #[0-9]+ ' "$TMP/out")" -eq 9 ] ||
	fail_cmd "replay --local: 9 timeline lines in +05:30"
# dates without a zone: local time, or UTC with --utc
day=$(date -u +%Y-%m-%d)
TZ=UTC+12 run_cmd "$PRIVAUDIT" sessions "$L" --since "${day}T00:00" --utc --json
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail_cmd "--utc: --since today 00:00 UTC"
pass "time forms: today, yesterday, -1w, 'N units ago'; the error lists them; --utc, --local; replay's date and zone"

# ---------------------------------------------------------------- sessions listing
expect 0 "$PRIVAUDIT" sessions "$L"
cp "$TMP/out" "$TMP/list"
head -1 "$TMP/list" | grep -Eq '^SESSION +START +END +DURATION +HOST +USER -> TARGET +SERVICE +RHOST +TTY +CMDS +SEALED$' ||
	fail_cmd "the heading"
# newest first: the ids in the reverse of the log's (JSON) order
[ "$(grep -Eo '^[0-9a-f]{12}' "$TMP/list" | tr '\n' ' ')" = "$S5 $S4 ${ids[2]} ${ids[1]} $S1 " ] ||
	fail_cmd "sessions are not listed newest first"
# aligned: every column starts where its heading does
"$PYTHON3" - "$TMP/list" <<'EOF' || fail "the columns are not aligned (see above)"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head = lines[0]
starts = [m.start() for m in re.finditer(r"(?<!\S)(SESSION|START|END|DURATION|HOST|USER|SERVICE|RHOST|TTY|SEALED)\b", head)]
for l in lines[1:]:
    if l.startswith("verification:"):
        break
    for s in starts:
        assert l[s - 2:s] == "  " if s else True, (s, l)
        assert l[s] != " ", (s, l)
EOF
grep -q "  $host  " "$TMP/list" || fail_cmd "no HOST column"
expect 0 "$PRIVAUDIT" sessions "$L" -n 2
[ "$(grep -Eo '^[0-9a-f]{12}' "$TMP/out" | tr '\n' ' ')" = "$S5 $S4 " ] || fail_cmd "-n 2: the 2 newest"
expect 0 "$PRIVAUDIT" sessions "$L" -n 2 --json
[ "$(grep -o '"id":"[0-9a-f]*"' "$TMP/out" | cut -d'"' -f4 | tr '\n' ' ')" = "$S4 $S5 " ] ||
	fail_cmd "-n 2 --json: the 2 newest, in log order"
expect 0 "$PRIVAUDIT" sessions "$L" --host "$(tr '[:lower:]' '[:upper:]' <<<"$host")" --json
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail_cmd "--host in another case"
expect 0 "$PRIVAUDIT" sessions "$L" --host "x$host" --json
[ ! -s "$TMP/out" ] || fail_cmd "--host of another host listed sessions"
expect 0 "$PRIVAUDIT" sessions "$L" --user USER1 --json
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail_cmd "--user in another case"
# a pager on a terminal only: $PAGER gets the listing through a pty
if command -v script >/dev/null 2>&1; then
	PAGER="cat >$TMP/paged" timeout 60 script -qec "$PRIVAUDIT sessions $L" /dev/null >/dev/null 2>&1 ||
		fail "sessions under script(1) failed"
	grep -q "^$S1 " "$TMP/paged" 2>/dev/null || fail "sessions on a terminal did not go through \$PAGER"
	PAGER="cat >$TMP/paged-replay" timeout 60 script -qec "$PRIVAUDIT replay $L $S1" /dev/null >/dev/null 2>&1 ||
		fail "replay under script(1) failed"
	grep -q "^session:  $S1" "$TMP/paged-replay" 2>/dev/null || fail "replay on a terminal did not go through \$PAGER"
fi
PAGER="cat >$TMP/not-paged" run_cmd "$PRIVAUDIT" sessions "$L"
[ "$rc" -eq 0 ] && [ ! -e "$TMP/not-paged" ] && grep -q "^$S1 " "$TMP/out" || fail_cmd "a pager when stdout is not a terminal"
pass "sessions: heading, newest first, aligned, HOST, -n, --host and --user in any case, pager on a terminal only"

# ---------------------------------------------------------------- show --kind, replay --real-time, completion
expect 2 "$PRIVAUDIT" show "$L" --kind command,comand
grep -q "unknown record kind 'comand'" "$TMP/err" || fail_cmd "show --kind of an unknown kind"
listed=$(sed -n 's/^  //p' "$TMP/err" | tr ' ' '\n' | sort | tr '\n' ' ')
proto=$(awk '/oneof body/,/}/' "$pa_here/../proto/privaudit.proto" | sed -n 's/^ *[A-Za-z]* \([a-z_]*\) = [0-9]*;.*/\1/p' | sort | tr '\n' ' ')
[ -n "$proto" ] && [ "$listed" = "$proto" ] || fail "show --kind lists '$listed', the schema has '$proto'"
expect 0 "$PRIVAUDIT" replay "$L" "$S1"
cp "$TMP/out" "$TMP/replay"
expect 0 "$PRIVAUDIT" replay "$L" "$S1" --real-time --speed 1000
cmp -s "$TMP/out" "$TMP/replay" || fail "replay --real-time differs"
expect 0 "$PRIVAUDIT" replay "$L" "$S1" --follow --speed 1000
cmp -s "$TMP/out" "$TMP/replay" || fail "replay --follow (the old spelling) differs"
expect 0 "$PRIVAUDIT" replay --help
grep -q -- '--real-time' "$TMP/out" && grep -q -- 'old spelling: --follow' "$TMP/out" || fail_cmd "replay --help"
comp=$pa_here/../contrib/bash-completion/privaudit
[ -r "$comp" ] || fail "no bash completion at $comp"
complete_words() {
	PATH=$(dirname "$PRIVAUDIT"):$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_privaudit; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" privaudit "$@"
}
complete_words se | grep -qx sessions || fail "completion of 'se' lacks sessions"
complete_words se | grep -qx seal || fail "completion of 'se' lacks seal"
complete_words sessions "$L" --ho | grep -qx -- --host || fail "completion of sessions --ho"
complete_words replay "$L" "$S1" --re | grep -qx -- --real-time || fail "completion of replay --re"
complete_words show "$L" --kind sess | grep -qx session_open || fail "completion of --kind sess"
complete_words show "$L" --kind command,tty | grep -qx command,tty_input || fail "completion of --kind command,tty"
complete_words show "$L" --since yes | grep -qx yesterday || fail "completion of --since yes"
pass "show --kind refuses an unknown kind with the schema's list; replay --real-time (--follow); bash completion"
exit 0
