#!/bin/bash
# SPDX-License-Identifier: ISC
# e2e-basic.sh: the everyday CLI path (init, append, seal, checkpoint,
# verify and its options) against doc/cli-contract.txt, with paref.py as an
# independent reader of what was written.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit

L=$TMP/log

# --- init
pa_init "$L"
[ -f "$L/log.pub" ] || fail "init wrote no log.pub"
[ "$(cat "$L.vkey")" = "$(cat "$L/log.pub")" ] || fail "init printed $(cat "$L.vkey"), log.pub holds $(cat "$L/log.pub")"
"$PYTHON3" - "$L.vkey" <<'EOF' || fail "init printed a malformed verifier key line: $(cat "$L.vkey")"
import base64, hashlib, re, sys
line = open(sys.argv[1], "rb").read().decode()
assert line.endswith("\n") and line.count("\n") == 1, "one line"
m = re.fullmatch(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)\n", line)
assert m, "origin+hash+key"
key = base64.b64decode(m.group(3))
assert len(key) == 33 and key[0] == 1, "0x01 || 32-byte Ed25519 key"
h = hashlib.sha256(m.group(1).encode() + b"\n" + key).digest()[:4]
assert h.hex() == m.group(2), "key hash"
EOF
[ "$(record_count "$L")" -eq 3 ] || fail "a fresh log holds $(record_count "$L") records, not 3"
kinds=$(paref frames "$L" | awk '{ printf "%s ", $5 }')
[ "$kinds" = "16 22 23 " ] || fail "fresh log record kinds: $kinds, expected genesis, rotation, checkpoint"
cp "$L/checkpoint" "$TMP/cp-init"
verify_ok "$L"
pass "init"

# --- init refuses an existing log, and leaves it alone
sum_before=$(cat "$L"/seg-* "$L/log.pub" "$L/checkpoint" | cksum)
expect 1 "$PRIVAUDIT" init "$L"
[ -s "$TMP/err" ] || fail "init over a log exited 1 without a message"
[ "$(cat "$L"/seg-* "$L/log.pub" "$L/checkpoint" | cksum)" = "$sum_before" ] ||
	fail "init over an existing log changed it"
verify_ok "$L"
pass "init refuses an existing log"

# --- append TEXT words
expect 0 "$PRIVAUDIT" append "$L" hello "big   world"
[ ! -s "$TMP/out" ] || fail_cmd "append printed something on success"
printf 'hello big   world\n' >"$TMP/expected"

# --- append from stdin: 1500 lines, hostile ones included
"$PYTHON3" - "$TMP/input" <<'EOF'
import sys
lines = [b"line %d of the input" % i for i in range(1500)]
special = [
    b"\x1b[31mred\x1b[0m \x1b]0;title\x07 clear\x1b[2J",   # ANSI / OSC
    b"\xff\xfe\xc3( invalid utf-8 \xed\xa0\x80 \xc0\xaf",   # invalid UTF-8
    "valid utf-8 é € 😀".encode(),
    b"tab\there and a carriage return\r",
    b"",                                                    # empty line
    b"nul\x00inside",                                       # NUL is kept
    b"back\\slash \\x41 not an escape",
    b"%s%n%x format",
    b"x" * 5000,
    bytes(range(1, 10)) + bytes(range(11, 256)),            # every byte but NUL and \n
]
for i, s in enumerate(special):
    lines.insert(100 + 97 * i, s)
open(sys.argv[1], "wb").write(b"\n".join(lines) + b"\n")
EOF
expect 0 "$PRIVAUDIT" append "$L" --batch 300 <"$TMP/input"
[ ! -s "$TMP/out" ] || fail_cmd "append from stdin printed something on success"
paref escape "$TMP/input" >>"$TMP/expected"
pass "append TEXT and 1510 lines from stdin"

# --- seal and checkpoint
expect 0 "$PRIVAUDIT" seal "$L"
cp "$TMP/out" "$TMP/seal-note"
total=$(record_count "$L")
size=$(sed -n 2p "$TMP/seal-note")
[ "$size" = "$((total - 1))" ] ||
	fail "seal note says size $size; the log holds $total records, the checkpoint being the last"
last=$(paref frames "$L" | tail -n 1)
[ "$(say "$last" | cut -d' ' -f1,5)" = "$size 23" ] || fail "record $size is not the checkpoint: $last"
[ "$(sed -n 1p "$TMP/seal-note")" = "$(cut -d+ -f1 "$L.vkey")" ] || fail "note origin differs from the key name"
expect 0 "$PRIVAUDIT" checkpoint "$L"
cmp -s "$TMP/out" "$TMP/seal-note" || fail_cmd "checkpoint does not print the note seal printed"
cmp -s "$L/checkpoint" "$TMP/seal-note" || fail "DIR/checkpoint differs from the sealed note"
[ "$(sed -n 2p "$TMP/out")" = "$((total - 1))" ] || fail "checkpoint line 2 is not the record count"
sed -n 4p "$TMP/out" | grep -q '^time [0-9][0-9]*$' || fail_cmd "no time line in the note"
note_root=$(sed -n 3p "$TMP/out" | "$PYTHON3" -c 'import base64, sys; print(base64.b64decode(sys.stdin.read().strip()).hex())')
[ "$note_root" = "$(paref root "$L" "$size")" ] || fail "note root $note_root is not paref's root of $size records"
pass "seal and checkpoint ($total records)"

# --- verify, pinned
verify_ok "$L"
# only the one line on rollback, which no --trusted checkpoint rules out
[ "$(grep -vc 'warning: no --trusted checkpoint: a log rolled back' "$TMP/err")" -eq 0 ] ||
	fail_cmd "verify --key warned on stderr of something else than rollback"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail_cmd "verify --key without --trusted: not one line on rollback"
grep -q "^records: *$total in 1 segment" "$TMP/out" || fail_cmd "verify does not report $total records"
ncp=$(paref checkpoints "$L" | wc -l)
grep -q "^checkpoints: *$ncp verified" "$TMP/out" || fail_cmd "verify does not report $ncp checkpoints"
grep -q "^sealed: *$size records" "$TMP/out" || fail_cmd "verify does not report $size sealed"
grep -q "^unsealed: *0 records" "$TMP/out" || fail_cmd "verify does not report 0 unsealed"
grep -q '^key: *pinned' "$TMP/out" || fail_cmd "verify --key does not say the key is pinned"
pass "verify --key"

# --- verify, not pinned: a warning
run_cmd "$PRIVAUDIT" verify "$L"
[ "$rc" -eq 0 ] || fail_cmd "verify without --key"
[ -s "$TMP/err" ] || fail_cmd "verify without --key gave no warning on stderr"
grep -q '^key: *NOT pinned' "$TMP/out" || fail_cmd "verify without --key does not say NOT pinned"
pass "verify without --key warns"

# --- verify --quiet: the status alone
run_cmd "$PRIVAUDIT" verify "$L" --quiet
[ "$rc" -eq 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ] || fail_cmd "verify --quiet printed something or failed"
pass "verify --quiet"

# --- verify --json
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --json
[ "$rc" -eq 0 ] || fail_cmd "verify --json"
"$PYTHON3" - "$TMP/out" "$total" "$size" "$ncp" "$L" <<'EOF' || fail_cmd "verify --json content"
import json, sys
j = json.load(open(sys.argv[1]))
total, size, ncp = map(int, sys.argv[2:5])
want = {"ok": True, "exit": 0, "records": total, "segments": 1, "checkpoints": ncp,
        "sealed": size, "unsealed": 0, "pinned": True, "trusted": False,
        "torn_bytes": 0, "first_bad": None}
for k, v in want.items():
    assert j.get(k) == v, "%s is %r, expected %r" % (k, j.get(k), v)
assert j["newest_checkpoint"]["size"] == size, "newest_checkpoint.size"
assert isinstance(j["newest_checkpoint"]["time"], int), "newest_checkpoint.time"
assert isinstance(j["origin"], str) and j["origin"], "origin"
assert j["bytes"] > 0, "bytes"
assert j["log"].rstrip("/").endswith("/log"), "log"
EOF
pass "verify --json"

# --- paref.py agrees
chk=$(paref check "$L")
[ "$chk" = "ok $total records $ncp checkpoints" ] || fail "paref check: $chk"

# --- texts round-trip byte for byte
paref texts "$L" >"$TMP/texts"
cmp -s "$TMP/texts" "$TMP/expected" || {
	diff "$TMP/expected" "$TMP/texts" | head -20 >&2
	fail "application texts differ from what was appended"
}
pass "paref check and texts round-trip ($(wc -l <"$TMP/expected") texts)"

# --- usage errors
expect 2 "$PRIVAUDIT" verify
expect 2 "$PRIVAUDIT" verify "$L" --no-such-option
expect 1 "$PRIVAUDIT" verify "$TMP/no-such-log"
mkdir "$TMP/empty"
expect 1 "$PRIVAUDIT" verify "$TMP/empty"
pass "usage and not-a-log errors"

# --- --max-age
verify_ok "$L" --max-age 3600
sleep 2
verify_fails 8 "$L" --key "$L.vkey" --max-age 1
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --max-age 1 --quiet
[ "$rc" -eq 8 ] && [ ! -s "$TMP/out" ] || fail_cmd "verify --max-age 1 --quiet"
pass "verify --max-age"

# --- --trusted
verify_ok "$L" --trusted "$TMP/cp-init"
verify_ok "$L" --trusted "$TMP/seal-note"
[ ! -s "$TMP/err" ] || fail_cmd "verify --key --trusted warned on stderr"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/seal-note" --json
[ "$(json_get "$TMP/out" 'j["trusted"]')" = True ] || fail_cmd "--json does not say trusted"

# a checkpoint from another log with the same origin
origin=$(sed -n 1p "$TMP/seal-note")
pa_init "$TMP/other" --origin "$origin"
expect 0 "$PRIVAUDIT" append "$TMP/other" some other text
expect 0 "$PRIVAUDIT" seal "$TMP/other"
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/other/checkpoint"
case $rc in 5 | 7) ;; *) fail_cmd "another log's checkpoint as --trusted: expected 5 or 7" ;; esac
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/other/checkpoint" --json
[ "$(json_get "$TMP/out" 'j["ok"]')" = False ] || fail_cmd "--json ok with a foreign trusted checkpoint"

# the early checkpoint with its root changed (signature no longer holds)
"$PYTHON3" - "$TMP/cp-init" "$TMP/cp-forged" <<'EOF'
import base64, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
r = bytearray(base64.b64decode(lines[2]))
r[0] ^= 1
lines[2] = base64.b64encode(bytes(r))
open(sys.argv[2], "wb").write(b"\n".join(lines))
EOF
run_cmd "$PRIVAUDIT" verify "$L" --key "$L.vkey" --trusted "$TMP/cp-forged"
case $rc in 5 | 7) ;; *) fail_cmd "forged --trusted checkpoint: expected 5 or 7" ;; esac

# a later checkpoint of this same log, then the log rolled back to before it
cp -a "$L" "$TMP/later"
cp "$L.vkey" "$TMP/later.vkey"
expect 0 "$PRIVAUDIT" append "$TMP/later" one more record
expect 0 "$PRIVAUDIT" seal "$TMP/later"
verify_ok "$TMP/later" --trusted "$TMP/seal-note"
verify_bad 6 "$L" --key "$L.vkey" --trusted "$TMP/later/checkpoint"
[ "$bad_index" = "$total" ] || fail_cmd "truncation named record $bad_index, the first missing one is $total"
pass "verify --trusted"

exit 0
