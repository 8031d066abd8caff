#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-past-damage.sh: the reader verbs keep going past damage (issue 17).
# One flipped byte in record 15 of a log of ten sessions, then a segment
# deleted from the middle of a longer log: sessions, replay, show, export,
# tail, report and prove read on at the next whole frame, list and replay
# everything after the damage marked "after damage at record N, not
# verifiable", warn on stderr, and exit 12 -- with or without --key.

pa_test=e2e-past-damage
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_SESSIONS=${PA_SESSIONS:-}
[ -x "$PA_SESSIONS" ] || skip "PA_SESSIONS is not set"

L=$TMP/log
pa_init "$L"
expect 0 "$PA_SESSIONS" "$L" 10 2
expect 0 "$PRIVAUDIT" seal "$L"
expect 0 "$PRIVAUDIT" sessions "$L" --key "$L.vkey" --json
[ "$(wc -l <"$TMP/out")" -eq 10 ] || fail_cmd "the intact log does not list 10 sessions"
# JSON lines come in log order
first=$(head -n 1 "$TMP/out" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
last=$(tail -n 1 "$TMP/out" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')

# Flip one byte inside record 15's frame.
"$PYTHON3" - "$L/seg-0000000000000000" <<'PY' || fail "cannot damage record 15"
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
off = 64
while off + 8 <= len(b):
    l = struct.unpack('>I', b[off:off + 4])[0]
    if struct.unpack('>Q', b[off + 4:off + 12])[0] == 15:
        b[off + 4 + l - 5] ^= 0x20
        open(p, 'wb').write(bytes(b))
        sys.exit(0)
    off += 8 + l
sys.exit('record 15 not found')
PY

# Every reader warns, names the damage, and exits 12.
damaged() {
	[ "$rc" -eq 12 ] || fail_cmd "$1: expected exit 12 after damage, got $rc"
	grep -q "WARNING: damage at record 15 (segment 0, offset [0-9]*: .*); read on at record 16" \
		"$TMP/err" || fail_cmd "$1: no warning naming the damage at record 15"
}

for key in "" "--key $L.vkey"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" sessions "$L" $key
	damaged "sessions $key"
	[ "$(grep -c '^[0-9a-f]\{12\} ' "$TMP/out")" -eq 10 ] ||
		fail_cmd "sessions $key: not all 10 sessions listed after the damage"
	[ "$(grep -c 'after damage at record 15, not verifiable' "$TMP/out")" -ge 8 ] ||
		fail_cmd "sessions $key: the sessions after the damage are not marked"
	grep "^$first " "$TMP/out" | grep -q 'after damage' &&
		fail_cmd "sessions $key: the session before the damage is marked"
done
expect 12 "$PRIVAUDIT" sessions "$L" --json
grep "\"id\":\"$last\"" "$TMP/out" | grep -q '"after_damage":15' ||
	fail_cmd "sessions --json: no after_damage member"

# An intact session after the damage replays, every line marked.
run_cmd "$PRIVAUDIT" replay "$L" "$last" --key "$L.vkey"
damaged replay
grep -q 'cat /etc/shadow' "$TMP/out" || fail_cmd "replay: the later session's commands are missing"
grep '^[0-9]\{4\}-' "$TMP/out" | grep -vq 'after damage at record 15, not verifiable' &&
	fail_cmd "replay: a line after the damage is not marked"

for verb in show export; do
	run_cmd "$PRIVAUDIT" "$verb" "$L" --no-verify
	damaged "$verb"
done
grep -q '"index":16,.*"after_damage":15,"verifiable":false' "$TMP/out" ||
	fail_cmd "export: record 16 is not marked after the damage"
grep -q '"index":15,' "$TMP/out" && fail_cmd "export: the damaged record is printed"
grep -q '"index":14,.*after_damage' "$TMP/out" && fail_cmd "export: record 14 is marked"
run_cmd "$PRIVAUDIT" show "$L" --no-verify
grep -q '^#16 .*\[after damage at record 15, not verifiable\]' "$TMP/out" ||
	fail_cmd "show: record 16 is not marked"
run_cmd "$PRIVAUDIT" tail -n 3 "$L"
damaged tail
[ "$(grep -c 'after damage at record 15' "$TMP/out")" -eq 3 ] || fail_cmd "tail: records not marked"
run_cmd "$PRIVAUDIT" tail -n 3 "$L" --key "$L.vkey"
damaged "tail --key"
grep -q 'NOT VERIFIED: .*(first bad record 15)' "$TMP/err" || fail_cmd "tail --key: no verdict"

run_cmd "$PRIVAUDIT" report "$L" --json
damaged report
grep -q '"after_damage":{"first_index":15,"records":[1-9]' "$TMP/out" ||
	fail_cmd "report --json: the records after the damage are not counted as such"
run_cmd "$PRIVAUDIT" report "$L"
damaged report
grep -q '^damage: .* read after damage at record 15, not verifiable' "$TMP/out" ||
	fail_cmd "report: does not say what it counted after the damage"
run_cmd "$PRIVAUDIT" prove "$L" "$last" -o "$TMP/proof"
damaged prove
grep -q 'not sealed by a checkpoint before the damage at record 15' "$TMP/err" ||
	fail_cmd "prove: does not say why the later session's records cannot be proved"

# A segment deleted from the middle of the log: what follows is read.
M=$TMP/multi
pa_init "$M"
seq 1 600 | sed 's/^/line number /' >"$TMP/lines"
expect 0 "$PRIVAUDIT" append "$M" --segment-size 4096 --batch 50 <"$TMP/lines"
expect 0 "$PRIVAUDIT" seal "$M"
[ -e "$M/seg-0000000000000004" ] || fail "expected at least 5 segments"
expect 0 "$PRIVAUDIT" show "$M" --no-verify
total=$(wc -l <"$TMP/out")
lost=$("$PYTHON3" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
print(struct.unpack(">Q", b[64 + 4:64 + 12])[0])' "$M/seg-0000000000000003")
rm "$M/seg-0000000000000003"
for key in "--no-verify" "--key $M.vkey"; do
	# shellcheck disable=SC2086
	run_cmd "$PRIVAUDIT" show "$M" $key
	[ "$rc" -eq 12 ] || fail_cmd "show $key: expected exit 12 with a segment missing"
	grep -q "WARNING: damage at record $lost (segment 3, offset 0: segment file missing)" \
		"$TMP/err" || fail_cmd "show $key: the missing segment is not named"
	grep -q 'line number 600' "$TMP/out" || fail_cmd "show $key: the records after it vanished"
	n=$(wc -l <"$TMP/out")
	[ "$n" -lt "$total" ] && [ "$n" -gt $((total / 2)) ] ||
		fail_cmd "show $key: $n of $total records listed"
done

pass "readers go on past a flipped byte and a missing segment, mark what follows, exit 12"
