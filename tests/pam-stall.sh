#!/bin/bash
# SPDX-License-Identifier: ISC
# pam-stall.sh: a user cannot stall the log for others.  While one test
# user's own sudo is stopped inside its session open (SIGSTOP sent by that
# user; ^Z typed on that user's terminal, a pty driving bash) and three
# clients are stopped mid-exchange with privauditd (connected and silent,
# half a request sent, a whole request sent and its answer unread), another
# user's real `sudo -n true` sessions are recorded and each takes well under
# a second.  Once everything goes on, the stopped sudos finish with their
# sessions recorded, the daemon has hung up on the silent and the half
# clients (nothing of theirs recorded), the whole one reads its OK, and the
# log verifies after privauditd's SIGTERM seal.  Needs root (exit 77
# otherwise).
#
# sudo reaches the module through a PAM service of the test's own
# (sudoers' pam_service= for the two test users), so the host's sudo and
# su stacks are untouched; the test users, /etc/pam.d/privaudit-stall and
# /etc/sudoers.d/privaudit-stall are removed at exit and the account files
# compared before and after.
#
# To stop each sudo at a known point, inside the module's wait for the
# daemon's answer, privauditd itself is stopped for a moment while they
# connect (their requests wait in its socket backlog); the other user's
# sessions are timed only after it runs again.

. "$(dirname "$0")/e2e-lib.sh"

is_root || skip "needs root"
pa_host_lock
need_privaudit
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"
top_builddir=${top_builddir:-.}
PAM_MODULE=${PAM_MODULE:-$top_builddir/pam_privaudit/.libs/pam_privaudit.so}
case $PAM_MODULE in /*) ;; *) PAM_MODULE=$(pwd)/$PAM_MODULE ;; esac
[ -f "$PAM_MODULE" ] || fail "module not built: $PAM_MODULE"
ldd "$PAM_MODULE" 2>/dev/null | grep -q 'libasan\.so' && skip "sanitizer build: sudo cannot load an ASan module"
for t in sudo visudo useradd userdel getent bash; do
	command -v "$t" >/dev/null 2>&1 || skip "no $t (Debian: sudo passwd bash)"
done
[ -r /proc/net/unix ] || skip "no /proc/net/unix"
grep -Eq '^[#@]includedir[[:space:]]+/etc/sudoers.d' /etc/sudoers 2>/dev/null ||
	skip "/etc/sudoers does not include /etc/sudoers.d"

SVC=/etc/pam.d/privaudit-stall
SUDOERS=/etc/sudoers.d/privaudit-stall
[ -e "$SVC" ] && fail "$SVC exists: left by an earlier run? remove it first"
[ -e "$SUDOERS" ] && fail "$SUDOERS exists: left by an earlier run? remove it first"
TU=pastall$$    # stops its own sudo
TU2=paother$$   # the other user, whose sessions must not wait
for u in "$TU" "$TU2"; do
	getent passwd "$u" >/dev/null 2>&1 && fail "user $u exists already"
done
account_files="/etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/subuid /etc/subgid"
sums() {
	for f in $account_files; do
		[ -f "$f" ] && printf '%s %s\n' "$f" "$(cksum <"$f")"
	done
}
sums >"$TMP/accounts.before"

LOG=$TMP/log
SOCK=$TMP/privauditd.sock
pa_init "$LOG"
pa_daemon_start "$LOG" "$SOCK"
# whatever the driver leaves stopped, should it die
on_exit "kill -CONT $pa_daemon_pid"
on_exit 'for p in $(cat "$TMP/pids" 2>/dev/null); do kill -9 $p; kill -CONT $p; done'

# undo: users, sudoers drop-in, service file; 0 when all is as it was
undo() {
	u_bad=""
	rm -f "$SUDOERS" "$SVC"
	for u in "$TU" "$TU2"; do
		if getent passwd "$u" >/dev/null 2>&1; then
			userdel "$u" >/dev/null 2>&1 || u_bad="$u_bad userdel:$u"
		fi
		getent group "$u" >/dev/null 2>&1 && groupdel "$u" >/dev/null 2>&1
		rm -f "/run/sudo/ts/$u" "/var/lib/sudo/lectured/$u"
	done
	sums >"$TMP/accounts.after"
	cmp -s "$TMP/accounts.before" "$TMP/accounts.after" || u_bad="$u_bad account-files"
	[ -z "$u_bad" ] || say "could not put back:$u_bad" >&2
	[ -z "$u_bad" ]
}
on_exit undo
for u in "$TU" "$TU2"; do
	expect 0 useradd -M -s /bin/sh "$u"
done
umask 0337
cat >"$SUDOERS" <<EOF
# privaudit-test: added by $pa_test, removed when it ends
Defaults:$TU, $TU2 pam_service=privaudit-stall, !lecture, !requiretty
$TU, $TU2 ALL=(root) NOPASSWD: /usr/bin/true, /bin/true
EOF
umask 022
chmod 0440 "$SUDOERS"
expect 0 visudo -cf "$SUDOERS"
cat >"$SVC" <<EOF
# privaudit-test: added by $pa_test, removed when it ends
auth     required pam_deny.so
account  required pam_permit.so
session  required $PAM_MODULE socket=$SOCK failmode=closed
session  required pam_permit.so
EOF

cat >"$TMP/stall.py" <<'EOF'
import json, os, pty, pwd, select, signal, socket, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.environ["PAWIRE"]))
import pawire

dpid, sock, tu, tu2, pidfile, out = sys.argv[1:7]
dpid = int(dpid)
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "HOME": "/", "TERM": "dumb"}
spawned = []

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def track(pid):
    spawned.append(pid)
    with open(pidfile, "a") as f:
        f.write("%d\n" % pid)

def backlog():
    """Connections to the daemon's socket it has not accepted (it is stopped)."""
    with open("/proc/net/unix") as f:
        return sum(1 for l in f if l.rstrip().endswith(" " + sock)) - 1

def state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"

def sigs(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return " ".join(l.strip() for l in f if l.startswith(("SigBlk", "SigIgn", "SigCgt", "State")))
    except OSError:
        return "gone"

def wait_until(cond, secs, what):
    end = time.monotonic() + secs
    while not cond():
        if time.monotonic() > end:
            fail("timed out waiting for " + what)
        time.sleep(0.005)

def become(name):
    pw = pwd.getpwnam(name)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)

def user_kill(name, pid, sig):
    """kill(2) as that user: True when the kernel let it."""
    child = os.fork()
    if child == 0:
        try:
            become(name)
            os.kill(pid, sig)
            os._exit(0)
        except PermissionError:
            os._exit(1)
        except BaseException:
            os._exit(2)
    return os.waitpid(child, 0)[1] == 0

def sudo(user):
    pw = pwd.getpwnam(user)
    return subprocess.Popen(["sudo", "-n", "true"], user=pw.pw_uid, group=pw.pw_gid,
                            extra_groups=[], env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

def timed_sudo(user):
    t0 = time.monotonic()
    p = sudo(user)
    o, _ = p.communicate(timeout=30)
    return {"pid": p.pid, "rc": p.returncode, "s": time.monotonic() - t0, "out": o.decode("ascii", "replace")}

def others(n, loops):
    res, threads = [], []
    def loop():
        for _ in range(n):
            res.append(timed_sudo(tu2))
    for _ in range(loops):
        t = threading.Thread(target=loop)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return res

def check_others(res, what):
    bad = [r for r in res if r["rc"] != 0 or r["out"]]
    if bad:
        fail("%s: sudo -n true by %s: %r" % (what, tu2, bad[0]))
    return max(r["s"] for r in res)

class Term:
    """bash -i as the user on a pty: the user's terminal, job control and all."""
    def __init__(self, user):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                become(user)
                env = dict(ENV, PS1="$ ")
                os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"], env)
            finally:
                os._exit(127)
        track(self.pid)
        self.buf = b""
    def read_until(self, what, secs=10):
        end = time.monotonic() + secs
        while what not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                fail("terminal: no %r in %r" % (what, self.buf[-300:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    d = os.read(self.fd, 4096)
                except OSError:
                    d = b""
                if not d:
                    fail("terminal closed before %r: %r" % (what, self.buf[-300:]))
                self.buf += d
        i = self.buf.index(what) + len(what)
        seen, self.buf = self.buf[:i], self.buf[i:]
        return seen
    def type(self, s):
        os.write(self.fd, s)
    def child(self, comm):
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                name = st[st.index("(") + 1:st.rindex(")")]
                ppid = int(st.rsplit(")", 1)[1].split()[1])
                if ppid == self.pid and name == comm:
                    return int(d)
        return None

def wire_stall(mode, key, resfile):
    """A client of the daemon's that stops itself mid-exchange."""
    pid = os.fork()
    if pid:
        track(pid)
        return pid
    res = "error"
    try:
        req = pawire.request("session_open", [("service", "privaudit-stall"), ("user", "root"),
                                              ("pid", os.getpid()), ("session_key", key)], pawire.SYNC)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        if mode == "half":
            s.sendall(req[:len(req) // 2])
        elif mode == "whole":
            s.sendall(req)
        os.kill(os.getpid(), signal.SIGSTOP)
        s.settimeout(5)
        try:
            if mode == "half":
                s.sendall(req[len(req) // 2:])
            elif mode == "silent":
                s.sendall(req)
            ans = pawire.read_answer(s)
            res = "closed" if ans is None else "answer %d" % ans[0]
        except OSError as e:
            res = "closed (%s)" % (e.strerror or e)
    finally:
        with open(resfile, "w") as f:
            f.write(res)
        os._exit(0)

result = {}
try:
    # what "normal time" is here
    base = others(10, 1)
    result["baseline_max_s"] = check_others(base, "baseline")

    os.kill(dpid, signal.SIGSTOP)
    try:
        b0 = backlog()
        # the user's own sudo, stopped by the user in the module's wait
        a = sudo(tu)
        track(a.pid)
        wait_until(lambda: backlog() >= b0 + 1, 15, "the user's sudo to reach privauditd")
        if not user_kill(tu, a.pid, signal.SIGSTOP):
            fail("%s may not SIGSTOP its own sudo" % tu)
        wait_until(lambda: state(a.pid) == "T", 5, "sudo to stop on SIGSTOP")
        # the same user's sudo on its terminal, ^Z typed in the module's wait
        term = Term(tu)
        term.read_until(b"$ ")
        term.type(b"sudo -n true\n")
        wait_until(lambda: backlog() >= b0 + 2, 15, "the user's sudo on the terminal to reach privauditd")
        bpid = term.child("sudo")
        if bpid is None:
            fail("no sudo under the user's bash")
        track(bpid)
        # sudo catches SIGTSTP (it relays it to its command once that
        # runs), so the ^Z may leave it waiting rather than stopped: either
        # way it must not hold anyone up, and it must finish after fg
        term.type(b"\x1a")
        time.sleep(0.5)
        result["tstp_state"] = state(bpid)
        if result["tstp_state"] not in ("T", "S"):
            fail("sudo after ^Z: %s (%s)" % (result["tstp_state"], sigs(bpid)))
        # clients stopped mid-exchange
        wires = {}
        for mode in ("silent", "half", "whole"):
            rf = "%s.%s" % (out, mode)
            wires[mode] = (wire_stall(mode, "stall-" + mode, rf), rf)
        for mode, (pid, _) in wires.items():
            wait_until(lambda: state(pid) == "T", 5, "the %s client to stop" % mode)
        wait_until(lambda: backlog() >= b0 + 5, 5, "every stalled client's connection")
    finally:
        os.kill(dpid, signal.SIGCONT)
    resumed = time.monotonic()

    # the other user's sessions, while all five are stopped
    res = others(10, 2)
    result["others_max_s"] = check_others(res, "while others are stalled")
    result["others"] = [r["pid"] for r in res]
    for pid in [a.pid] + [p for p, _ in wires.values()] + ([bpid] if result["tstp_state"] == "T" else []):
        if state(pid) != "T":
            fail("pid %d went on before the other sessions were timed (%s)" % (pid, state(pid)))
    if result["others_max_s"] >= 1.0:
        fail("another user's sudo took %.3f s while one user stalled (baseline max %.3f s)"
             % (result["others_max_s"], result["baseline_max_s"]))

    # past the daemon's per-client timeout (5 s), then everyone goes on
    time.sleep(max(0.0, resumed + 6.0 - time.monotonic()))
    if not user_kill(tu, a.pid, signal.SIGCONT):
        fail("%s may not SIGCONT its own sudo" % tu)
    ao, _ = a.communicate(timeout=15)
    # as the user at the terminal: fg whenever the job shows stopped
    end = time.monotonic() + 15
    was_t = False
    while state(bpid) != "gone" and term.child("sudo") == bpid:
        if time.monotonic() > end:
            fail("the ^Z'd sudo did not finish (%s)" % sigs(bpid))
        if state(bpid) == "T" and not was_t:
            term.type(b"fg\n")
        was_t = state(bpid) == "T"
        time.sleep(0.05)
    time.sleep(0.2)
    term.type(b'echo "sudo-rc=$?"\n')
    term.read_until(b"sudo-rc=", 15)
    seen = term.read_until(b"$ ", 15)
    brc = seen.split(b"sudo-rc=")[-1].split(b"\r")[0].split(b"\n")[0]
    term.type(b"exit\n")
    os.waitpid(term.pid, 0)
    result["stalled"] = [a.pid, bpid]
    if a.returncode != 0 or ao:
        fail("the SIGSTOPped sudo: exit %s, printed %r" % (a.returncode, ao[:200]))
    if brc != b"0" or b"privaudit" in seen.lower():
        fail("the ^Z'd sudo: exit %r, terminal %r" % (brc, seen[-300:]))
    for mode, (pid, rf) in wires.items():
        os.kill(pid, signal.SIGCONT)
        os.waitpid(pid, 0)
        result[mode] = open(rf).read()
    for mode, want in (("silent", "closed"), ("half", "closed"), ("whole", "answer 0")):
        if not result[mode].startswith(want):
            fail("the %s client after its stall: %s, expected %s" % (mode, result[mode], want))
    print("baseline max %.3f s; with 2 sudos and 3 clients stopped: max %.3f s over %d sessions"
          % (result["baseline_max_s"], result["others_max_s"], len(res)))
    print("after SIGCONT: sudos exit 0 and 0 (the ^Z'd one was %s); clients: silent %s, half %s, whole %s"
          % ("stopped" if result["tstp_state"] == "T" else "not stopped: sudo defers SIGTSTP",
             result["silent"], result["half"], result["whole"]))
finally:
    for pid in spawned:
        for sig in (signal.SIGKILL, signal.SIGCONT):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    with open(out, "w") as f:
        json.dump(result, f)
EOF

PAWIRE=$PAWIRE "$PYTHON3" "$TMP/stall.py" "$pa_daemon_pid" "$SOCK" "$TU" "$TU2" "$TMP/pids" "$TMP/result.json" \
	>"$TMP/driver.out" 2>&1 </dev/null
drc=$?
cat "$TMP/driver.out"
[ "$drc" -eq 0 ] || { tail -5 "$TMP/privauditd.err" >&2; fail "the stall scenario failed (see above)"; }
pass "one user's stopped sudos and clients stalled nobody: the other user's sessions ran in normal time"

pa_daemon_stop
verify_ok "$LOG"
grep -Eq '^unsealed: +0 records' "$TMP/out" || fail_cmd "records left unsealed after privauditd's SIGTERM"
expect 0 "$PRIVAUDIT" export "$LOG" --json
cp "$TMP/out" "$TMP/export"
"$PYTHON3" - "$TMP/export" "$TMP/result.json" "$TU" "$TU2" <<'EOF' || fail "records wrong (see above)"
import collections, json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
res = json.load(open(sys.argv[2]))
tu, tu2 = sys.argv[3:5]
bad = []
opens = [r for r in recs if r["kind"] == "session_open" and r["fields"]["service"] == "privaudit-stall"]
closes = [r for r in recs if r["kind"] == "session_close" and r["fields"]["service"] == "privaudit-stall"]
for pids, ruser in ((res["others"], tu2), (res["stalled"], tu)):
    for pid in pids:
        o = [r for r in opens if r["fields"]["pid"] == pid and r["fields"]["ruser"] == ruser]
        c = [r for r in closes if r["fields"]["pid"] == pid]
        if len(o) != 1 or len(c) != 1:
            bad.append("sudo pid %d by %s: %d opens, %d closes" % (pid, ruser, len(o), len(c)))
            continue
        f = o[0]["fields"]
        if f["user"] != "root" or f["peer_pid"] != pid or f["peer_uid"] != 0 or c[0]["session"] != o[0]["session"]:
            bad.append("sudo pid %d by %s: %r / %r" % (pid, ruser, f, c[0]))
keys = collections.Counter(r["session"] for r in opens)
for key, want in (("stall-whole", 1), ("stall-half", 0), ("stall-silent", 0)):
    if keys[key] != want:
        bad.append("%s recorded %d times, expected %d" % (key, keys[key], want))
for b in bad:
    print(b, file=sys.stderr)
print("%d sessions of %s and %d of %s recorded, open and close" % (len(res["others"]), tu2, len(res["stalled"]), tu))
sys.exit(1 if bad else 0)
EOF
pass "every session recorded with its close; the stalled clients' half and silent requests not; the log verifies after SIGTERM"

undo || fail "could not put the host back"
exit 0
