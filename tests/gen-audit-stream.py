#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""gen-audit-stream.py: generate auditd plugin streams (format = string, the
RAW or ENRICHED form) for audisp-privaudit, and what the plugin must make of
them.

  gen-audit-stream.py [--seed N] [--events N] [--mode test|bench]
                      [--enriched] [--expect FILE] [--chunked] [-o FILE]

--mode test mixes every record type the plugin handles (execve events with
hex-encoded and split arguments, huge argv, USER_CMD, PAM, TTY, USER_TTY,
CONFIG_CHANGE, DAEMON_*, ANOM_*, watches), interleaved events, events
without EOE, serial jumps, auditd loss reports, malformed lines and lines
cut at random points.  --expect writes a JSON description of the records the
plugin must write (checked by plugin-records.py check).  --mode bench is
realistic traffic for throughput: mostly execve events with 2 to 20
arguments, some TTY, USER_CMD and PAM events, about 1 KiB each.
--chunked writes the stream in random-sized pieces with short pauses, so
records arrive split across reads.
"""

import argparse
import json
import random
import sys
import time

UNSET = 4294967295
BINS = ["/usr/bin/ls", "/usr/bin/cat", "/usr/bin/systemctl", "/usr/bin/apt-get",
        "/usr/sbin/useradd", "/usr/bin/vim", "/usr/bin/id", "/usr/bin/cp", "/usr/bin/tar",
        "/usr/bin/rm", "/usr/bin/journalctl", "/usr/sbin/iptables"]
WORDS = ["-l", "-a", "--force", "/etc/shadow", "/var/log/syslog", "restart", "nginx",
         "-rf", "/tmp/x", "install", "-y", "--verbose", "root", "alice", "*.conf",
         "/home/alice/notes.txt", "-p", "8080", "status", "--no-pager"]
USERS = [(1000, "alice"), (1001, "bob"), (1002, "carol"), (0, "root")]


def needs_hex(b):
    """The kernel's audit_string_contains_control()."""
    return any(c == 0x22 or c < 0x21 or c > 0x7E for c in b)


def enc(b):
    """audit_log_untrustedstring(): quoted, or hex when it must be."""
    if needs_hex(b):
        return b.hex().upper()
    return '"' + b.decode("ascii") + '"'


class Gen:
    def __init__(self, rnd, enriched, boot):
        self.r = rnd
        self.enriched = enriched
        self.boot = boot
        self.t = 1700000000.0
        self.serial = 1000
        self.daemon_serial = 1
        self.missing = set()       # serials the kernel used that never arrive
        self.lost = 0              # auditd's running lost count
        self.expect = []
        self.gaps_lost = 0

    def tick(self):
        self.t += self.r.random() * 0.01
        return "%d.%03d" % (int(self.t), int((self.t % 1) * 1000))

    def next_serial(self):
        self.serial += 1
        return self.serial

    def hdr(self, typ, ts, serial):
        return "type=%s msg=audit(%s:%d): " % (typ, ts, serial)

    def enrich(self, line, fields):
        if not self.enriched:
            return line
        return line + "\x1d" + " ".join('%s="%s"' % kv for kv in fields)

    def key(self, ses):
        return "%s:%d" % (self.boot, ses) if ses != UNSET else None

    # ----------------------------------------------------------- kernel events

    def execve_records(self, ts, s, argv):
        """EXECVE records as the kernel splits them (about 7500 bytes each)."""
        recs, cur = [], "argc=%d" % len(argv)
        limit = 7500
        for i, a in enumerate(argv):
            e = enc(a)
            if len(e) <= limit - 20:
                piece = " a%d=%s" % (i, e)
                if len(cur) + len(piece) > limit:
                    recs.append(cur)
                    cur = ""
                cur += piece
                continue
            # too long for one record: a%d_len then a%d[k] pieces
            hexed = needs_hex(a)
            step = 3000 if hexed else 6000
            for k in range(0, len(a), step):
                part = a[k:k + step]
                pe = part.hex().upper() if hexed else '"' + part.decode("ascii") + '"'
                head = (" a%d_len=%d" % (i, len(a))) if k == 0 else ""
                piece = "%s a%d[%d]=%s" % (head, i, k // step, pe)
                if len(cur) + len(piece) > limit:
                    recs.append(cur)
                    cur = ""
                cur += piece
        recs.append(cur)
        return [self.hdr("EXECVE", ts, s) + x.lstrip(" ") for x in recs]

    def syscall(self, ts, s, sc, exe, comm, auid, ses, uid, euid, pid, ppid, success, exitv,
                tty, key, items):
        line = self.hdr("SYSCALL", ts, s) + (
            "arch=c000003e syscall=%d success=%s exit=%d a0=55d0c6f0a1b0 a1=55d0c6f0a2c0 "
            "a2=55d0c6f0a3d0 a3=0 items=%d ppid=%d pid=%d auid=%d uid=%d gid=0 euid=%d suid=0 "
            "fsuid=0 egid=0 sgid=0 fsgid=0 tty=%s ses=%d comm=%s exe=%s subj=unconfined key=%s"
            % (sc, "yes" if success else "no", exitv, items, ppid, pid, auid, uid, euid, tty, ses,
               enc(comm), enc(exe), '"%s"' % key if key else "(null)"))
        return self.enrich(line, [("ARCH", "x86_64"), ("SYSCALL", "execve" if sc == 59 else "openat"),
                                  ("AUID", "alice"), ("UID", "root"), ("EUID", "root")])

    def exec_event(self, argv=None, eoe=True, cut=False):
        r = self.r
        ts, s = self.tick(), self.next_serial()
        auid, _ = r.choice(USERS)
        ses = r.choice([3, 7, 12, UNSET]) if auid else r.choice([1, 2])
        if auid == 0 and ses == UNSET:
            ses = 1
        exe = r.choice(BINS).encode()
        if argv is None:
            argv = [exe.rsplit(b"/", 1)[1]] + [r.choice(WORDS).encode()
                                              for _ in range(r.randint(1, 19))]
            if r.random() < 0.2:
                argv.append(b"file with spaces \"and quotes\"")
            if r.random() < 0.1:
                argv.append("caf\u00e9 \x01\x7f".encode())
        cwd = r.choice([b"/root", b"/home/alice", b"/tmp/dir with space", b"/"])
        success = r.random() < 0.9
        exitv = 0 if success else -2
        pid, ppid = r.randint(2000, 60000), r.randint(2, 60000)
        uid = r.choice([0, auid])
        tty = r.choice(["pts0", "pts1", "(none)"])
        lines = [self.syscall(ts, s, 59, exe, argv[0][:15] if argv and argv[0] else b"x", auid,
                              ses, uid, 0, pid, ppid, success, exitv, tty, "privaudit-exec", 2)]
        lines += self.execve_records(ts, s, argv)
        lines.append(self.hdr("CWD", ts, s) + "cwd=" + enc(cwd))
        lines.append(self.hdr("PATH", ts, s) + "item=0 name=%s inode=1835 dev=08:01 mode=0100755 "
                     "ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
                     "cap_fver=0 cap_frootid=0" % enc(exe))
        lines.append(self.hdr("PATH", ts, s) + "item=1 name=\"/lib64/ld-linux-x86-64.so.2\" "
                     "inode=4150 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL "
                     "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")
        title = b"\x00".join(argv)[:128]
        lines.append(self.hdr("PROCTITLE", ts, s) + "proctitle=" + enc(title))
        if eoe:
            lines.append(self.hdr("EOE", ts, s).rstrip(" "))
        self.expect.append({
            "kind": "command", "serial": s, "source": "execve",
            "argv": [a.hex() for a in argv], "exe": exe.hex(), "cwd": cwd.hex(),
            "auid": auid, "ses": ses, "uid": uid, "euid": 0, "pid": pid, "ppid": ppid,
            "success": success, "exit": exitv, "tty": tty.encode().hex(),
            "session_key": self.key(ses), "eoe": eoe, "big": sum(len(a) for a in argv) > 1000000})
        return lines

    def watch_event(self):
        ts, s = self.tick(), self.next_serial()
        lines = [self.syscall(ts, s, 257, b"/usr/bin/vim.basic", b"vim", 1000, 3, 0, 0, 4000,
                              3999, True, 3, "pts0", "privaudit-config", 2)]
        lines.append(self.hdr("CWD", ts, s) + 'cwd="/root"')
        lines.append(self.hdr("PATH", ts, s) + 'item=0 name="/etc/" inode=2 dev=08:01 '
                     'mode=040755 ouid=0 ogid=0 rdev=00:00 nametype=PARENT')
        lines.append(self.hdr("PATH", ts, s) + 'item=1 name="/etc/sudoers" inode=77 dev=08:01 '
                     'mode=0100440 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL')
        lines.append(self.hdr("PROCTITLE", ts, s) + "proctitle=76696D002F6574632F7375646F657273")
        lines.append(self.hdr("EOE", ts, s).rstrip(" "))
        self.expect.append({"kind": "audit_event", "serial": s,
                            "types": ["SYSCALL", "CWD", "PATH", "PROCTITLE"],
                            "session_key": self.key(3)})
        return lines

    def config_event(self, with_syscall):
        ts, s = self.tick(), self.next_serial()
        op = self.r.choice(["add_rule", "remove_rule", "set"])
        lines = [self.hdr("CONFIG_CHANGE", ts, s) +
                 'auid=1000 ses=3 subj=unconfined op=%s key="privaudit-exec" list=4 res=1' % op]
        if with_syscall:
            lines.append(self.syscall(ts, s, 44, b"/usr/sbin/auditctl", b"auditctl", 1000, 3, 0, 0,
                                      5000, 4999, True, 1084, "pts0", None, 0))
            lines.append(self.hdr("PROCTITLE", ts, s) + "proctitle=617564697463746C002D44")
            lines.append(self.hdr("EOE", ts, s).rstrip(" "))
        self.expect.append({"kind": "config_change", "serial": s, "type": "CONFIG_CHANGE",
                            "op": op.encode().hex(), "auid": 1000, "ses": 3, "success": True,
                            "session_key": self.key(3)})
        return lines

    def tty_event(self):
        ts, s = self.tick(), self.next_serial()
        data = self.r.choice([b"ls -l\r", b"cat /etc/shadow\r", b"sudo -i\r\x7f\x1b[A"])
        minor = self.r.randint(0, 3)
        line = self.hdr("TTY", ts, s) + ("tty pid=%d uid=0 auid=1000 ses=3 major=136 minor=%d "
                                        'comm="bash" data=%s' % (6000, minor, data.hex().upper()))
        self.expect.append({"kind": "tty_input", "serial": s, "data": data.hex(),
                            "tty": ("pts/%d" % minor).encode().hex(), "auid": 1000, "ses": 3,
                            "session_key": self.key(3)})
        return [line]

    def anom_event(self):
        ts, s = self.tick(), self.next_serial()
        line = self.hdr("ANOM_ABEND", ts, s) + ('auid=1000 uid=0 gid=0 ses=3 subj=unconfined '
                                               'pid=7000 comm="crash" exe="/usr/bin/crash" sig=11 res=1')
        self.expect.append({"kind": "audit_event", "serial": s, "types": ["ANOM_ABEND"],
                            "session_key": self.key(3)})
        return [line]

    def login_event(self):
        ts, s = self.tick(), self.next_serial()
        lines = [self.hdr("LOGIN", ts, s) + "pid=1500 uid=0 subj=unconfined old-auid=4294967295 "
                 "auid=1000 tty=(none) old-ses=4294967295 ses=3 res=1"]
        lines.append(self.syscall(ts, s, 1, b"/usr/sbin/sshd", b"sshd", 1000, 3, 0, 0, 1500, 1,
                                  True, 4, "(none)", None, 0))
        lines.append(self.hdr("PROCTITLE", ts, s) + 'proctitle="sshd: alice [priv]"')
        lines.append(self.hdr("EOE", ts, s).rstrip(" "))
        self.expect.append({"kind": "audit_event", "serial": s, "types": ["LOGIN", "SYSCALL", "PROCTITLE"],
                            "session_key": self.key(3)})
        return lines

    # ----------------------------------------------------------- user events

    def user_msg(self, typ, fields, uid=0, auid=1000, ses=3, pid=2000):
        ts, s = self.tick(), self.next_serial()
        line = self.hdr(typ, ts, s) + ("pid=%d uid=%d auid=%d ses=%d subj=unconfined msg='%s'"
                                       % (pid, uid, auid, ses, fields))
        return s, self.enrich(line, [("UID", "root"), ("AUID", "alice")])

    def user_cmd(self):
        cmd = b" ".join([self.r.choice(BINS).encode()] + [self.r.choice(WORDS).encode()
                                                         for _ in range(self.r.randint(0, 6))])
        cwd = self.r.choice([b"/home/alice", b"/tmp/a b"])
        s, line = self.user_msg("USER_CMD", 'cwd=%s cmd=%s exe="/usr/bin/sudo" terminal=pts/0 res=success'
                                % (enc(cwd), enc(cmd)), uid=1000)
        self.expect.append({"kind": "command", "serial": s, "source": "user_cmd",
                            "argv": [cmd.hex()], "cwd": cwd.hex(), "exe": b"/usr/bin/sudo".hex(),
                            "auid": 1000, "ses": 3, "uid": 1000, "success": True,
                            "tty": b"pts/0".hex(), "session_key": self.key(3)})
        return [line]

    def pam(self, typ):
        op = {"USER_AUTH": "PAM:authentication", "USER_ACCT": "PAM:accounting",
              "CRED_ACQ": "PAM:setcred", "CRED_DISP": "PAM:setcred", "CRED_REFR": "PAM:setcred",
              "USER_START": "PAM:session_open", "USER_END": "PAM:session_close",
              "USER_LOGIN": "login", "USER_LOGOUT": "logout"}[typ]
        s, line = self.user_msg(typ, 'op=%s grantors=pam_permit,pam_unix acct="root" '
                                'exe="/usr/bin/sudo" hostname=? addr=? terminal=/dev/pts/0 res=success'
                                % op)
        self.expect.append({"kind": "audit_event", "serial": s, "types": [typ],
                            "session_key": self.key(3)})
        return [line]

    def user_tty(self):
        data = b"systemctl stop auditd"
        s, _ = self.user_msg("USER_TTY", "x")
        ts = self.tick()
        line = self.hdr("USER_TTY", ts, s) + ("pid=6100 uid=0 auid=1000 ses=3 subj=unconfined "
                                             "data=%s" % data.hex().upper())
        self.expect.append({"kind": "tty_input", "serial": s, "data": data.hex(), "auid": 1000,
                            "ses": 3, "session_key": self.key(3)})
        return [line]

    def daemon(self, typ, lost=None):
        ts = self.tick()
        self.daemon_serial += 1
        extra = ""
        if lost is not None:
            extra = " lost=%d" % lost
        op = {"DAEMON_START": "start", "DAEMON_END": "terminate", "DAEMON_ABORT": "abort",
              "DAEMON_ROTATE": "rotate-logs", "DAEMON_ERR": "queue-overflow",
              "DAEMON_RESUME": "resume"}[typ]
        line = self.hdr(typ, ts, self.daemon_serial) + (
            "op=%s ver=3.0.9 format=%s kernel=6.1.0-13-amd64 auid=4294967295 pid=800 uid=0 "
            "ses=4294967295 subj=unconfined%s res=success"
            % (op, "enriched" if self.enriched else "raw", extra))
        self.expect.append({"kind": "config_change", "serial": self.daemon_serial, "type": typ,
                            "op": op.encode().hex(), "success": True, "session_key": None})
        return [line]

    # ----------------------------------------------------------- streams

    def test_stream(self, n):
        r = self.r
        out = []   # list of (lines) blocks, later maybe interleaved
        out.append(self.daemon("DAEMON_START"))
        out.append(self.exec_event())  # serials are judged from the first one seen
        kinds = ["exec"] * 10 + ["watch", "config", "config_sys", "tty", "user_tty", "anom",
                                 "login", "user_cmd", "user_cmd", "pam", "pam", "pam",
                                 "noeoe", "jump", "malformed", "cut", "daemon"]
        for i in range(n):
            k = r.choice(kinds)
            if k == "exec":
                out.append(self.exec_event())
            elif k == "noeoe":
                out.append(self.exec_event(eoe=False))
            elif k == "watch":
                out.append(self.watch_event())
            elif k == "config":
                out.append(self.config_event(False))
            elif k == "config_sys":
                out.append(self.config_event(True))
            elif k == "tty":
                out.append(self.tty_event())
            elif k == "user_tty":
                out.append(self.user_tty())
            elif k == "anom":
                out.append(self.anom_event())
            elif k == "login":
                out.append(self.login_event())
            elif k == "user_cmd":
                out.append(self.user_cmd())
            elif k == "pam":
                out.append(self.pam(r.choice(["USER_AUTH", "USER_ACCT", "CRED_ACQ", "CRED_DISP",
                                              "CRED_REFR", "USER_START", "USER_END",
                                              "USER_LOGIN", "USER_LOGOUT"])))
            elif k == "jump":
                skip = r.randint(1, 5)
                for _ in range(skip):
                    self.missing.add(self.next_serial())
            elif k == "malformed":
                out.append([r.choice([
                    "garbage without any structure",
                    "type=SYSCALL msg=audit(abc",
                    "type= msg=audit(1.1:1): x=y",
                    "type=EXECVE msg=audit(1700000000.999999:5): a0=\"x\"",
                    "\x00\x01\x02binary\xff junk".encode("latin-1").decode("latin-1"),
                    "audit: backlog limit exceeded",
                    "x" * r.randint(1, 3000)])])
                if out[-1][0] == "audit: backlog limit exceeded":
                    self.gaps_lost += 1
            elif k == "cut":
                # a real record cut at a random point: what survives is kept
                blk = r.choice([self.user_cmd, self.tty_event, self.anom_event])()
                e = self.expect.pop()
                line = blk[0]
                at = r.randint(1, len(line) - 1)
                # the header ends at ")": the ':' after it is optional (the
                # DAEMON_* records of auditd 1.x and 2.x have none)
                hdr_end = line.index("): ") + 1
                if at < hdr_end:
                    self.missing.add(e["serial"])
                out.append([line[:at]])
                self.expect.append({"kind": "cut", "serial": e["serial"], "text": line[:at],
                                    "header": at >= hdr_end})
            elif k == "daemon":
                if r.random() < 0.5:
                    self.lost += r.randint(1, 50)
                    out.append(self.daemon("DAEMON_ERR", lost=self.lost))
                else:
                    out.append(self.daemon(r.choice(["DAEMON_ROTATE", "DAEMON_RESUME", "DAEMON_ABORT"])))
        # the hard cases, once each
        big = [b"/usr/bin/printf"] + [("arg%d-" % i).encode() * 20 for i in range(200)]
        big.append(b"A" * 100000)                                # split a1[k]= pieces, quoted
        big.append(bytes(range(1, 256)) * 300)                   # split pieces, hex
        out.append(self.exec_event(argv=big))
        huge = [b"/usr/bin/echo"] + [b"B" * 120000 for _ in range(22)]   # 2.6 MB of argv
        huge.append(b"short-last-arg")           # fits where the long ones did not: not kept
        out.append(self.exec_event(argv=huge))
        out.append(["x" * (1 << 20 | 12345)])                   # a line longer than 1 MiB
        out.append(self.exec_event(argv=[b"/usr/bin/true", b""]))  # an empty argument
        out.append(self.daemon("DAEMON_END"))
        # interleave some neighbouring kernel events record by record (not
        # the first one: the plugin judges serials from the first it sees)
        flat = []
        i = 0
        while i < len(out):
            a = out[i]
            if (i >= 2 and i + 1 < len(out) and len(a) > 2 and len(out[i + 1]) > 2 and r.random() < 0.3
                    and "EOE" in a[-1] and "EOE" in out[i + 1][-1]):
                b = out[i + 1]
                merged = []
                ia = ib = 0
                while ia < len(a) or ib < len(b):
                    if ib >= len(b) or (ia < len(a) and r.random() < 0.5):
                        merged.append(a[ia])
                        ia += 1
                    else:
                        merged.append(b[ib])
                        ib += 1
                flat.extend(merged)
                i += 2
            else:
                flat.extend(a)
                i += 1
        return flat

    def bench_stream(self, n):
        r = self.r
        flat = []
        for i in range(n):
            x = r.random()
            if x < 0.80:
                flat.extend(self.exec_event())
            elif x < 0.88:
                flat.extend(self.tty_event())
            elif x < 0.94:
                flat.extend(self.user_cmd())
            else:
                flat.extend(self.pam(r.choice(["USER_AUTH", "USER_ACCT", "CRED_ACQ", "USER_START",
                                               "USER_END", "CRED_DISP"])))
            if len(self.expect) > 1000:
                self.expect.clear()
        return flat


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--mode", choices=["test", "bench"], default="test")
    ap.add_argument("--enriched", action="store_true")
    ap.add_argument("--boot-id", default="00000000-test-boot-0000-000000000000")
    ap.add_argument("--expect")
    ap.add_argument("--chunked", action="store_true")
    ap.add_argument("-o", "--output")
    a = ap.parse_args()
    g = Gen(random.Random(a.seed), a.enriched, a.boot_id)
    lines = g.test_stream(a.events) if a.mode == "test" else g.bench_stream(a.events)
    data = ("\n".join(lines) + "\n").encode("latin-1", "replace")
    if a.expect:
        with open(a.expect, "w") as f:
            json.dump({"boot_id": a.boot_id, "events": g.expect,
                       "missing_serials": sorted(g.missing), "auditd_lost": g.lost,
                       "backlog_reports": g.gaps_lost}, f)
    out = open(a.output, "wb") if a.output else sys.stdout.buffer
    if not a.chunked:
        out.write(data)
    else:
        rnd = random.Random(a.seed + 1)
        pos = 0
        while pos < len(data):
            n = rnd.choice([1, 2, 7, 100, 333, 4096, 65536, 200000])
            out.write(data[pos:pos + n])
            out.flush()
            pos += n
            if rnd.random() < 0.02:
                time.sleep(0.002)
    out.flush()


if __name__ == "__main__":
    main()
