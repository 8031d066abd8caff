#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-backdate.sh: a root insider holding log.key appends a command to a
# session that is closed and sealed, with the clock set back an hour, then
# seals again.  verify flags the record's time (exit 11); sessions, replay,
# show and export mark it [APPENDED LATER], never plainly verified; replay
# shows record indexes.  The same append with the right time still shows
# as appended later, and an honest log has no such marks.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_SESSIONS=${PA_SESSIONS:-}
PA_BACKDATE=${PA_BACKDATE:-}
[ -x "$PA_SESSIONS" ] || skip "PA_SESSIONS is not set"
[ -x "$PA_BACKDATE" ] || skip "PA_BACKDATE is not set"

L=$TMP/log
pa_init "$L"
expect 0 "$PA_SESSIONS" "$L" 2 3
expect 0 "$PRIVAUDIT" seal "$L"

# ---------------------------------------------------------------- honest log
expect 0 "$PRIVAUDIT" verify "$L" --key "$L.vkey"
grep -q 'rolled back' "$TMP/err" || fail_cmd "verify without --trusted does not warn about rollback"
[ "$(grep -c 'rolled back' "$TMP/err")" -eq 1 ] || fail_cmd "the rollback warning is more than one line"
expect 0 "$PRIVAUDIT" sessions "$L" --json
key=$("$PYTHON3" -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
assert len(s) == 2 and all(not x["open"] for x in s), s
print(s[0]["key"])' "$TMP/out") || fail_cmd "sessions --json: two closed sessions expected"
sid=$(grep -o '"id":"[0-9a-f]*"' "$TMP/out" | head -1 | cut -d'"' -f4)
expect 0 "$PRIVAUDIT" replay "$L" "$sid" --verified --key "$L.vkey"
grep -q '^LATER:' "$TMP/out" && fail_cmd "an honest session shows records appended later"
grep -q 'APPENDED LATER' "$TMP/out" && fail_cmd "an honest session has an [APPENDED LATER] mark"
grep -Eq '^[0-9TZ:.-]{24} #[0-9]+ ' "$TMP/out" || fail_cmd "replay lines carry no record index"
pass "an honest log: verify 0, one rollback line, replay with indexes and no marks"

# Reader verbs with --verified and no --key say the key was the host's.
expect 0 "$PRIVAUDIT" sessions "$L" --verified
grep -q 'WARNING: no --key' "$TMP/err" || fail_cmd "sessions --verified without --key does not warn"
expect 0 "$PRIVAUDIT" replay "$L" "$sid" --verified
grep -q 'WARNING: no --key' "$TMP/err" || fail_cmd "replay --verified without --key does not warn"
expect 0 "$PRIVAUDIT" show "$L" --verified
grep -q 'WARNING: no --key' "$TMP/err" || fail_cmd "show --verified without --key does not warn"
expect 0 "$PRIVAUDIT" sessions "$L" --verified --key "$L.vkey"
grep -q 'WARNING: no --key' "$TMP/err" && fail_cmd "sessions --verified --key warns of a missing key"
pass "--verified without --key warns, with --key it does not"

# ---------------------------------------------------------------- the attack
cp -a "$L" "$TMP/copy" && cp "$L.vkey" "$TMP/copy.vkey"
before=$(record_count "$L")
expect 0 "$PA_BACKDATE" "$L" "$key" 3600
bad=$before   # the backdated command is the first record appended
expect 11 "$PRIVAUDIT" verify "$L" --key "$L.vkey"
grep -q 'FAILED (backdated)' "$TMP/out" || fail_cmd "verify does not name the class"
grep -q "first bad: *record $bad " "$TMP/out" || fail_cmd "verify does not name record $bad"
grep -q "^backdated: *1 record" "$TMP/out" || fail_cmd "verify does not count the backdated record"
expect 11 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --json
"$PYTHON3" -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert v["class"] == "backdated" and v["exit"] == 11 and v["backdated"] == 1, v
assert v["first_bad"]["index"] == int(sys.argv[2]), v' "$TMP/out" "$bad" || fail_cmd "verify --json"

expect 11 "$PRIVAUDIT" replay "$L" "$sid" --verified --key "$L.vkey"
grep -Eq "^[0-9TZ:.-]{24} #$bad +\[APPENDED LATER\] +command .*backdoor\.sh" "$TMP/out" ||
	fail_cmd "replay does not mark the backdoor command [APPENDED LATER] with its index $bad"
grep -q "^LATER: *1 record(s) were appended after the checkpoint" "$TMP/out" ||
	fail_cmd "replay's header does not count the record appended later"
[ "$(grep -c 'APPENDED LATER' "$TMP/out")" -eq 1 ] || fail_cmd "more than one [APPENDED LATER] mark"
grep -q 'backdated' "$TMP/err" || fail_cmd "replay --verified does not say why the log fails"

expect 11 "$PRIVAUDIT" show "$L" --verified --key "$L.vkey" --session "$sid"
grep -q "^#$bad .* command \[APPENDED LATER\]" "$TMP/out" || fail_cmd "show does not mark record $bad"
[ "$(grep -c 'APPENDED LATER' "$TMP/out")" -eq 1 ] || fail_cmd "show marks other records"
grep "^#$bad " "$TMP/out" | grep -q '\[verified\]' && fail_cmd "show calls the record plainly verified"
expect 11 "$PRIVAUDIT" export "$L" --verified --key "$L.vkey"
"$PYTHON3" -c '
import json, sys
late = [r for r in map(json.loads, open(sys.argv[1])) if r.get("appended_later")]
assert [r["index"] for r in late] == [int(sys.argv[2])], late' "$TMP/out" "$bad" ||
	fail_cmd "export: appended_later not on exactly record $bad"
# the index now holds the failed (backdated) verdict: exit 11 (issue 17)
expect 11 "$PRIVAUDIT" sessions "$L" --json
"$PYTHON3" -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
assert s[0]["appended_later"] == 1 and s[1]["appended_later"] == 0, s' "$TMP/out" ||
	fail_cmd "sessions --json does not count the record appended later"
pass "a backdated command in a sealed session: verify 11 at record $bad, marked [APPENDED LATER]"

# ---------------------------------------------------------------- not backdated
# The same append at the right time: nothing to flag in its time, but it
# still came after the session was sealed.
L=$TMP/copy
before=$(record_count "$L")
expect 0 "$PA_BACKDATE" "$L" "$key" 0
expect 0 "$PRIVAUDIT" verify "$L" --key "$L.vkey"
expect 0 "$PRIVAUDIT" replay "$L" "$sid" --verified --key "$L.vkey"
grep -Eq "^[0-9TZ:.-]{24} #$before +\[APPENDED LATER\] +command .*backdoor\.sh" "$TMP/out" ||
	fail_cmd "a record appended after the seal, at the right time, is not marked [APPENDED LATER]"
pass "appended after the seal at the right time: verify 0, still marked [APPENDED LATER]"
exit 0
