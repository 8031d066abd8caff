#!/bin/sh
# SPDX-License-Identifier: ISC
# bench-sudo.sh: what pam_privaudit.so and privauditd add to a real
# `sudo -n true`, sequential and under 64 concurrent loops, measured
# interleaved in one run against the same sudo without the module.
#
#   bench/bench-sudo.sh [BUILD_DIR]          # as root; takes a few minutes
#
# BUILD_DIR: a built privaudit build directory (default: the current one).
# Environment: ROUNDS (default 7) rounds of RUNS (default 200) runs per
# configuration; CONC (default 64) concurrent loops for CONC_SECONDS
# (default 10) per phase; BENCH_DIR, parent of the temporary log (default
# /var/tmp: a real disk, on tmpfs fdatasync costs nothing).
#
# How: /etc/pam.d/sudo is left alone.  Three copies of /bin/true in the
# work directory each get a PAM service of their own through a sudoers
# drop-in (`Defaults!CMD pam_service=...`), so only these commands see
# the test stacks and every other sudo on the machine keeps the real one:
#   pa-bench-sudo-without   a copy of /etc/pam.d/sudo
#   pa-bench-sudo-sync-no   the same + the module with sync=no
#   pa-bench-sudo-sync-yes  the same + the module with sync=yes
# The module talks to a privauditd started here on a private log and
# socket.  The three configurations alternate run by run, in an order that
# changes each run and each round, so a slow spell of the shared machine
# falls on all three alike.  A raw write(300 B)+fdatasync on the log's
# filesystem is measured in the same rounds: the unit of the sync=yes
# target.  At the end the log must verify and hold exactly one
# session_open per sudo run made with the module.
set -eu

BUILD=""
case "${1:-}" in
"") ;;
-*) echo "usage: bench/bench-sudo.sh [BUILD_DIR]" >&2; exit 2 ;;
*) BUILD=$1 ;;
esac
BUILD=$(cd "${BUILD:-.}" && pwd)
MOD=$BUILD/pam_privaudit/.libs/pam_privaudit.so
PRIVAUDIT=$BUILD/cli/privaudit
PRIVAUDITD=$BUILD/privauditd/privauditd
BENCH_DIR=${BENCH_DIR:-/var/tmp}
ROUNDS=${ROUNDS:-7}
RUNS=${RUNS:-200}
CONC=${CONC:-64}
CONC_SECONDS=${CONC_SECONDS:-10}

die() { echo "bench-sudo.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (a sudoers drop-in and service files in /etc/pam.d)"
for f in "$MOD" "$PRIVAUDIT" "$PRIVAUDITD"; do
	[ -e "$f" ] || die "$f missing: build first (make -C $BUILD)"
done
for t in sudo visudo python3; do
	command -v "$t" >/dev/null 2>&1 || die "needs $t"
done
SUDO=$(command -v sudo)
[ -f /etc/pam.d/sudo ] || die "no /etc/pam.d/sudo to copy"
grep -Eq '^[#@]includedir[[:space:]]+/etc/sudoers.d' /etc/sudoers 2>/dev/null ||
	die "/etc/sudoers does not include /etc/sudoers.d"
"$SUDO" -V 2>/dev/null | grep -q '^PAM service name to use' ||
	die "this sudo does not list a PAM service setting (sudo -V): no pam_service"
for n in "$ROUNDS" "$RUNS" "$CONC" "$CONC_SECONDS"; do
	[ "$n" -ge 1 ] 2>/dev/null || die "ROUNDS, RUNS, CONC and CONC_SECONDS must be positive integers"
done
fstype=$(findmnt -n -o FSTYPE -T "$BENCH_DIR" 2>/dev/null || stat -f -c %T "$BENCH_DIR")
[ "$fstype" = tmpfs ] && echo "warning: $BENCH_DIR is on tmpfs: fdatasync costs nothing there" >&2

SUDOERS=/etc/sudoers.d/pa-bench-sudo
SVCS="pa-bench-sudo-without pa-bench-sudo-sync-no pa-bench-sudo-sync-yes"
for f in $SUDOERS $(for s in $SVCS; do echo "/etc/pam.d/$s"; done); do
	[ -e "$f" ] && die "$f exists: left by an earlier run? remove it first"
done

work=$(mktemp -d "$BENCH_DIR/privaudit-bench-sudo.XXXXXX")
made="" dpid="" ppid_=""
cleanup() {
	trap - EXIT INT TERM HUP
	set +e   # a failing step must not stop the others
	if [ -n "$ppid_" ]; then kill -TERM "$ppid_" 2>/dev/null; wait "$ppid_" 2>/dev/null; fi
	# the drop-in first ($made's order): without it no sudo looks for the services
	for f in $made; do rm -f "$f"; done
	if [ -n "$dpid" ]; then kill -9 "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; fi
	rm -rf "$work"
}
# shellcheck disable=SC2154
trap 'rc_=$?; cleanup; exit $rc_' EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP

LOG=$work/log
SOCK=$work/privauditd.sock
"$PRIVAUDIT" init "$LOG" >/dev/null || die "privaudit init failed"
: >"$work/privauditd.conf"   # the host's /etc/privaudit/privauditd.conf stays out of it
"$PRIVAUDITD" --dir "$LOG" --socket "$SOCK" --config "$work/privauditd.conf" --foreground \
	2>"$work/privauditd.err" &
dpid=$!
i=0
while [ ! -S "$SOCK" ]; do
	i=$((i + 1))
	kill -0 "$dpid" 2>/dev/null || { cat "$work/privauditd.err" >&2; die "privauditd exited at start"; }
	[ "$i" -lt 200 ] || die "privauditd made no socket in 10 s"
	sleep 0.05
done

mkdir "$work/bin"
chmod 755 "$work" "$work/bin"
umask 022
for s in without sync-no sync-yes; do
	cp /bin/true "$work/bin/true-$s"
	svc=/etc/pam.d/pa-bench-sudo-$s
	made="$svc $made"
	cp /etc/pam.d/sudo "$svc"
	case $s in
	sync-no) echo "session optional $MOD socket=$SOCK sync=no" >>"$svc" ;;
	sync-yes) echo "session optional $MOD socket=$SOCK sync=yes" >>"$svc" ;;
	esac
done
made="$SUDOERS $made"
{
	echo "# privaudit bench/bench-sudo.sh: removed when it exits"
	for s in without sync-no sync-yes; do
		echo "Defaults!$work/bin/true-$s pam_service=pa-bench-sudo-$s"
	done
} >"$work/sudoers"
chmod 0440 "$work/sudoers"
visudo -cqf "$work/sudoers" >/dev/null || die "visudo rejects the drop-in"
cp -p "$work/sudoers" "$SUDOERS"
visudo -cq >/dev/null || die "visudo -c fails with the drop-in in place"
for s in without sync-no sync-yes; do   # once each: measure.py counts these
	"$SUDO" -n -u root "$work/bin/true-$s" </dev/null || die "sudo -n $work/bin/true-$s failed"
done

echo "== sudo -n true: $("$SUDO" -V | head -n 1), $ROUNDS rounds x $RUNS runs per configuration, interleaved; log in $BENCH_DIR ($fstype); load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
cat >"$work/measure.py" <<'EOF'
import os, signal, sys, time

work, sudo = sys.argv[1], sys.argv[2]
rounds, runs, conc, conc_s = (int(a) for a in sys.argv[3:7])
CONFS = ("without", "sync-no", "sync-yes")
workers = []

def on_term(signum, frame):
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    os._exit(128 + signum)

signal.signal(signal.SIGTERM, on_term)
devnull = os.open(os.devnull, os.O_RDWR)
errpath = os.path.join(work, "sudo.err")
errfd = os.open(errpath, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1),
           (os.POSIX_SPAWN_DUP2, errfd, 2)]

def sudo_run(conf):
    """One sudo -n -u root true-CONF; its wall time in ns, or -1 when it failed."""
    t = time.perf_counter_ns()
    pid = os.posix_spawn(sudo, ["sudo", "-n", "-u", "root", os.path.join(work, "bin", "true-" + conf)],
                         os.environ, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    ns = time.perf_counter_ns() - t
    return ns if os.waitstatus_to_exitcode(status) == 0 else -1

def failed(conf):
    with open(errpath) as f:
        tail = f.read()[-2000:]
    sys.exit("sudo with %s failed: %s" % (conf, tail))

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]

flush_fd = os.open(os.path.join(work, "raw"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
REC = b"x" * 299 + b"\n"
def flush():
    t = time.perf_counter_ns()
    os.write(flush_fd, REC)
    os.fdatasync(flush_fd)
    return time.perf_counter_ns() - t

# the script's set-up ran each configuration once
with_runs = {"set-up": 2, "warm-up": 0, "timed sync=no": 0, "timed sync=yes": 0, "concurrent": 0}
for _ in range(5):                      # page cache, dynamic loader, the daemon's first commits
    for c in CONFS:
        if sudo_run(c) < 0:
            failed(c)
        if c != "without":
            with_runs["warm-up"] += 1

# --- sequential, interleaved run by run
t_all = {c: [] for c in CONFS}
round_added = {c: [] for c in CONFS}
flush_loop, flush_paced = [], []
orders = [CONFS[i:] + CONFS[:i] for i in range(3)]
orders += [tuple(reversed(o)) for o in orders]
for r in range(rounds):
    t_round = {c: [] for c in CONFS}
    flush_first = r % 2 == 0
    if flush_first:
        flush_loop += [flush() for _ in range(runs)]
    for i in range(runs):
        for c in orders[(r + i) % len(orders)]:
            ns = sudo_run(c)
            if ns < 0:
                failed(c)
            t_round[c].append(ns)
        flush_paced.append(flush())    # one at the pace of the sudo runs
    if not flush_first:
        flush_loop += [flush() for _ in range(runs)]
    base = pct(t_round["without"], 50)
    for c in CONFS:
        t_all[c] += t_round[c]
        round_added[c].append((pct(t_round[c], 50) - base) / base * 100)
with_runs["timed sync=no"] = len(t_all["sync-no"])
with_runs["timed sync=yes"] = len(t_all["sync-yes"])

# --- concurrent loops: ABBA, so a drift of the machine's load cancels
def phase(conf, seconds):
    r, w = os.pipe()
    start = time.perf_counter()
    deadline = start + seconds
    for _ in range(conc):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(r)
            ok = bad = 0
            while time.perf_counter() < deadline:
                if sudo_run(conf) < 0:
                    bad += 1
                else:
                    ok += 1
            os.write(w, b"%d %d\n" % (ok, bad))
            os._exit(0)
        workers.append(pid)
    os.close(w)
    for pid in workers:
        os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    workers.clear()
    with os.fdopen(r) as f:
        counts = [tuple(int(x) for x in l.split()) for l in f]
    if len(counts) != conc:
        sys.exit("concurrent phase %s: %d of %d loops reported" % (conf, len(counts), conc))
    return sum(c[0] for c in counts), sum(c[1] for c in counts), elapsed

conc_runs = {"without": [0, 0, 0.0], "sync-yes": [0, 0, 0.0]}
for c in ("without", "sync-yes", "sync-yes", "without"):
    ok, bad, el = phase(c, conc_s)
    conc_runs[c][0] += ok
    conc_runs[c][1] += bad
    conc_runs[c][2] += el
    if bad and c == "sync-yes":
        failed(c)
with_runs["concurrent"] = conc_runs["sync-yes"][0]

# --- report
ms = lambda ns: ns / 1e6
n = rounds * runs
print("raw write(300 B)+fdatasync beside the log, back to back: median %.2f ms, p99 %.2f ms (%d runs)"
      % (ms(pct(flush_loop, 50)), ms(pct(flush_loop, 99)), len(flush_loop)))
print("raw write(300 B)+fdatasync beside the log, one per 3 sudo runs: median %.2f ms, p99 %.2f ms (%d runs)"
      % (ms(pct(flush_paced, 50)), ms(pct(flush_paced, 99)), len(flush_paced)))
label = {"without": "without the module ", "sync-no": "module sync=no     ", "sync-yes": "module sync=yes    "}
for c in CONFS:
    print("sudo -n true, %s: median %6.2f ms, p99 %6.2f ms (%d runs)"
          % (label[c], ms(pct(t_all[c], 50)), ms(pct(t_all[c], 99)), len(t_all[c])))
base = pct(t_all["without"], 50)
fs = min(pct(flush_loop, 50), pct(flush_paced, 50))
fs_max = max(pct(flush_loop, 50), pct(flush_paced, 50))
verdict = lambda ok: "met" if ok else "MISSED"
for c in ("sync-no", "sync-yes"):
    add = pct(t_all[c], 50) - base
    add99 = pct(t_all[c], 99) - base
    print("%s added: median %.2f ms = %.1f%% of sudo's median (rounds: %.1f%% to %.1f%%), p99 %.2f ms"
          % (c.replace("-", "="), ms(add), add / base * 100, min(round_added[c]), max(round_added[c]), ms(add99)))
add_no = pct(t_all["sync-no"], 50) - base
add_yes = pct(t_all["sync-yes"], 50) - base
print("target sync=no: added median <= 5%% of sudo's median (%.2f ms): %s"
      % (ms(0.05 * base), verdict(add_no <= 0.05 * base)))
print("target sync=yes: added median <= one fdatasync + 5%% of sudo's median (%.2f + %.2f ms, the back-to-back"
      " fdatasync; %.2f + %.2f with the paced one): %s / %s"
      % (ms(fs), ms(0.05 * base), ms(fs_max), ms(0.05 * base),
         verdict(add_yes <= fs + 0.05 * base), verdict(add_yes <= fs_max + 0.05 * base)))
w_rate = conc_runs["without"][0] / conc_runs["without"][2]
y_rate = conc_runs["sync-yes"][0] / conc_runs["sync-yes"][2]
print("%d concurrent sudo loops, 2 x %d s each (ABBA): without the module %.1f sessions/s, with sync=yes"
      " %.1f sessions/s (%d sudo failures without): ratio %.3f, target >= 0.8: %s"
      % (conc, conc_s, w_rate, y_rate, conc_runs["without"][1], y_rate / w_rate, verdict(y_rate / w_rate >= 0.8)))
with open(os.path.join(work, "counts"), "w") as f:
    f.write("%d %d %s\n" % (sum(with_runs.values()),
                            with_runs["timed sync=no"] + (with_runs["set-up"] + with_runs["warm-up"]) // 2,
                            " ".join("%s: %d," % kv for kv in with_runs.items()).rstrip(",")))
EOF
python3 "$work/measure.py" "$work" "$SUDO" "$ROUNDS" "$RUNS" "$CONC" "$CONC_SECONDS" &
ppid_=$!
wait "$ppid_" || { rc=$?; ppid_=""; die "the measurement failed ($rc)"; }
ppid_=""

# The records are really there: stop the daemon as systemd would (it
# seals), verify, and count one session_open per sudo run with the module.
kill -TERM "$dpid"
wait "$dpid" || { rc=$?; dpid=""; cat "$work/privauditd.err" >&2; die "privauditd exited $rc on SIGTERM"; }
dpid=""
"$PRIVAUDIT" verify "$LOG" --key "$LOG/log.pub" >/dev/null || die "the log does not verify"
"$PRIVAUDIT" show "$LOG" --kind session_open >"$work/opens" || die "privaudit show failed"
read -r want want_no detail <"$work/counts"
got=$(grep -c ' service=pa-bench-sudo-sync-' "$work/opens" || true)
got_no=$(grep -c ' service=pa-bench-sudo-sync-no ' "$work/opens" || true)
got_without=$(grep -c ' service=pa-bench-sudo-without ' "$work/opens" || true)
ok=yes
[ "$got" -eq "$want" ] && [ "$got_no" -eq "$want_no" ] && [ "$got_without" -eq 0 ] || ok=NO
echo "log: verified; session_open records: $got for $want sudo runs with the module ($detail), $got_without without: $([ $ok = yes ] && echo match || echo MISMATCH)"
[ $ok = yes ] || exit 1
