#!/bin/bash
# SPDX-License-Identifier: ISC
# plugin-restart.sh: what a restart of audisp-privaudit lost is counted.  A
# first run is killed (kill -9) with events still queued in it; the next
# run, on the same log and the same boot, writes a plugin-restart gap
# record counting the serials the log never got, per node, with the events
# after the restart a little out of order.  A clean stop and start counts
# the serials not seen in between; another boot, or a node whose counter
# started again (a smaller serial), counts nothing made up.  Everything is
# read back with the CLI (privaudit export --json) and the log verifies.
# tests/plugin-restart-auditd.sh does it under a real auditd.
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
PA_PLUGIN=${PA_PLUGIN:-${top_builddir:-.}/audisp_privaudit/audisp-privaudit}
[ -x "$PA_PLUGIN" ] || skip "plugin not built: $PA_PLUGIN"
B1=00000000-test-boot-0000-000000000001
B2=00000000-test-boot-0000-000000000002
L=$TMP/log
pa_init "$L"

# gen [node=N] SERIAL...: one SYSCALL event (and its EOE) per serial
gen() {
	node=""
	case $1 in node=*) node="$1 " && shift ;; esac
	for s in "$@"; do
		printf '%stype=SYSCALL msg=audit(1700000000.%03d:%d): arch=c000003e syscall=2 success=yes exit=3 items=0 ppid=1 pid=%d auid=1000 uid=0 euid=0 ses=7 comm="cat" exe="/usr/bin/cat" key="pa-restart"\n' \
			"$node" $((s % 1000)) "$s" "$s"
		printf '%stype=EOE msg=audit(1700000000.%03d:%d): \n' "$node" $((s % 1000)) "$s"
	done
}

# export_json: the log's records, one JSON object a line, in $TMP/export
export_json() {
	run_cmd "$PRIVAUDIT" export "$L" --json
	[ "$rc" -eq 0 ] || fail_cmd "export"
	cp "$TMP/out" "$TMP/export"
}

# recorded NODE SERIAL: is that event in the log?
recorded() {
	"$PYTHON3" - "$TMP/export" "$1" "$2" <<'EOF'
import json, sys
node, serial = sys.argv[2], int(sys.argv[3])
for l in open(sys.argv[1]):
    r = json.loads(l)
    f = r["fields"]
    raw = f.get("raw", "")
    n = raw.split(" ", 1)[0][5:] if raw.startswith("node=") else ""
    if r["kind"] == "audit_event" and f.get("serial") == serial and n == node:
        sys.exit(0)
sys.exit(1)
EOF
}

# ---------------------------------------------------------------- run 1
# Events 100-150 (147 never comes) and node "far" 1000-1010 are recorded;
# then 151-160 come to a writer made slow, and the plugin is killed -9
# with them still in it.
mkfifo "$TMP/fifo"
"$PA_PLUGIN" --dir "$L" --boot-id "$B1" --commit-ms 50 --test-slow-writer 1500 \
	<"$TMP/fifo" 2>"$TMP/run1.err" &
p1=$!
on_exit "kill -9 $p1"
exec 8>"$TMP/fifo"
{
	gen $(seq 100 146) 148 149 150
	gen node=far $(seq 1000 1010)
} >&8
for _ in $(seq 1 100); do
	export_json
	recorded "" 150 && recorded far 1010 && break
	sleep 0.2
done
recorded "" 150 && recorded far 1010 || fail "run 1: events 150 and far:1010 not recorded in 20 s"
sleep 0.3   # the state file is written right after the commit
gen $(seq 151 160) >&8
sleep 0.3
kill -9 "$p1"
wait "$p1" 2>/dev/null
exec 8>&-
export_json
recorded "" 151 && fail "run 1: event 151 was recorded: the kill came too late, the test proves nothing"

# ---------------------------------------------------------------- run 2
# Same boot: 165, 163, 164 first (out of order), then 166-170; node far
# goes on at 1011.  Lost: 147 and 151-162, nothing of far.
{
	gen 165 163 164 $(seq 166 170)
	gen node=far $(seq 1011 1015)
} >"$TMP/run2.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$B1" <"$TMP/run2.stream"
[ "$rc" -eq 0 ] || fail_cmd "run 2: plugin exited $rc"
export_json
"$PYTHON3" - "$TMP/export" >"$TMP/gaps" <<'EOF' || fail "run 2: gap records wrong (above): $(cat "$TMP/gaps")"
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
def node_of(r):
    raw = r["fields"].get("raw", "")
    return raw.split(" ", 1)[0][5:] if raw.startswith("node=") else ""
seen = {(node_of(r), r["fields"]["serial"]) for r in rs if r["kind"] == "audit_event"}
gaps = [r["fields"] for r in rs if r["kind"] == "gap"]
bad = []
missing = [s for s in range(100, 171) if ("", s) not in seen]
if not (147 in missing and 151 in missing and 162 in missing and 163 not in missing):
    bad.append("events recorded: %s missing" % missing)
# every missing serial of node "" in exactly one gap's range, the counts
# adding up; the ones from 151 on in a plugin-restart gap
covered = []
for g in gaps:
    if g.get("node", "") == "" and g["reason"] in ("plugin-restart", "serial-jump"):
        r = [s for s in range(g["first_serial"], g["last_serial"] + 1) if ("", s) not in seen]
        if len(r) != g["count"]:
            bad.append("gap %r counts %d, %d serials of its range are missing" % (g, g["count"], len(r)))
        covered += r
if sorted(covered) != missing:
    bad.append("gap records cover %s, missing are %s" % (sorted(covered), missing))
restart = [g for g in gaps if g["reason"] == "plugin-restart"]
if not any(g.get("node", "") == "" and g["last_serial"] == 162 and g["first_serial"] in (147, 151)
           for g in restart):
    bad.append("no plugin-restart gap ending at 162: %r" % restart)
if any(g.get("node") == "far" for g in gaps):
    bad.append("a gap for node far, which lost nothing: %r" % [g for g in gaps if g.get("node") == "far"])
for b in bad:
    print("plugin-restart: " + b, file=sys.stderr)
print("; ".join("%s %s %s-%s%s" % (g["reason"], g["count"], g.get("first_serial"), g.get("last_serial"),
                " node=" + g["node"] if g.get("node") else "") for g in gaps))
sys.exit(1 if bad else 0)
EOF
pass "kill -9 with events queued, then a restart: the lost serials in gap records ($(cat "$TMP/gaps"))"

# count_gaps REASON NODE: the events gap records of that reason and node count
count_gaps() {
	export_json
	"$PYTHON3" -c '
import json, sys
print(sum(r["fields"]["count"] for r in map(json.loads, open(sys.argv[1]))
          if r["kind"] == "gap" and r["fields"]["reason"] == sys.argv[2]
          and r["fields"].get("node", "") == sys.argv[3]))' "$TMP/export" "$1" "$2"
}

# ---------------------------------------------------------------- run 3
# Run 2 ended cleanly at 170; run 3 starts at 180: 171-179 were not seen.
before=$(count_gaps plugin-restart "")
gen 180 181 >"$TMP/run3.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$B1" <"$TMP/run3.stream"
[ "$rc" -eq 0 ] || fail_cmd "run 3: plugin exited $rc"
after=$(count_gaps plugin-restart "")
[ "$((after - before))" -eq 9 ] || fail "run 3: plugin-restart gaps count $((after - before)), 9 serials (171-179) were not seen"
pass "a clean stop and a start: the 9 serials not seen in between counted"

# ---------------------------------------------------------------- run 4, 5
# Another boot: serials start again at 5; nothing is counted.  Then, on
# that boot, node far starts again (its counter below the one judged):
# nothing made up either.
all_before=$(export_json; "$PYTHON3" -c '
import json, sys
print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "gap"))' "$TMP/export")
{ gen 5 6 7; gen node=far $(seq 1016 1020); } >"$TMP/run4.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$B2" <"$TMP/run4.stream"
[ "$rc" -eq 0 ] || fail_cmd "run 4: plugin exited $rc"
{ gen 8 9; gen node=far 3 4; } >"$TMP/run5.stream"
run_cmd "$PA_PLUGIN" --dir "$L" --boot-id "$B2" <"$TMP/run5.stream"
[ "$rc" -eq 0 ] || fail_cmd "run 5: plugin exited $rc"
export_json
all_after=$("$PYTHON3" -c '
import json, sys
print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r["kind"] == "gap"))' "$TMP/export")
[ "$all_after" -eq "$all_before" ] ||
	fail "another boot, or a node's counter started again: $((all_after - all_before)) gap records made up ($(grep '"gap"' "$TMP/export" | tail -n 2))"
recorded far 4 || fail "run 5: event far:4 not recorded"
pass "another boot, a node's counter started again: no gap made up"

verify_ok "$L"
pass "the log verifies"
