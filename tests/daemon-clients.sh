#!/bin/bash
# SPDX-License-Identifier: ISC
# daemon-clients.sh: privauditd against bad clients (issue 14, item 4): who
# may connect, malformed and oversized requests, stalled and half-sent
# requests, 256 clients at once, SIGHUP and SIGTERM.  Runs without root;
# the checks that need a second user run as root only (as nobody).
. "$(dirname "$0")/e2e-lib.sh"
need_privaudit
need_daemon
[ -r "$PAWIRE" ] || skip "pawire.py not found ($PAWIRE)"

L=$TMP/log
pa_init "$L"
# Clients need to reach the socket: as root, nobody too (the log itself
# stays private).
chmod 0711 "$TMP"
R=$TMP/run
mkdir -m 0755 "$R"
S=$R/privauditd.sock
cp "$PAWIRE" "$R/pawire.py"
chmod 0644 "$R/pawire.py"

# ------------------------------------------------------------ the clients
cat >"$R/dc.py" <<'EOF'
# daemon-clients.sh's clients, one subcommand each; prints what it saw,
# exits 1 with a reason when a check fails.
import os, socket, struct, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pawire import body, frame, read_answer, request, SYNC, OK, BAD, TOOBIG, REFUSED

def die(msg):
    print('FAILED: ' + msg)
    sys.exit(1)

def conn(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s

def good(key):
    return request('session_open', [('service', 'sudo'), ('user', 'root'), ('pid', 4242),
                                     ('session_key', key)], 0)

def ask(path, data):
    s = conn(path)
    try:
        s.sendall(data)
        return read_answer(s)
    finally:
        s.close()

def eof_after(s, t0):
    """Seconds from t0 until the daemon hangs up on s (no answer expected)."""
    try:
        got = s.recv(64)
    except socket.timeout:
        return None
    except ConnectionResetError:
        got = b''
    if got:
        die('a stalled client got bytes: %r' % got[:16])
    return time.monotonic() - t0

def vmrss(pid):
    for l in open('/proc/%s/status' % pid):
        if l.startswith('VmRSS:'):
            return int(l.split()[1])
    die('no VmRSS for pid %s' % pid)

ok_body = body('session_open', [('user', 'root')])
BAD_REQUESTS = {
    'bad-version': (frame(body('session_open', [('user', 'root')], version=2)), BAD),
    'unknown-flags': (frame(body('session_open', [('user', 'root')], flags=0x80)), BAD),
    'truncated-field': (frame(ok_body + b'b'), BAD),
    'truncated-value': (frame(ok_body[:-3]), BAD),
    'field-longer-than-request': (frame(ok_body[:-8] + struct.pack('>I', 1000) + ok_body[-4:]), BAD),
    'unknown-field': (request('session_open', [('no_such_field', 'x')]), BAD),
    'nul-in-field-name': (request('session_open', [('user\0x', 'root')]), BAD),
    'kind-checkpoint': (request('checkpoint', [('tree_size', 1)]), REFUSED),
    'kind-heartbeat': (request('heartbeat', [('events_seen', 1)]), REFUSED),
    'peer-uid-from-client': (request('session_open', [('user', 'root'), ('peer_uid', 0)]), REFUSED),
    'zero-length-frame': (struct.pack('>I', 0), BAD),
    # the header alone: the daemon answers before any body comes
    'frame-of-300-KiB': (struct.pack('>I', 300 * 1024), TOOBIG),
}

def cmd_other(path):
    """As a user the daemon does not serve: connect, and if that works, ask."""
    try:
        s = conn(path)
    except PermissionError:
        print('EACCES')
        return
    try:
        try:
            s.sendall(good('0badc11e0000000000000000000000ff'))
        except (BrokenPipeError, ConnectionResetError):
            pass   # refused at accept: the answer may be there before the request
        try:
            ans = read_answer(s)
        except ConnectionResetError:
            ans = None
    finally:
        s.close()
    print('closed' if ans is None else 'answer %d %s' % ans)

def cmd_bad(path, name):
    data, want = BAD_REQUESTS[name]
    ans = ask(path, data)
    if ans is None:
        die('%s: no answer' % name)
    if ans[0] != want:
        die('%s: answer %d (%s), expected %d' % (name, ans[0], ans[1], want))
    print('%s: %d %s' % (name, ans[0], ans[1]))

def cmd_bad_all(path):
    for name in BAD_REQUESTS:
        cmd_bad(path, name)

def cmd_good(path, key):
    ans = ask(path, good(key))
    if ans is None or ans[0] != OK:
        die('good request: answer %r' % (ans,))
    print('ok')

def good_timed(path, n, tag):
    """n good requests, one connection each, 8 at a time: the slowest's time."""
    lat, errs = [], []
    def one(i):
        t = time.monotonic()
        try:
            ans = ask(path, good('%s%028x' % (tag, i)))
        except OSError as e:
            ans = e
        lat.append(time.monotonic() - t)
        if not (isinstance(ans, tuple) and ans[0] == OK):
            errs.append(repr(ans))
    for base in range(0, n, 8):
        ts = [threading.Thread(target=one, args=(i,)) for i in range(base, min(n, base + 8))]
        for t in ts: t.start()
        for t in ts: t.join()
    if errs:
        die('%d of %d good requests failed: %s' % (len(errs), n, errs[:3]))
    return max(lat)

def cmd_stall(path, timeout_ms):
    """Three stalled clients; 50 good ones meanwhile; the stalled are cut."""
    tmo = int(timeout_ms) / 1000.0
    t0 = time.monotonic()
    idle = conn(path)
    half_hdr = conn(path); half_hdr.sendall(b'\x00\x00')
    half_body = conn(path)
    half_body.sendall(frame(good('5ta11ed0' + '0' * 24))[:40])
    worst = good_timed(path, 50, '600d')
    during = time.monotonic() - t0
    if worst >= 1.0:
        die('a good request took %.3f s while clients stalled' % worst)
    if during >= tmo:
        die('the 50 good requests took %.2f s: the stalled clients were cut before they ended'
            % during)
    cut = [eof_after(s, t0) for s in (idle, half_hdr, half_body)]
    for name, c in zip(('idle', 'half header', 'half body'), cut):
        if c is None:
            die('%s client still connected after 10 s' % name)
        if c < tmo - 0.05 or c > tmo + 2.0:
            die('%s client cut after %.2f s, client_timeout_ms is %s' % (name, c, timeout_ms))
    print('50 good requests in %.2f s (slowest %.3f s) while 3 clients stalled; '
          'those cut after %s s' % (during, worst, ' '.join('%.2f' % c for c in cut)))

def cmd_cut(path, wait):
    """Seconds until one idle client is hung up on, or 'none' within wait."""
    t0 = time.monotonic()
    s = conn(path, float(wait))
    c = eof_after(s, t0)
    s.close()
    print('none' if c is None else '%.3f' % c)

def asan(pid):
    return any('libasan' in l or 'libclang_rt.asan' in l for l in open('/proc/%s/maps' % pid))

def cmd_memory(path, pid, n):
    """n clients each announce PA_WIRE_REQUEST_MAX and send half of it.  A
    buffer grows (doubling) with the bytes that come, so the daemon holds
    about what was sent, not what headers announce: at most 1.5 times what
    was sent, plus 8 MiB.  Under ASan, whose quarantine keeps every buffer a
    request outgrew, 5 times plus 16 MiB."""
    n, whole = int(n), 256 * 1024
    half = whole // 2
    before = vmrss(pid)
    payload = os.urandom(half)
    socks = []
    t0 = time.monotonic()
    for i in range(n):
        s = conn(path)
        s.sendall(struct.pack('>I', whole) + payload)
        socks.append(s)
    # the kernel holds what the daemon has not read yet: wait until it has
    # (its memory stops growing), within client_timeout_ms
    peak, still = vmrss(pid), 0
    while still < 4 and time.monotonic() - t0 < 4.0:
        time.sleep(0.05)
        r = vmrss(pid)
        still = still + 1 if r <= peak else 0
        peak = max(peak, r)
    worst = 0.0
    for i in range(8):
        t = time.monotonic()
        ans = ask(path, good('3e3%029x' % i))
        worst = max(worst, time.monotonic() - t)
        if ans is None or ans[0] != OK:
            die('good request among half-sent ones: answer %r' % (ans,))
    held = sum(1 for s in socks if connected(s))
    sent_kib = n * half // 1024
    grew = peak - before
    factor, slack = (5, 16384) if asan(pid) else (1.5, 8192)
    print('VmRSS %d KiB -> %d KiB (+%d KiB) holding %d half-sent requests (%d KiB sent); '
          'a good request meanwhile %.3f s' % (before, peak, grew, n, sent_kib, worst))
    for s in socks:
        s.close()
    if held != n:
        die('%d of %d half-sent clients were cut before the measure' % (n - held, n))
    if grew > factor * sent_kib + slack:
        die('the daemon grew by %d KiB for %d KiB its clients sent' % (grew, sent_kib))
    if worst >= 1.0:
        die('a good request took %.3f s while %d clients held half a request' % (worst, n))

def connected(s):
    """Is s still connected: nothing to read, no hang-up?"""
    s.setblocking(False)
    try:
        s.recv(1)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False

def cpu_ticks(pid):
    f = open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()
    return int(f[11]) + int(f[12])

def cmd_fdlimit(path, pid, n):
    """More idle clients than the daemon has descriptors: it waits, without
    spinning, and a good client is served once the idle ones are cut."""
    socks = [conn(path) for i in range(int(n))]
    c0 = cpu_ticks(pid)
    time.sleep(1.0)
    busy = cpu_ticks(pid) - c0
    # a client leaving frees a descriptor: the backlog moves again
    t = time.monotonic()
    for s in socks:
        s.close()
    ans = ask(path, good('fd11m1700000000000000000000000'))
    took = time.monotonic() - t
    if ans is None or ans[0] != OK:
        die('good request behind %s idle clients: answer %r' % (n, ans))
    if busy > 25:
        die('the daemon used %d clock ticks in 1 s while out of descriptors' % busy)
    if took >= 1.0:
        die('a good client waited %.2f s after the idle ones left' % took)
    print('%s idle clients, out of descriptors: the daemon used %d ticks in 1 s; '
          'once they left, a good client answered in %.2f s' % (n, busy, took))

def cmd_many(path, n, out):
    """n clients at once, each its own connection, sync: each gets OK."""
    n = int(n)
    barrier = threading.Barrier(n)
    res = [None] * n
    def one(i):
        try:
            s = conn(path, 30.0)
        except OSError as e:
            res[i] = 'connect: %s' % e
            barrier.abort()
            return
        try:
            barrier.wait(30)
            s.sendall(request('session_open', [('user', 'root'), ('pid', i),
                                               ('session_key', 'c0ffee%026x' % i)], SYNC))
            res[i] = read_answer(s)
        except (OSError, threading.BrokenBarrierError) as e:
            res[i] = repr(e)
        finally:
            s.close()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    bad = [(i, r) for i, r in enumerate(res) if not (isinstance(r, tuple) and r[0] == OK)]
    if bad:
        die('%d of %d concurrent clients got no OK: %s' % (len(bad), n, bad[:3]))
    with open(out, 'w') as f:
        for i in range(n):
            f.write('c0ffee%026x\n' % i)
    print('%d concurrent clients answered OK in %.2f s' % (n, time.monotonic() - t0))

getattr(sys.modules[__name__], 'cmd_' + sys.argv[1].replace('-', '_'))(*sys.argv[2:])
EOF
chmod 0644 "$R/dc.py"
dc() { timeout -k 5 120 "$PYTHON3" "$R/dc.py" "$@"; }

records() { "$PRIVAUDIT" export "$L" --json | wc -l | tr -d ' '; }
# as_nobody CMD...: run as a user the daemon does not serve
as_nobody() {
	if command -v setpriv >/dev/null 2>&1; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		runuser -u nobody -- "$@"
	fi
}

CONF=$TMP/privauditd.conf
# No heartbeat during the test: a record counted must be one a client made.
printf 'heartbeat = 3600\nclient_timeout_ms = 1000\n' >"$CONF"
pa_daemon_start "$L" "$S" --config "$CONF"
dpid=$pa_daemon_pid
dc good "$S" 00000000000000000000000000000001 >/dev/null || fail "first request not answered"

# ------------------------------------------------------------ who connects
mode=$(stat -c '%A %u' "$S")
[ "$mode" = "srw------- $(id -u)" ] || fail "socket is '$mode', expected 'srw------- $(id -u)'"
pass "socket is srw------- and owned by the daemon's user (uid $(id -u))"
# nobody may not reach $PYTHON3 (a pyenv shim under /root): the first
# python3 it can run.
nobody_py=""
if is_root && as_nobody true 2>/dev/null; then
	for p in "$PYTHON3" /usr/bin/python3 /usr/local/bin/python3; do
		if as_nobody "$p" -c pass 2>/dev/null; then
			nobody_py=$p
			break
		fi
	done
fi
if [ -n "$nobody_py" ]; then
	n0=$(records)
	out=$(as_nobody "$nobody_py" "$R/dc.py" other "$S" 2>&1)
	[ "$out" = EACCES ] || fail "nobody connecting to the 0600 socket: $out"
	pass "nobody cannot connect (EACCES)"
	# The socket's mode is one guard; SO_PEERCRED is the daemon's own.
	chmod 0666 "$S"
	out=$(as_nobody "$nobody_py" "$R/dc.py" other "$S" 2>&1)
	chmod 0600 "$S"
	case $out in
	"answer 3 "*) ;;
	*) fail "nobody on a 0666 socket: expected REFUSED (3), got: $out" ;;
	esac
	[ "$(records)" = "$n0" ] || fail "a refused peer's request was recorded"
	grep -q 'refused a client: pid [0-9]* uid 65534' "$TMP/privauditd.err" ||
		fail "no 'refused a client' line for uid 65534 in the daemon's log"
	pass "with the socket 0666, nobody gets REFUSED from SO_PEERCRED and nothing is recorded"
else
	say "# skip: the non-root peer checks need root, setpriv or runuser, and a python3 nobody can run"
fi

# ------------------------------------------------------------ malformed requests
n0=$(records)
out=$(dc bad-all "$S") || fail "$out"
say "$out" | sed 's/^/ok - answer /'
[ "$(records)" = "$n0" ] || fail "a malformed request was recorded"
pass "no malformed request was recorded"
kill -0 "$dpid" 2>/dev/null || fail "privauditd died on malformed requests"
dc good "$S" 00000000000000000000000000000002 >/dev/null || fail "no answer after malformed requests"
[ "$(records)" = $((n0 + 1)) ] || fail "the good request after them was not recorded once"
pass "the daemon keeps serving after malformed requests"

# ------------------------------------------------------------ stalled clients
out=$(dc stall "$S" 1000) || fail "$out"
pass "$out"

# ------------------------------------------------------------ SIGHUP
# client_timeout_ms 1000 -> 5000: an idle client, cut after 1 s before, is
# still connected 2 s after.  (The longer timeout also lets the memory
# check below hold 200 clients while a sanitizer build reads them.)
before=$(dc cut "$S" 10) || fail "$before"
printf 'heartbeat = 3600\nclient_timeout_ms = 5000\n' >"$CONF"
kill -HUP "$dpid"
i=0
until grep -q "configuration reloaded from $CONF" "$TMP/privauditd.err"; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "no 'configuration reloaded' in the daemon's log 5 s after SIGHUP"
	sleep 0.05
done
after=$(dc cut "$S" 2) || fail "$after"
"$PYTHON3" -c 'import sys; sys.exit(not (0.95 <= float(sys.argv[1]) < 3))' "$before" &&
	[ "$after" = none ] ||
	fail "an idle client was cut after ${before}s before SIGHUP and after ${after}s (none: 2 s) after (client_timeout_ms 1000 -> 5000)"
dc good "$S" 00000000000000000000000000000003 >/dev/null || fail "no answer after SIGHUP"
pass "SIGHUP reloads: an idle client cut after ${before}s before, still connected after 2 s then; still serving"

# ------------------------------------------------------------ memory
out=$(dc memory "$S" "$dpid" 200) || fail "$out"
pass "$out"
kill -0 "$dpid" 2>/dev/null || fail "privauditd died under half-sent requests"

# ------------------------------------------------------------ 256 at once
n0=$(records)
out=$(dc many "$S" 256 "$TMP/keys") || fail "$out"
pass "$out"
"$PRIVAUDIT" export "$L" --json >"$TMP/all.json" || fail "export failed"
"$PYTHON3" - "$TMP/all.json" "$TMP/keys" <<'EOF' || fail "the log does not hold the 256 records once each"
import collections, json, sys
want = open(sys.argv[2]).read().split()
got = collections.Counter()
for l in open(sys.argv[1]):
    j = json.loads(l)
    if j['kind'] == 'session_open' and (j['session'] or '').startswith('c0ffee'):
        got[j['session']] += 1
        assert j['fields']['peer_pid'] > 0, 'no peer pid in %s' % l
missing = [k for k in want if got[k] == 0]
dup = [k for k, c in got.items() if c > 1]
extra = set(got) - set(want)
if missing or dup or extra:
    print('missing %d %s, duplicated %s, unexpected %s' % (len(missing), missing[:3], dup[:3],
          sorted(extra)[:3]), file=sys.stderr)
    sys.exit(1)
EOF
[ "$(records)" = $((n0 + 256)) ] || fail "expected $((n0 + 256)) records, found $(records)"
verify_ok "$L"
pass "the log holds the 256 records, each once, and verifies"

# ------------------------------------------------------------ out of descriptors
# Out of file descriptors, the daemon stops accepting until a client leaves
# (it once spun on the readable backlog, logging each failed accept).
if command -v prlimit >/dev/null 2>&1 && nofile=$(prlimit --pid "$dpid" --nofile -o SOFT,HARD --noheadings); then
	set -- $nofile
	prlimit --pid "$dpid" --nofile="40:$2" || fail "prlimit on the daemon"
	out=$(dc fdlimit "$S" "$dpid" 60)
	st=$?
	prlimit --pid "$dpid" --nofile="$1:$2" || fail "prlimit back to $1:$2"
	n=$(grep -c 'accept: Too many open files' "$TMP/privauditd.err")
	[ "$n" -le 10 ] || fail "$n 'Too many open files' lines in the daemon's log in 1 s"
	[ "$st" -eq 0 ] || fail "$out"
	pass "$out; $n log lines"
else
	say "# skip: no prlimit(1) to lower the daemon's descriptor limit"
fi

# ------------------------------------------------------------ SIGTERM
pa_daemon_stop
[ ! -e "$S" ] || fail "the socket is left behind after SIGTERM"
verify_ok "$L"
grep -q '^unsealed: *0 records' "$TMP/out" || fail_cmd "records left unsealed after SIGTERM"
"$PRIVAUDIT" export "$L" --json | tail -n 3 >"$TMP/tail.json"
grep -q '"kind":"writer_stop".*"program":"privauditd"' "$TMP/tail.json" ||
	fail "no writer_stop of privauditd before the final seal: $(cat "$TMP/tail.json")"
pass "SIGTERM: exit 0, log sealed (no unsealed records) and verifies"
