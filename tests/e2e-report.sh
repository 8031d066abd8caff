#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-report.sh: privaudit report (issue 17, item 4), checked the way an
# auditor would: the exact number of sessions per user, target, host and
# day, the top commands, the failed authentication attempts and commands,
# the gaps; --json holds the same numbers as the text; --user, --host,
# --since and --until change them as they should; a hostile user name is
# printed escaped; a tampered log exits non-zero as 'sessions' does.
# Sessions come from tests/pa-sessions, authentication attempts from
# privauditd, sent as the PAM module sends them.  Root is not needed.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_daemon
PA_SESSIONS=${PA_SESSIONS:-}
[ -x "$PA_SESSIONS" ] || skip "PA_SESSIONS is not set"
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"

L=$TMP/log
SOCK=$TMP/privauditd.sock
pa_init "$L"
# Part 1: three sessions of seven commands each (the seventh fails), the
# first one's user a terminal escape sequence, the last one left open, and
# a gap of 42 events.  Part 2, a whole second later: two sessions of two
# commands on another boot.  T lies between them, on a whole second.
expect 0 "$PA_SESSIONS" "$L" 3 7 --hostile --open-last --gap
sleep 1.1
T=$(date +%s)
sleep 1.1
expect 0 "$PA_SESSIONS" "$L" 2 2 --boot 11111111-2222-3333-4444-555555555555
# Authentication attempts, after T: three failed sudo by user1, a failed su
# to root by user2, one whose outcome the module could not know (result
# -1), one that succeeded, and a failed one by a hostile name.
pa_daemon_start "$L" "$SOCK"
auth() {
	ans=$("$PYTHON3" "$PAWIRE" "$SOCK" auth_attempt --sync phase=auth "$@") ||
		fail "privauditd refused an auth_attempt ($*): $ans"
}
for _ in 1 2 3; do
	auth service=sudo user=user1 ruser=user1 result:=1 success:=0
done
auth service=su user=root ruser=user2 result:=1 success:=0
auth service=sudo user=user1 ruser=user1 result:=-1 success:=0
auth service=sudo user=user1 ruser=user1 result:=0 success:=1
evil=$'ma\e]0;x\alory'
auth service=sudo "user=$evil" "ruser=$evil" result:=1 success:=0
pa_daemon_stop
expect 0 "$PRIVAUDIT" seal "$L"
expect 0 "$PRIVAUDIT" sessions "$L" --json
cp "$TMP/out" "$TMP/sessions.json"
host=$(grep -o '"host":"[^"]*"' "$TMP/sessions.json" | head -1 | cut -d'"' -f4)
[ -n "$host" ] || fail_cmd "no host in sessions --json"
expect 0 "$PRIVAUDIT" show "$L" --kind command --json
cp "$TMP/out" "$TMP/commands.json"

# report ARGS...: the text in $TMP/report.txt, --json in $TMP/report.json,
# both exit 0, and every number of the text the same as in the JSON.
report() {
	expect 0 "$PRIVAUDIT" report "$L" --key "$L.vkey" --json "$@"
	cp "$TMP/out" "$TMP/report.json"
	expect 0 "$PRIVAUDIT" report "$L" --key "$L.vkey" "$@"
	cp "$TMP/out" "$TMP/report.txt"
	"$PYTHON3" - "$TMP/report.txt" "$TMP/report.json" <<'EOF' || fail "report $*: the text and --json differ"
import base64, json, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
j = json.load(open(sys.argv[2]))

def raw(e, name):
    k = name + "_b64"
    return base64.b64decode(e[k]) if k in e else e[name].encode()

def esc(b):
    # what the CLI prints for bytes from the log (cli/escape.h)
    out, i = [], 0
    while i < len(b):
        for n in (1, 2, 3, 4):
            try:
                ch = b[i:i + n].decode("utf-8")
                break
            except UnicodeDecodeError:
                ch = None
        if ch is None:
            out.append("\\x%02x" % b[i]); i += 1; continue
        c = ord(ch)
        if ch == "\\": out.append("\\\\")
        elif ch == "\n": out.append("\\n")
        elif ch == "\t": out.append("\\t")
        elif c < 0x20 or c == 0x7f: out.append("\\x%02x" % c)
        elif 0x80 <= c < 0xa0: out.append("\\u%04x" % c)
        else: out.append(ch)
        i += len(ch.encode())
    return "".join(out) or "-"

bad = []
def same(what, a, b):
    if a != b:
        bad.append("%s: text %r, json %r" % (what, a, b))

t = j["totals"]
m = re.search(r"^sessions: +(\d+) \((\d+) open\)$", text, re.M)
same("sessions", (int(m[1]), int(m[2])), (t["sessions"], t["open_sessions"]))
m = re.search(r"^commands: +(\d+) \((\d+) failed\)$", text, re.M)
same("commands", (int(m[1]), int(m[2])), (t["commands"], t["failed_commands"]))
m = re.search(r"^auth: +(\d+) attempts: (\d+) succeeded, (\d+) failed, (\d+) outcome not recorded$", text, re.M)
same("auth", tuple(map(int, m.groups())),
     (t["auth_attempts"], t["auth_succeeded"], t["auth_failed"], t["auth_unknown"]))
m = re.search(r"^gaps: +(\d+) gap records, (\d+) events lost$", text, re.M)
same("gaps", tuple(map(int, m.groups())), (t["gap_records"], t["events_lost"]))

# each section: title, heading, rows (counts right-aligned, then names)
sections = {}
for block in text.split("\n\n")[1:]:
    lines = block.rstrip("\n").split("\n")
    rows = []
    for l in lines[2:]:
        if l.startswith("  ... and "):
            continue
        rows.append(l)
    if lines[1:] == ["  (none)"]:
        rows = lines[1:]
    sections[lines[0]] = (lines[1] if len(lines) > 1 else "", rows)

def section(prefix):
    for k, v in sections.items():
        if k.startswith(prefix):
            return v
    bad.append("no section " + prefix)
    return ("", [])

def check(prefix, key, counts, names, sep=None):
    head, rows = section(prefix)
    lst = j[key]["list"]
    if not lst:
        same(prefix + " (empty)", rows, ["  (none)"])
        return
    same(prefix + " rows", len(rows), len(lst))
    for row, e in zip(rows, lst):
        parts = row.split()
        nums = [int(x) for x in parts[:len(counts)]]
        same(prefix + " counts", nums, [e[c] for c in counts])
        rest = row.lstrip()
        for _ in counts:
            rest = rest.split(None, 1)[1] if " " in rest else ""
        want = [esc(raw(e, n)) for n in names]
        got = [rest] if sep else re.split(r"  +", rest)
        same(prefix + " names", got, [sep.join(want)] if sep else want)

check("Sessions per user", "per_user", ["sessions", "commands"], ["user", "target"], " -> ")
check("Sessions per target", "per_target", ["sessions", "commands"], ["target"])
check("Sessions per host", "per_host", ["sessions", "commands"], ["host"])
check("Sessions and commands per day", "per_day", ["sessions", "commands"], ["day"])
check("Top commands", "top_commands", ["runs", "failed"], ["program"])
check("Failed authentication", "failed_auth", ["failed"], ["user", "service"])
check("Failed commands", "failed_commands", ["failed"], ["user", "program"])
check("Gaps", "gaps", ["records", "events_lost"], ["reason"])
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
	grep -q $'\e' "$TMP/report.txt" && fail "report $*: a raw escape character reached the terminal"
	return 0
}
# jq EXPR [WANT]: a python expression over the last --json report (j),
# which must print WANT.
jq() {
	got=$("$PYTHON3" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$TMP/report.json" "$1" 2>&1)
	[ "$got" = "$2" ] || fail "report ${args[*]}: $1 is $got, expected $2"
}
# row TITLE LINE: the text report's section TITLE holds this line (runs of
# spaces, the table's padding, count as one).
row() {
	# from the environment: awk -v would read the backslashes as escapes
	t=$1 want=$2 awk 'function sq(s) { gsub(/ +/, " ", s); sub(/^ /, "", s); return s }
		index($0, ENVIRON["t"]) == 1 { on = 1; next } on && $0 == "" { exit }
		on && sq($0) == sq(ENVIRON["want"]) { found = 1 } END { exit !found }' "$TMP/report.txt" ||
		{ say "--- report:" >&2; cat "$TMP/report.txt" >&2; fail "report ${args[*]}: no line '$2' under '$1'"; }
}

# ---------------------------------------------------------------- the whole log
args=()
report
jq 'j["totals"]["sessions"], j["totals"]["open_sessions"]' '(5, 1)'
jq 'j["totals"]["commands"], j["totals"]["failed_commands"]' '(25, 3)'
jq 'j["totals"]["auth_attempts"], j["totals"]["auth_failed"], j["totals"]["auth_unknown"], j["totals"]["auth_succeeded"]' '(7, 5, 1, 1)'
jq 'j["totals"]["gap_records"], j["totals"]["events_lost"]' '(1, 42)'
jq 'j["complete"], j["verification"]["status"]' '(True, '"'verified'"')'
row "Sessions per user" "       2         9  user1 -> root"
row "Sessions per user" "       1         7  user2 -> root"
row "Sessions per user" "       1         2  user0 -> root"
row "Sessions per target user" "       5        25  root"
row "Sessions per host" "       5        25  $host"
# user1's sessions: one of part 1 (7 commands), one of part 2 (2)
jq '[(e["sessions"], e["commands"]) for e in j["per_user"]["list"] if e["user"] == "user1"]' '[(2, 9)]'
# the top commands: cat and id 8 times each (the same count: by name),
# cat failing in the three sessions of part 1
row "Top commands" "   8       3  /usr/bin/cat"
row "Top commands" "   8       0  /usr/bin/id"
row "Top commands" "   3       0  /usr/sbin/auditctl"
jq '[(e["program"], e["runs"], e["failed"]) for e in j["top_commands"]["list"]][:2]' \
	"[('/usr/bin/cat', 8, 3), ('/usr/bin/id', 8, 0)]"
jq 'sum(e["runs"] for e in j["top_commands"]["list"]), j["top_commands"]["distinct"]' '(25, 5)'
row "Failed authentication" "     3  user1                    sudo"
row "Failed authentication" "     1  root                     su"
row "Failed authentication" '     1  ma\x1b]0;x\x07lory         sudo'
row "Failed commands" "     1  user1             /usr/bin/cat"
row "Gaps" "      1    42  queue-overflow"
# the hostile names: escaped in the text, exact in the JSON
row "Sessions per user" '       1         7  ev\x1b[31mil\xff -> root'
jq '[e["user_b64"] for e in j["per_user"]["list"] if "user_b64" in e]' "['ZXYbWzMxbWls/w==']"
jq '[e["user"] for e in j["failed_auth"]["list"] if e["user"].startswith("ma")]' "['ma\\x1b]0;x\\x07lory']"
# per day: as many sessions and commands on each day as their times say
# (UTC, and local time 14 hours east of it), and all of them
per_day() {
	"$PYTHON3" - "$TMP/sessions.json" "$TMP/commands.json" "$TMP/report.json" "$1" <<'EOF'
import json, sys, time
off = int(sys.argv[4])
def day(ns):
    return time.strftime("%Y-%m-%d", time.gmtime(ns // 10**9 + off))
want = {}
for l in open(sys.argv[1]):
    s = json.loads(l)
    want.setdefault(day(s["start_ns"]), [0, 0])[0] += 1
for l in open(sys.argv[2]):
    want.setdefault(day(json.loads(l)["time_ns"]), [0, 0])[1] += 1
got = {e["day"]: [e["sessions"], e["commands"]] for e in json.load(open(sys.argv[3]))["per_day"]["list"]}
if got != want or sum(v[0] for v in got.values()) != 5 or sum(v[1] for v in got.values()) != 25:
    sys.exit("per day: report %r, expected %r" % (got, want))
EOF
}
per_day 0 || fail "sessions per day (UTC)"
grep -q '^Sessions and commands per day (UTC)$' "$TMP/report.txt" || fail "the day's zone is not said"
args=(--local)
TZ=XXX-14 report --local
TZ=XXX-14 per_day 50400 || fail "sessions per day (local time)"
jq 'j["zone"]' local
grep -q '^Sessions and commands per day (local time)$' "$TMP/report.txt" || fail "--local: the day's zone is not said"
pass "report of the whole log: sessions per user, target, host and day, top commands, failures, gaps"

# ---------------------------------------------------------------- --top
args=(--top 2)
report --top 2
jq 'j["top_commands"]["shown"], j["top_commands"]["distinct"]' '(2, 5)'
grep -q '^Top commands, by program (2 of 5)$' "$TMP/report.txt" || fail "--top 2: no title"
grep -q '^  \.\.\. and 3 more (--top 0 lists all)$' "$TMP/report.txt" || fail "--top 2: the rest not said"
args=(--top 0)
report --top 0
jq 'j["top_commands"]["shown"]' 5
expect 2 "$PRIVAUDIT" report "$L" --top x
grep -q "^privaudit report: --top needs a number" "$TMP/err" || fail_cmd "--top x"
pass "--top"

# ---------------------------------------------------------------- filters
for u in user1 USER1; do
	args=(--user "$u")
	report --user "$u"
	jq 'j["totals"]["sessions"], j["totals"]["commands"], j["totals"]["failed_commands"]' '(2, 9, 1)'
	# attempts by or for user1; a gap is no user's: still counted
	jq 'j["totals"]["auth_attempts"], j["totals"]["auth_failed"]' '(5, 3)'
	jq 'j["totals"]["gap_records"]' 1
	jq '[e["user"] for e in j["per_user"]["list"]]' "['user1']"
done
args=(--user user2)
report --user user2
jq 'j["totals"]["sessions"], j["totals"]["open_sessions"], j["totals"]["commands"]' '(1, 1, 7)'
jq '[(e["user"], e["service"], e["failed"]) for e in j["failed_auth"]["list"]]' "[('root', 'su', 1)]"
uhost=$(printf '%s' "$host" | tr '[:lower:]' '[:upper:]')
args=(--host "$uhost")
report --host "$uhost"
jq 'j["totals"]["sessions"], j["totals"]["commands"], j["totals"]["auth_attempts"], j["totals"]["gap_records"]' '(5, 25, 7, 1)'
args=(--host no-such-host)
report --host no-such-host
jq 'j["totals"]["sessions"], j["totals"]["commands"], j["totals"]["auth_attempts"], j["totals"]["gap_records"]' '(0, 0, 0, 0)'
grep -q '^covered: *nothing matched$' "$TMP/report.txt" || fail "no match: not said"
# until T: part 1 (its open session too), its gap, no attempt yet
args=(--until "@$T")
report --until "@$T"
jq 'j["totals"]["sessions"], j["totals"]["open_sessions"], j["totals"]["commands"], j["totals"]["failed_commands"]' '(3, 1, 21, 3)'
jq 'j["totals"]["auth_attempts"], j["totals"]["gap_records"]' '(0, 1)'
# since T: part 2 and part 1's session still open; only the commands run
# since T (part 2's), the attempts, no gap
args=(--since "@$T")
report --since "@$T"
jq 'j["totals"]["sessions"], j["totals"]["open_sessions"], j["totals"]["commands"], j["totals"]["failed_commands"]' '(3, 1, 4, 0)'
jq 'j["totals"]["auth_attempts"], j["totals"]["auth_failed"], j["totals"]["gap_records"]' '(7, 5, 0)'
row "Sessions per user" "       1         0  user2 -> root"
jq 'j["period"]["since_ns"]' "$((T * 1000000000))"
args=(--since "@$T" --user user1)
report --since "@$T" --user user1
jq 'j["totals"]["sessions"], j["totals"]["commands"], j["totals"]["auth_attempts"]' '(1, 2, 5)'
expect 2 "$PRIVAUDIT" report "$L" --since yesterdayish
grep -q "bad time for --since: 'yesterdayish'" "$TMP/err" || fail_cmd "a bad time"
pass "--user (any case), --host (any case), --since and --until change the counts as they should"

# ---------------------------------------------------------------- exit status
# a tampered log: the same status as 'sessions', said on stderr
X=$TMP/tampered
cp -a "$L" "$X" && cp "$L.vkey" "$X.vkey"
idx=$("$PYTHON3" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["index"])' "$TMP/commands.json")
paref forge "$X" "$idx" >/dev/null || fail "paref forge"
for opts in "" "--json" "--verified" "--key $X.vkey" "--key $X.vkey --json"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" sessions "$X" $opts
	want=$rc
	[ "$want" -eq 3 ] || [ "$want" -eq 4 ] || fail_cmd "sessions $opts of a tampered log: exit $want"
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" report "$X" $opts
	[ "$rc" -eq "$want" ] || fail_cmd "report $opts of a tampered log: exit $rc, sessions exits $want"
	grep -q 'FAILED verification\|NOT VERIFIED' "$TMP/err" || fail_cmd "report $opts: the failed verdict is not said on stderr"
done
expect 0 "$PRIVAUDIT" report "$X" --no-verify
grep -q '^verification: FAILED' "$TMP/out" || fail_cmd "report --no-verify hides the failed verdict"
expect 0 "$PRIVAUDIT" report "$X" --no-verify --json
"$PYTHON3" -c 'import json,sys; j = json.load(open(sys.argv[1])); assert j["verification"]["status"] == "failed", j["verification"]' \
	"$TMP/out" || fail_cmd "report --json --no-verify: verification not failed"
# the wrong key: exit 5, as sessions
pa_init "$TMP/other"
expect 5 "$PRIVAUDIT" report "$L" --key "$TMP/other.vkey"
# damage in the middle: the log cannot be read to its end, said, not exit 0
D=$TMP/damaged
cp -a "$L" "$D"
read -r seg off <<<"$(frame_at "$D" 20)"
[ -n "$off" ] || fail "no frame for record 20"
printf '\377\377\377\377' | dd of="$D/seg-$(printf %016x "$seg")" bs=1 seek="$off" conv=notrunc status=none
rm -f "$D/index"
for opts in "" "--json --no-verify"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" sessions "$D" $opts
	want=$rc
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" report "$D" $opts
	[ "$rc" -ne 0 ] && [ "$rc" -eq "$want" ] || fail_cmd "report $opts of a damaged log: exit $rc, sessions exits $want"
	grep -q 'WARNING: damage at record' "$TMP/err" || fail_cmd "report $opts of a damaged log does not say so"
done
expect 1 "$PRIVAUDIT" report "$TMP/no-such-dir"
grep -q 'No such file or directory' "$TMP/err" || fail_cmd "report of a missing directory"
expect 2 "$PRIVAUDIT" report
grep -q '^privaudit report: missing DIR$' "$TMP/err" || fail_cmd "report without DIR"
expect 2 "$PRIVAUDIT" report "$L" --key "$L.vkey" --no-verify
timeout 60 "$PRIVAUDIT" report "$L" >/dev/full 2>"$TMP/err"
rc=$?
[ "$rc" -ne 0 ] && grep -q 'No space left on device' "$TMP/err" || fail "report >/dev/full: exit $rc: $(cat "$TMP/err")"
pass "a tampered, cut, missing or unkeyed log exits as sessions does; usage errors name the option"
