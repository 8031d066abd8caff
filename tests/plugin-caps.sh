#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-caps.sh: the caps on a non-root user's argv and raw event text
# (audisp-privaudit(8), user_argv_cap, user_raw_cap, user_bytes_per_minute),
# on a generated stream of setuid execs with huge arguments: each keeps at
# most the caps and counts what was cut (argv_truncated_bytes,
# raw_truncated_bytes); once the user has used the minute's budget, the
# floor (1 KiB of argv, 4 KiB of raw text) applies until the next minute;
# another user has a budget of their own; root's events (login uid 0) and
# a daemon's with no login uid but uid 0 are kept whole; a user with no
# login uid is capped by uid.  The log verifies.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"

L=$TMP/log
pa_init "$L"
cat >"$TMP/plugin.conf" <<EOF
user_argv_cap = 8192
user_raw_cap = 16384
user_bytes_per_minute = 100000
EOF
# events: (minute, auid, uid, tag); each exec has 3 arguments of 20000 bytes
"$PYTHON3" - "$pa_here/gen-audit-stream.py" >"$TMP/stream" <<'EOF' || fail "cannot make the stream"
import importlib.util, random, sys
spec = importlib.util.spec_from_file_location("gen", sys.argv[1])
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)
g = gen.Gen(random.Random(1), False, "00000000-test-boot-0000-000000000000")
UNSET = 4294967295
plan = [(0, 1000, 1000, "u1-%d" % i) for i in range(12)]          # over the budget after 4
plan += [(0, 1001, 1001, "u2-0"), (0, 0, 0, "root-0"), (0, UNSET, 0, "daemon-0"),
         (0, UNSET, 33, "www-0")]
plan += [(1, 1000, 1000, "u1-next")]                                # a new minute
serial = 100
for minute, auid, uid, tag in plan:
    serial += 1
    ts = "%d.%03d" % (1700000040 + 60 * minute, serial % 1000)
    argv = [b"/usr/bin/umount", b"--version", tag.encode()] + [b"x" * 20000] * 3
    ses = 5 if auid != UNSET else UNSET
    lines = [g.syscall(ts, serial, 59, b"/usr/bin/umount", b"umount", auid, ses, uid, 0, 4000, 1,
                       True, 0, "pts0", "privaudit-setuid", 2)]
    lines += g.execve_records(ts, serial, argv)
    lines.append(g.hdr("EOE", ts, serial).rstrip(" "))
    sys.stdout.write("\n".join(lines) + "\n")
EOF
run_cmd "$PA_PLUGIN" --dir "$L" --config "$TMP/plugin.conf" --stats <"$TMP/stream"
[ "$rc" -eq 0 ] || fail_cmd "plugin exited $rc"
grep -q ' capped [0-9]* over-budget [0-9]*$' "$TMP/err" || fail_cmd "no capped counters in --stats"
verify_ok "$L"
"$PYTHON3" "$pa_here/plugin-records.py" dump "$L" >"$TMP/dump" || fail "cannot read the log"
"$PYTHON3" - "$TMP/dump" >"$TMP/out" <<'EOF' || fail "caps wrong"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if '"command"' in l]
whole = 15 + 9 + 3 * 20000
by_tag = {r["argv"][2]: r for r in rs if len(r.get("argv", [])) > 2}
bad = []
def check(tag, argv_max, raw_max):
    r = by_tag.get(tag)
    if r is None:
        bad.append("%s: not recorded" % tag)
        return
    kept = sum(len(a) for a in r["argv"])
    whole_t = whole + len(tag)
    cut = r.get("argv_truncated_bytes", 0)
    if argv_max is None:
        if kept != whole_t or cut or r.get("raw_truncated_bytes") or r.get("argv_cut"):
            bad.append("%s: not kept whole: %d of %d bytes, cut %r" % (tag, kept, whole_t, cut))
        return
    if kept > argv_max or kept + cut != whole_t or not r.get("argv_cut"):
        bad.append("%s: argv kept %d (cap %d), argv_truncated_bytes %r, argv_cut %r"
                   % (tag, kept, argv_max, cut, r.get("argv_cut")))
    if len(r["raw"]) > raw_max + 200 or r.get("raw_truncated_bytes", 0) <= 0:
        bad.append("%s: raw %d bytes (cap %d), raw_truncated_bytes %r"
                   % (tag, len(r["raw"]), raw_max, r.get("raw_truncated_bytes")))
# 100000 bytes a minute: events of about 8192 + 16384 bytes use it up after 4
for i in range(12):
    check("u1-%d" % i, 8192 if i < 5 else 1024, 16384 if i < 5 else 4096)
floor = [i for i in range(12) if len(by_tag.get("u1-%d" % i, {}).get("raw", "")) < 5000]
if not floor or floor[0] not in (4, 5) or floor != list(range(floor[0], 12)):
    bad.append("the floor applies to u1 events %s, expected from the 5th on" % floor)
check("u2-0", 8192, 16384)
check("root-0", None, None)
check("daemon-0", None, None)
check("www-0", 8192, 16384)
check("u1-next", 8192, 16384)
for b in bad:
    print("plugin-caps: " + b, file=sys.stderr)
print("u1 argv kept: %s" % [sum(len(a) for a in by_tag.get("u1-%d" % i, {}).get("argv", []))
                            for i in range(12)])
sys.exit(1 if bad else 0)
EOF
pass "non-root argv and raw text capped per event and per user-minute, cuts counted; root and uid-0 daemons whole ($(tail -1 "$TMP/out"))"
exit 0
