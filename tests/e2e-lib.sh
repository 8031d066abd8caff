# SPDX-License-Identifier: ISC
# e2e-lib.sh: helpers shared by the end-to-end tests (sourced, not run).
# Environment: PRIVAUDIT (the CLI), PAREF (tests/paref.py), PYTHON3,
# PA_WRITER (tests/pa-writer).  Exit statuses follow automake: 0 pass,
# 1 fail, 77 skip.

set -u

pa_test=$(basename "$0" .sh)
pa_here=$(cd "$(dirname "$0")" && pwd)
PYTHON3=${PYTHON3:-python3}
PAREF=${PAREF:-$pa_here/paref.py}
PRIVAUDIT=${PRIVAUDIT:-}
PA_WRITER=${PA_WRITER:-}
# A hung verifier or writer must fail the test, not stall make check.
PA_TIMEOUT=${PA_TIMEOUT:-60}

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $pa_test: $*" >&2; exit 1; }
skip() { say "SKIP: $pa_test: $*" >&2; exit 77; }
pass() { say "ok - $*"; }

# Show what the last run_cmd printed, for the log of a failing test.
show_last() {
	say "--- exit $rc; stdout:" >&2
	head -c 4000 "$TMP/out" >&2
	say "--- stderr:" >&2
	head -c 4000 "$TMP/err" >&2
	say "---" >&2
}

fail_cmd() { show_last; fail "$*"; }

need_python() {
	command -v "$PYTHON3" >/dev/null 2>&1 || skip "no python3 ($PYTHON3)"
	[ -r "$PAREF" ] || skip "paref.py not found ($PAREF)"
	command -v timeout >/dev/null 2>&1 || skip "no timeout(1)"
}

need_privaudit() {
	need_python
	[ -n "$PRIVAUDIT" ] || skip "PRIVAUDIT is not set"
	[ -x "$PRIVAUDIT" ] || skip "PRIVAUDIT=$PRIVAUDIT is not executable"
}

need_writer() {
	[ -n "$PA_WRITER" ] || skip "PA_WRITER is not set"
	[ -x "$PA_WRITER" ] || skip "PA_WRITER=$PA_WRITER is not executable"
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Tests that change the host (PAM files, users, sudoers, kernel audit)
# take this lock first and hold it to the end, so that make -j check runs
# them one at a time: one test's users or PAM stack must not be seen, or
# undone, by another's.
pa_host_lock() {
	command -v flock >/dev/null 2>&1 || skip "no flock(1)"
	exec 9>>/run/privaudit-host-tests.lock || fail "cannot open the host-test lock"
	flock 9 || fail "cannot take the host-test lock"
}

# privauditd, the host's writer for PAM records (PRIVAUDITD, set by make
# check).  pa_daemon_start LOG SOCKET [ARGS...] starts it in the
# foreground, in the background, its standard error in $TMP/privauditd.err,
# stopped at exit; it returns once the socket is there (connections made
# from then on wait in its backlog while it opens the log).
PRIVAUDITD=${PRIVAUDITD:-}
PAWIRE=${PAWIRE:-$pa_here/pawire.py}
pa_daemon_pid=""
need_daemon() {
	[ -n "$PRIVAUDITD" ] || skip "PRIVAUDITD is not set"
	[ -x "$PRIVAUDITD" ] || skip "PRIVAUDITD=$PRIVAUDITD is not executable"
}
pa_daemon_start() {
	pa_d_log=$1 pa_d_sock=$2
	shift 2
	rm -f "$pa_d_sock"
	"$PRIVAUDITD" --dir "$pa_d_log" --socket "$pa_d_sock" --foreground "$@" \
		2>>"$TMP/privauditd.err" &
	pa_daemon_pid=$!
	on_exit "kill -9 $pa_daemon_pid"
	pa_d_i=0
	while [ ! -S "$pa_d_sock" ]; do
		pa_d_i=$((pa_d_i + 1))
		kill -0 "$pa_daemon_pid" 2>/dev/null || { cat "$TMP/privauditd.err" >&2; fail "privauditd exited at start"; }
		[ "$pa_d_i" -lt 200 ] || fail "privauditd made no socket in 10 s"
		sleep 0.05
	done
}
# Stop it as systemd would (SIGTERM: seal, exit); fails when it does not
# exit 0.
pa_daemon_stop() {
	[ -n "$pa_daemon_pid" ] || return 0
	kill -TERM "$pa_daemon_pid" 2>/dev/null
	wait "$pa_daemon_pid" || fail "privauditd exited $? on SIGTERM"
	pa_daemon_pid=""
}

# Cleanup: commands registered with on_exit run first (last in, first out),
# then the temporary directory goes.
pa_exit_cmds=""
on_exit() { pa_exit_cmds="$*; $pa_exit_cmds"; }
pa_cleanup() {
	trap - EXIT INT TERM HUP
	eval "$pa_exit_cmds" >/dev/null 2>&1
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		chmod -R u+rwX "$TMP" 2>/dev/null
		rm -rf "$TMP"
	fi
}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pa-$pa_test.XXXXXX") || fail "mktemp -d"
trap 'rc_=$?; pa_cleanup; exit $rc_' EXIT
# A signal (the harness's timeout, or ^C) fails the test; it says what was
# running then, so a hang in CI points at its command.
pa_signalled() {
	say "FAIL: $pa_test: $1 while running: ${2%%$'\n'*}" >&2
	pa_cleanup
	exit 1
}
trap 'pa_signalled SIGINT "${BASH_COMMAND:-}"' INT
trap 'pa_signalled SIGTERM "${BASH_COMMAND:-}"' TERM
trap 'pa_signalled SIGHUP "${BASH_COMMAND:-}"' HUP

# run_cmd CMD...: run with a timeout, output to $TMP/out and $TMP/err,
# status in $rc.  Standard input is inherited.
run_cmd() {
	timeout -k 5 "$PA_TIMEOUT" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail_cmd "timed out after ${PA_TIMEOUT}s: $*"
	fi
	if [ "$rc" -ge 128 ]; then
		fail_cmd "killed by signal $((rc - 128)): $*"
	fi
	return 0
}

pa() { run_cmd "$PRIVAUDIT" "$@"; }
paref() { "$PYTHON3" "$PAREF" "$@"; }

# expect RC CMD...: run CMD, fail unless it exits with RC.
expect() {
	want=$1
	shift
	run_cmd "$@"
	[ "$rc" -eq "$want" ] || fail_cmd "expected exit $want from: $*"
}

# pa_init DIR [ARGS]: create a log, keep its key off the log as DIR.vkey
# (what an auditor would pin).
pa_init() {
	d=$1
	shift
	expect 0 "$PRIVAUDIT" init "$d" "$@"
	cp "$TMP/out" "$d.vkey"
}

# verify_ok DIR [ARGS]: verify pinned to DIR.vkey must succeed.
verify_ok() {
	d=$1
	shift
	run_cmd "$PRIVAUDIT" verify "$d" --key "$d.vkey" "$@"
	[ "$rc" -eq 0 ] || fail_cmd "verify $d: expected exit 0"
	grep -q '^result: *OK' "$TMP/out" || fail_cmd "verify $d: no 'result: OK' line"
}

# verify_fails WANT DIR [ARGS]: verify must exit WANT (a number or a list
# "3|4") with a "result: FAILED" line, and --json must agree (ok false, the
# same exit).  Sets bad_index, bad_segment, bad_offset from the "first bad:"
# line ("" when there is none) and checks --json's first_bad matches it.
# Leaves the text output in $TMP/out.
verify_fails() {
	want=$1
	d=$2
	shift 2
	run_cmd "$PRIVAUDIT" verify "$d" "$@" --json
	cp "$TMP/out" "$TMP/json"
	run_cmd "$PRIVAUDIT" verify "$d" "$@"
	got=$rc
	case "|$want|" in
	*"|$got|"*) ;;
	*) fail_cmd "verify $d $*: expected exit $want" ;;
	esac
	grep -q '^result: *FAILED' "$TMP/out" || fail_cmd "verify $d: no 'result: FAILED' line"
	line=$(sed -n 's/^first bad: *record \([0-9][0-9]*\) (segment \([0-9][0-9]*\), offset \([0-9][0-9]*\)).*$/\1 \2 \3/p' "$TMP/out")
	bad_index="" bad_segment="" bad_offset=""
	if [ -n "$line" ]; then
		read -r bad_index bad_segment bad_offset <<EOT
$line
EOT
	fi
	json=$("$PYTHON3" -c '
import json, sys
j = json.load(open(sys.argv[1]))
fb = j["first_bad"]
assert j["ok"] is False, "ok is not false"
assert j["exit"] == int(sys.argv[2]), "exit %r" % j["exit"]
print("" if fb is None else "%d %d %d" % (fb["index"], fb["segment"], fb["offset"]))
' "$TMP/json" "$got" 2>&1) || fail "verify --json of $d: $json: $(head -c 2000 "$TMP/json")"
	[ "$json" = "$line" ] ||
		fail "verify --json first_bad ($json) differs from the text output ($line)"
}

# verify_bad WANT DIR [ARGS]: verify_fails, and a "first bad:" line is required.
verify_bad() {
	verify_fails "$@"
	[ -n "$bad_index" ] || fail_cmd "verify $2: no 'first bad: record I (segment S, offset O)' line"
}

# frame_at DIR INDEX: "segment offset" of the frame holding record INDEX.
frame_at() {
	paref frames "$1" 2>/dev/null | awk -v i="$2" '$1 == i { print $2, $3; exit }'
}

# frame_pos DIR POS: "index segment offset" of the POS-th frame in file
# order (0-based), whatever index it holds.
frame_pos() {
	paref frames "$1" 2>/dev/null | awk -v p="$2" 'NR == p + 1 { print $1, $2, $3; exit }'
}

# record_count DIR: number of complete frames.
record_count() { paref frames "$1" 2>/dev/null | wc -l | tr -d ' '; }

# check_writers TEXTS SPEC...: each SPEC is ID:MIN or ID:=N.  For writer
# ID, the records "w<ID>-<k>" in TEXTS (paref texts output) must be
# exactly k = 0..m-1 in order, each once, with m >= MIN (or m == N).
# Also fails on any duplicated line starting with "w".
check_writers() {
	texts=$1
	shift
	"$PYTHON3" - "$texts" "$@" <<'EOF' || fail "writer records wrong (see above)"
import re, sys
lines = open(sys.argv[1], encoding="ascii", errors="replace").read().split("\n")
seen = {}
bad = []
for l in lines:
    m = re.fullmatch(r"w(\d+)-(\d+)", l)
    if m:
        seen.setdefault(m.group(1), []).append(int(m.group(2)))
for spec in sys.argv[2:]:
    wid, want = spec.split(":")
    ks = seen.get(wid, [])
    m = len(ks)
    if ks != list(range(m)):
        dup = sorted(k for k in set(ks) if ks.count(k) > 1)
        missing = sorted(set(range(max(ks) + 1 if ks else 0)) - set(ks))
        bad.append("writer %s: %d records, duplicated %s, missing %s, in order: %s"
                   % (wid, m, dup[:10], missing[:10], ks == sorted(ks)))
    elif want.startswith("="):
        if m != int(want[1:]):
            bad.append("writer %s: %d records, expected %s" % (wid, m, want[1:]))
    elif m < int(want):
        bad.append("writer %s: %d records, but %s were committed" % (wid, m, want))
extra = set(seen) - {s.split(":")[0] for s in sys.argv[2:]}
if extra:
    bad.append("records from unknown writers %s" % sorted(extra)[:10])
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# last_committed FILE: the n of the last "committed n" line pa-writer printed.
last_committed() {
	n=$(grep -a '^committed [0-9][0-9]*$' "$1" 2>/dev/null | tail -n 1 | cut -d' ' -f2)
	say "${n:-0}"
}

# json_get FILE EXPR: evaluate a python expression over the JSON object j.
json_get() {
	"$PYTHON3" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
