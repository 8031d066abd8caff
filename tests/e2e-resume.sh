#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-resume.sh: privaudit verify --state FILE.  The first run verifies the
# whole log and saves the Merkle frontier at its newest checkpoint; the
# next reads only what came after, and agrees with a full verify.  The
# state moves on only when the log verifies.  A changed record after the
# state fails; the checkpoint record the state ends with, changed, fails
# as "does not extend" (7); a log cut back before the state fails as
# truncated (6); the state of another log fails against a pinned key; a
# file that is no state is a usage error; a --trusted note older than the
# state makes the run start from record 0.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_python

L=$TMP/log
S=$TMP/state
pa_init "$L"

add() {
	seq "$1" | sed "s/^/batch $2 line /" >"$TMP/lines"
	expect 0 "$PRIVAUDIT" append "$L" --batch 100 --segment-size 30000 <"$TMP/lines"
	expect 0 "$PRIVAUDIT" seal "$L"
}

field() { "$PYTHON3" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$TMP/out" "$1"; }

add 3000 1
expect 0 "$PRIVAUDIT" checkpoint "$L"
cp "$TMP/out" "$TMP/old.note"
verify_ok "$L" --state "$S"
grep -q '^resumed:' "$TMP/out" && fail_cmd "the first run with a new state file says it resumed"
[ -s "$S" ] || fail "no state file saved"
[ "$(stat -c %a "$S")" = 600 ] || fail "the state file is not 0600"
add 500 2
cp "$S" "$TMP/state.1"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --json
[ "$rc" -eq 0 ] || fail_cmd "full verify"
cp "$TMP/out" "$TMP/full.json"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --state "$S" --json
[ "$rc" -eq 0 ] || fail_cmd "verify --state after 500 more records"
"$PYTHON3" - "$TMP/full.json" "$TMP/out" <<'EOF' || fail "resumed and full verify disagree"
import json, sys
full, res = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("records", "checkpoints", "sealed", "unsealed", "newest_checkpoint", "pinned", "origin"):
    assert full[k] == res[k], (k, full[k], res[k])
assert full["resumed_at"] == 0 and 3000 < res["resumed_at"] < full["records"], res
# only what is new was read
assert res["bytes"] < full["bytes"] / 4, (res["bytes"], full["bytes"])
EOF
cmp -s "$S" "$TMP/state.1" && fail "the state did not move on after a passing verify"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --state "$S"
grep -q '^resumed: *after record' "$TMP/out" || fail_cmd "the text report does not say it resumed"
pass "verify --state reads only what is new and agrees with a full verify"

# ---------------------------------------------------------------- failures
cp "$S" "$TMP/state.2"
cp -a "$L" "$TMP/log.good"
add 200 3
last=$(( $(record_count "$L") - 5 ))
expect 0 "$PYTHON3" "$PAREF" forge "$L" "$last"
verify_fails 4 "$L" --key "$L.vkey" --state "$S"
cmp -s "$S" "$TMP/state.2" || fail "a failed verify changed the state file"
pass "a changed record after the state fails (4), and the state is kept"

rm -rf "$L" && cp -a "$TMP/log.good" "$L"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --state "$S" --json
at=$(field resumed_at)
expect 0 "$PYTHON3" "$PAREF" forge "$L" $((at - 1))
verify_fails 7 "$L" --key "$L.vkey" --state "$S"
grep -q 'not the one verified then' "$TMP/out" || fail_cmd "the reason is not given"
pass "the checkpoint record the state ends with, changed: exit 7"

rm -rf "$L" && cp -a "$TMP/log.good" "$L"
expect 0 "$PYTHON3" "$PAREF" truncate "$L" $((at - 10))
verify_fails "6|7" "$L" --key "$L.vkey" --state "$S"
pass "a log cut back before the state fails (truncated / does not extend)"

rm -rf "$L" && cp -a "$TMP/log.good" "$L"
pa_init "$TMP/other"
expect 0 "$PRIVAUDIT" append "$TMP/other" one two
expect 0 "$PRIVAUDIT" seal "$TMP/other"
expect 0 "$PRIVAUDIT" verify "$TMP/other" --state "$TMP/other.state" --quiet
verify_fails 5 "$L" --key "$L.vkey" --state "$TMP/other.state"
printf 'not a state\n' >"$TMP/junk"
expect 2 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --state "$TMP/junk"
grep -q 'not a verification state' "$TMP/err" || fail_cmd "a junk state file is not named"
pass "another log's state fails against the pinned key (5); junk is a usage error (2)"

# --trusted alone starts at the segment holding the note: the note's
# root vouches for the records before.  --full reads them all.
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/old.note" --json
[ "$rc" -eq 0 ] || fail_cmd "verify --trusted"
from=$(field resumed_at)
[ "$from" -gt 0 ] || fail_cmd "verify --trusted read the log from record 0"
[ "$(field trusted)" = True ] || fail_cmd "verify --trusted did not check the note"
expect 0 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/old.note"
grep -q '^resumed: *at record' "$TMP/out" || fail_cmd "the text report does not say where it started"
cp -a "$L" "$TMP/log.t"
expect 0 "$PYTHON3" "$PAREF" forge "$TMP/log.t" $((from + 3))
verify_fails 7 "$TMP/log.t" --key "$L.vkey" --trusted "$TMP/old.note"
[ "$bad_index" -ge "$from" ] && [ "$bad_index" -le $((from + 3)) ] ||
	fail_cmd "a change at record $((from + 3)) reported at ${bad_index:-none}"
cp -a "$L" "$TMP/log.t2"
expect 0 "$PYTHON3" "$PAREF" forge "$TMP/log.t2" 10
verify_fails 4 "$TMP/log.t2" --key "$L.vkey" --trusted "$TMP/old.note" --full
rm -rf "$TMP/log.t" "$TMP/log.t2"
pass "--trusted starts at the note's segment (a change after it: exit 7); --full reads from record 0"

# A trusted note older than the state: its root needs the records before.
add 100 4
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --state "$S" --trusted "$TMP/old.note" --full --json
[ "$rc" -eq 0 ] || fail_cmd "verify --state --trusted OLDER"
[ "$(field resumed_at)" = 0 ] || fail_cmd "an older --trusted note did not make the run start from record 0"
[ "$(field trusted)" = True ] || fail_cmd "the trusted note was not checked"
pass "a --trusted note older than the state: verified from record 0 against it"
