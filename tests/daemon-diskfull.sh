#!/bin/bash
# SPDX-License-Identifier: ISC
# daemon-diskfull.sh: privauditd on a full disk (root only, for the small
# tmpfs it mounts).  With the log's filesystem down to its reserve,
# requests are answered at once that they failed (never left waiting), the
# daemon keeps running and sealing on its heartbeat, a "disk-full" gap
# record counts what was refused, and once the filler file is deleted the
# next requests are recorded, after a gap record counting the rest.  The
# log verifies throughout.  The tmpfs is unmounted at exit.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"
is_root || skip "needs root (to mount a small tmpfs)"
command -v fallocate >/dev/null 2>&1 || skip "no fallocate"
pa_host_lock

RESERVE=1048576
M=$TMP/mnt
mkdir "$M"
mount -t tmpfs -o size=8m,mode=0700 pa-test-daemon-full "$M" 2>"$TMP/err" ||
	skip "cannot mount a tmpfs: $(cat "$TMP/err")"
on_exit "umount '$M' || umount -l '$M'"
LOG=$M/log
SOCK=$TMP/privauditd.sock
pa_init "$LOG"
printf 'disk_reserve = %s\n' "$RESERVE" >"$TMP/privauditd.conf"
pa_daemon_start "$LOG" "$SOCK" --config "$TMP/privauditd.conf" --heartbeat 2
avail() { df --output=avail -B1 "$M" | tail -n 1 | tr -d ' '; }

# send.py TAG N: N requests of about 1 KiB, one after the other; prints
# "ok K failed K silent K slowest SECONDS" (silent: no answer in 5 s)
cat >"$TMP/send.py" <<'EOF'
import os, sys, time
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire
sock, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ok = failed = silent = 0
slowest = 0.0
for k in range(n):
    req = pawire.request("session_open", [("service", "pa-df-" + tag), ("user", "root"),
                                          ("rhost", "x" * 1000), ("pid", k),
                                          ("session_key", "%s-%d" % (tag, k))])
    t = time.monotonic()
    try:
        ans = pawire.call(sock, req, timeout=5)
    except OSError:
        ans = None
    slowest = max(slowest, time.monotonic() - t)
    if ans is None:
        silent += 1
    elif ans[0] == pawire.OK:
        ok += 1
    else:
        failed += 1
print("ok %d failed %d silent %d slowest %.3f" % (ok, failed, silent, slowest))
EOF
send() { PAWIRE=$PAWIRE "$PYTHON3" "$TMP/send.py" "$SOCK" "$@"; }

out=$(send before 20)
[ "${out%% failed*}" = "ok 20" ] || fail "before the disk filled: $out"
# all but 200 KiB above the reserve
fallocate -l $(($(avail) - RESERVE - 200 * 1024)) "$M/filler" || fail "fallocate the filler"
out=$(send full 400)
say "# full: $out ($(avail) bytes free)"
set -- $out
[ "$6" -eq 0 ] || fail "requests left without an answer on a full disk: $out"
[ "$4" -gt 0 ] || fail "400 requests of 1 KiB fit in 200 KiB: $out"
[ "$2" -gt 0 ] || fail "no request went in before the reserve: $out"
refused=$4
awk -v s="$8" 'BEGIN { exit !(s < 2) }' || fail "a refused request took $8 s"
kill -0 "$pa_daemon_pid" || fail "privauditd died on the full disk"
sleep 3                     # a heartbeat seal, in the reserve
verify_ok "$LOG"

rm -f "$M/filler"
out=$(send back 5)
[ "${out%% failed*}" = "ok 5" ] || fail "after space returned: $out"
pa_daemon_stop
verify_ok "$LOG"
"$PYTHON3" "$pa_here/plugin-records.py" dump "$LOG" >"$TMP/dump" || fail "cannot read the log"
"$PYTHON3" - "$TMP/dump" "$refused" <<'EOF' || fail "the log does not account for the refused requests"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
refused = int(sys.argv[2])
bad = []
gaps = [(i, r) for i, r in enumerate(rs) if r.get("kind") == "gap" and r.get("reason") == "disk-full"]
lost = sum(g.get("count", 0) for i, g in gaps)
# the request that found the disk full is in a gap too, as each after it
if lost != refused:
    bad.append("disk-full gaps count %d requests, %d were refused" % (lost, refused))
back = [i for i, r in enumerate(rs) if r.get("kind") == "session_open"
        and r.get("session_key", "").startswith("back-")]
if len(back) != 5:
    bad.append("%d of the 5 requests after the disk was freed are in the log" % len(back))
elif not gaps or gaps[-1][0] > back[0]:
    bad.append("the last disk-full gap record comes after the first record written again")
first_gap = gaps[0][0] if gaps else len(rs)
if not any(r.get("kind") == "checkpoint" for r in rs[first_gap:back[0] if back else len(rs)]):
    bad.append("no seal while the disk was full")
kinds = [r.get("kind") for r in rs]
if kinds.count("writer_start") != 1 or kinds.count("writer_stop") != 1:
    bad.append("writer start/stop: %d/%d (the daemon reopened the log)"
               % (kinds.count("writer_start"), kinds.count("writer_stop")))
for b in bad:
    print("daemon-diskfull: " + b, file=sys.stderr)
print("%d disk-full gap records counting %d requests" % (len(gaps), lost))
sys.exit(1 if bad else 0)
EOF
pass "full disk: requests refused at once, counted in gap records, seals go on, recorded again once freed"
exit 0
