#!/bin/bash
# SPDX-License-Identifier: ISC
# witness.sh: a collector's witness key and its cosignature, end to end
# through the CLI: keygen-witness, cosign, verify --witness and prove +
# check-proof --witness pass with the witness's key and fail with exit 10
# with another's, after a tampered cosignature, and on a log the witness
# never saw; the cosignature is the C2SP tlog-cosignature one.
# Environment (set by make check): PRIVAUDIT, PA_SESSIONS, PYTHON3.

. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_SESSIONS=${PA_SESSIONS:-}
[ -x "$PA_SESSIONS" ] || skip "PA_SESSIONS is not set"
EXIT_WITNESS=10

# ---------------------------------------------------------------- keys
W=$TMP/witness.key
expect 0 "$PRIVAUDIT" keygen-witness collector.example/privaudit --out "$W"
vkey=$(cat "$TMP/out")
case $vkey in
collector.example/privaudit+[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]+B*) ;;
*) fail_cmd "keygen-witness printed no 0x04 verifier key line: $vkey" ;;
esac
[ "$(cat "$W.pub")" = "$vkey" ] || fail "SECRETFILE.pub does not hold the printed key line"
[ "$(stat -c %a "$W")" = 600 ] || fail "the secret key file is not 0600"
# never written over
cp "$W" "$TMP/w.copy"
expect 1 "$PRIVAUDIT" keygen-witness collector.example/privaudit --out "$W"
grep -q 'not overwritten' "$TMP/err" || fail_cmd "keygen-witness over an existing key: no reason given"
cmp -s "$W" "$TMP/w.copy" || fail "keygen-witness changed an existing secret key"
[ "$(cat "$W.pub")" = "$vkey" ] || fail "keygen-witness changed an existing .pub"
expect 2 "$PRIVAUDIT" keygen-witness "bad name" --out "$TMP/bad.key"
[ ! -e "$TMP/bad.key" ] && [ ! -e "$TMP/bad.key.pub" ] || fail "a refused keygen left files behind"
expect 0 "$PRIVAUDIT" keygen-witness collector.example/privaudit --out "$TMP/other.key"
pass "keygen-witness: 0600 secret, .pub, refuses to overwrite"

# ---------------------------------------------------------------- a log and its cosignature
L=$TMP/log
pa_init "$L"
expect 0 "$PA_SESSIONS" "$L" 2 3
expect 0 "$PRIVAUDIT" seal "$L"
# before any cosignature: a demanded witness is missing
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W.pub"
grep -q '^result: *FAILED (witness)' "$TMP/out" || fail_cmd "verify --witness without a cosignature: no FAILED (witness)"
# the witness refuses a log that does not verify from the pinned key, and
# needs a key to pin
cp "$L/checkpoint" "$TMP/plain-checkpoint"
pa_init "$TMP/log2"
expect 5 "$PRIVAUDIT" cosign "$L" --witness-key "$W" --key "$TMP/log2.vkey"
grep -q 'NOT cosigned' "$TMP/err" || fail_cmd "cosign of a log that does not verify: no NOT cosigned"
expect 2 "$PRIVAUDIT" cosign "$L" --witness-key "$W" --key "$W.pub"
expect 2 "$PRIVAUDIT" cosign "$L" --witness-key "$W"
cmp -s "$L/checkpoint" "$TMP/plain-checkpoint" || fail "a refused cosign changed the checkpoint"
# a secret others can read is refused
cp "$W" "$TMP/loose.key" && chmod 644 "$TMP/loose.key"
expect 1 "$PRIVAUDIT" cosign "$L" --witness-key "$TMP/loose.key" --key "$L.vkey"
cmp -s "$L/checkpoint" "$TMP/plain-checkpoint" || fail "cosign with a loose key changed the checkpoint"
expect 0 "$PRIVAUDIT" cosign "$L" --witness-key "$W" --key "$L.vkey"
name_lines=$(grep -c '^— collector.example/privaudit ' "$L/checkpoint")
[ "$name_lines" -eq 1 ] || fail "the checkpoint does not carry one cosignature line ($name_lines)"
head -c "$(stat -c %s "$TMP/plain-checkpoint")" "$L/checkpoint" | cmp -s - "$TMP/plain-checkpoint" ||
	fail "cosign changed the log's note instead of appending a line"
# cosigning again replaces the witness's line
expect 0 "$PRIVAUDIT" cosign "$L" --witness-key "$W" --key "$L.vkey"
[ "$(grep -c '^— collector.example/privaudit ' "$L/checkpoint")" -eq 1 ] || fail "a second cosign added a second line"
pass "cosign: only a verified log, only with a protected key, one line per witness"

# The cosignature is the C2SP one: checked here from the spec's text with
# Python's own Ed25519 when it has one (the unit test holds known answers).
if "$PYTHON3" -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
	"$PYTHON3" - "$L/checkpoint" "$W.pub" <<'EOF' || fail "the cosignature is not a C2SP cosignature/v1"
import base64, hashlib, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
note = open(sys.argv[1], encoding="utf-8").read()
name, kid, key = open(sys.argv[2]).read().strip().split("+", 2)
raw = base64.b64decode(key)
assert raw[0] == 4 and len(raw) == 33
assert hashlib.sha256(name.encode() + b"\n" + raw).hexdigest()[:8] == kid
body, sigs = note.split("\n\n", 1)
body += "\n"
line = [l for l in sigs.splitlines() if l.startswith("\u2014 " + name + " ")][0]
sig = base64.b64decode(line.split(" ")[2])
assert len(sig) == 76 and sig[:4].hex() == kid
t = struct.unpack(">Q", sig[4:12])[0]
Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[12:], b"cosignature/v1\ntime %d\n" % t + body.encode())
EOF
	pass "an independent Ed25519 verifies the cosignature"
fi

# ---------------------------------------------------------------- verify --witness
verify_ok "$L" --witness "$W.pub"
grep -q '^witnessed: *checkpoint of size ' "$TMP/out" || fail_cmd "verify --witness: no witnessed line"
expect 0 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W.pub" --json
"$PYTHON3" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["ok"] and j["witnessed"]["size"] == j["newest_checkpoint"]["size"], j' "$TMP/out" ||
	fail_cmd "verify --json: witnessed"
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$TMP/other.key.pub"
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W.pub" --witness "$TMP/other.key.pub"
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$TMP/other.key.pub" --json
"$PYTHON3" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert not j["ok"] and j["exit"] == 10 and j["class"] == "witness", j' "$TMP/out" ||
	fail_cmd "verify --json of a missing witness"
# the log's own key, or a secret file, is not a witness key line
expect 2 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$L.vkey"
expect 2 "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W"
pass "verify --witness: the witness's key passes, another's fails with exit 10"

# A tampered cosignature (one bit of its signature) is no cosignature.
cp "$L/checkpoint" "$TMP/cosigned-checkpoint"
"$PYTHON3" - "$L/checkpoint" <<'EOF' || fail "could not tamper with the cosignature"
import base64, sys
p = sys.argv[1]
lines = open(p, encoding="utf-8").read().split("\n")
for i, l in enumerate(lines):
    if l.startswith("\u2014 collector.example/privaudit "):
        d, n, b = l.split(" ")
        raw = bytearray(base64.b64decode(b))
        raw[40] ^= 1
        lines[i] = " ".join([d, n, base64.b64encode(bytes(raw)).decode()])
open(p, "w", encoding="utf-8").write("\n".join(lines))
EOF
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W.pub"
verify_ok "$L"   # the log itself still verifies: only the witness is missing
cp "$TMP/cosigned-checkpoint" "$L/checkpoint"
pass "a tampered cosignature fails verify --witness (exit 10), the log still verifies"

# ---------------------------------------------------------------- prove, check-proof --witness
expect 0 "$PRIVAUDIT" sessions "$L" --json
S=$("$PYTHON3" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$TMP/out")
[ -n "$S" ] || fail "no session to prove"
expect 0 "$PRIVAUDIT" prove "$L" "$S" --output "$TMP/proof"
expect 0 "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof" --witness "$W.pub"
grep -q '^proof holds: .*, cosigned by the witness at ' "$TMP/out" || fail_cmd "check-proof --witness: no cosigned mention"
expect $EXIT_WITNESS "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof" --witness "$TMP/other.key.pub"
grep -q 'REJECTED' "$TMP/err" || fail_cmd "check-proof --witness of another witness: no REJECTED"
[ ! -s "$TMP/out" ] || fail_cmd "a rejected proof printed records"
expect 2 "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof" --witness "$L.vkey"
pass "prove carries the cosignature; check-proof --witness passes, another witness exits 10"

# ---------------------------------------------------------------- after the next seal
# The host seals again: its checkpoint file is no longer cosigned.  The
# cosigned note the auditor kept is still witnessed, and the log extends it.
expect 0 "$PA_SESSIONS" "$L" 1 1 --boot 11111111-2222-3333-4444-555555555555
expect 0 "$PRIVAUDIT" seal "$L"
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$L" --key "$L.vkey" --witness "$W.pub"
verify_ok "$L" --trusted "$TMP/cosigned-checkpoint" --witness "$W.pub"
grep -q '^trusted: ' "$TMP/out" || fail_cmd "the trusted cosigned note was not checked"
expect 0 "$PRIVAUDIT" prove "$L" "$S" --output "$TMP/proof-new"
expect $EXIT_WITNESS "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof-new" --witness "$W.pub"
expect 0 "$PRIVAUDIT" prove "$L" "$S" --checkpoint "$TMP/cosigned-checkpoint" --output "$TMP/proof-old"
expect 0 "$PRIVAUDIT" check-proof "$L.vkey" "$TMP/proof-old" --witness "$W.pub"
pass "after a new seal: the kept cosigned note still witnesses what it covers"

# ---------------------------------------------------------------- a log the witness never saw
# The same origin, rebuilt (a restored or replaced log): its notes are not
# the witnessed ones, even with the witnessed note copied in.
F=$TMP/fake
expect 0 "$PRIVAUDIT" init "$F" --origin "$(sed -n 's/+.*//p' "$L.vkey")"
cp "$TMP/out" "$F.vkey"
expect 0 "$PA_SESSIONS" "$F" 2 3
expect 0 "$PRIVAUDIT" seal "$F"
cp "$TMP/cosigned-checkpoint" "$F/checkpoint"
run_cmd "$PRIVAUDIT" verify "$F" --key "$F.vkey" --witness "$W.pub"
[ "$rc" -ne 0 ] || fail_cmd "a log the witness never saw verified as witnessed"
expect 0 "$PRIVAUDIT" seal "$F"
expect $EXIT_WITNESS "$PRIVAUDIT" verify "$F" --key "$F.vkey" --witness "$W.pub"
pass "a replaced log with the witnessed note copied in is not witnessed"

# ---------------------------------------------------------------- cosign --output
expect 0 "$PRIVAUDIT" cosign "$L" --witness-key "$TMP/other.key" --key "$L.vkey" --output "$TMP/other-cosigned"
cmp -s "$TMP/other-cosigned" "$L/checkpoint" && fail "cosign --output also rewrote the checkpoint"
verify_ok "$L" --trusted "$TMP/other-cosigned" --witness "$TMP/other.key.pub"
pass "cosign --output leaves the log alone"
exit 0
