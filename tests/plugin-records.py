#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""plugin-records.py: read the records of a privaudit log with paref.py (the
independent reader written from doc/format.md) and decode their bodies, to
check what audisp-privaudit wrote.

  plugin-records.py dump DIR               one JSON object a record
  plugin-records.py check DIR EXPECT.json  compare with gen-audit-stream.py --expect
  plugin-records.py count DIR KIND         number of records of one kind
"""

import importlib.util
import json
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("paref", os.environ.get("PAREF", os.path.join(_here, "paref.py")))
paref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(paref)

BODIES = {16: "genesis", 17: "writer_start", 18: "writer_stop", 19: "heartbeat", 20: "gap",
          21: "recovery", 22: "key_rotation", 23: "checkpoint", 24: "session_open",
          25: "session_close", 26: "auth_attempt", 27: "command", 28: "tty_input",
          29: "config_change", 30: "audit_event", 31: "application"}

# audisp-privaudit's default user_argv_cap (audisp-privaudit(8)): the argv a
# non-root user's exec keeps.
USER_ARGV_CAP = 65536

# field number -> (name, type): b bytes, s string, u unsigned, i signed 64, ?
# bool; a trailing * marks a repeated field.
FIELDS = {
    "writer_start": {1: ("program", "s"), 2: ("version", "s"), 3: ("uid", "u")},
    "writer_stop": {1: ("program", "s"), 2: ("reason", "s"), 3: ("records_written", "u")},
    "heartbeat": {1: ("events_seen", "u")},
    "gap": {1: ("count", "u"), 2: ("reason", "s"), 3: ("first_serial", "u"), 4: ("last_serial", "u"),
            5: ("bytes", "u"), 6: ("first_time_ns", "u"), 7: ("last_time_ns", "u"), 8: ("node", "b")},
    "recovery": {1: ("segment", "u"), 2: ("offset", "u"), 3: ("bytes_cut", "u"), 4: ("reason", "s"),
                 5: ("saved_as", "s")},
    "command": {1: ("auid", "u"), 2: ("ses", "u"), 3: ("uid", "u"), 4: ("euid", "u"), 5: ("pid", "u"),
                6: ("ppid", "u"), 7: ("exe", "b"), 8: ("argv", "b*"), 9: ("cwd", "b"),
                10: ("success", "?"), 11: ("exit", "i"), 12: ("tty", "b"), 13: ("source", "s"),
                14: ("serial", "u"), 15: ("raw", "b"), 16: ("argv_cut", "u"),
                17: ("audit_time_ms", "u"), 18: ("argv_truncated_bytes", "u"),
                19: ("raw_truncated_bytes", "u")},
    "tty_input": {1: ("auid", "u"), 2: ("ses", "u"), 3: ("pid", "u"), 4: ("data", "b"), 5: ("tty", "b"),
                  6: ("serial", "u"), 7: ("raw", "b"), 8: ("audit_time_ms", "u"),
                  9: ("raw_truncated_bytes", "u")},
    "config_change": {1: ("type", "s"), 2: ("auid", "u"), 3: ("ses", "u"), 4: ("op", "b"),
                      5: ("key", "b"), 6: ("success", "?"), 7: ("serial", "u"), 8: ("raw", "b"),
                      9: ("audit_time_ms", "u"), 10: ("raw_truncated_bytes", "u")},
    "audit_event": {1: ("serial", "u"), 2: ("audit_time_ms", "u"), 3: ("types", "s*"), 4: ("raw", "b"),
                    5: ("auid", "u"), 6: ("ses", "u"), 7: ("uid", "u"), 8: ("pid", "u"), 9: ("exe", "b"),
                    10: ("acct", "b"), 11: ("op", "b"), 12: ("terminal", "b"), 13: ("hostname", "b"),
                    14: ("addr", "b"), 15: ("success", "?"), 16: ("raw_truncated_bytes", "u")},
    "session_open": {1: ("service", "b"), 2: ("user", "b"), 9: ("auid", "u"), 10: ("ses", "u")},
    "application": {4: ("text", "b")},
}


def decode(rec):
    """dict of a Record: bytes fields as bytes, strings as str."""
    top = {}
    for f, wt, v, _, _ in paref.walk(rec):
        if f == 1:
            top["time_ns"] = v
        elif f == 2:
            top["host"] = v.decode("utf-8", "replace")
        elif f == 3:
            top["writer_pid"] = v
        elif f == 4:
            top["session_key"] = v
        elif f in BODIES:
            top["kind"] = BODIES[f]
            top["body"] = v
    body = top.pop("body", b"")
    spec = FIELDS.get(top.get("kind"), {})
    for f, wt, v, _, _ in paref.walk(body):
        if f not in spec:
            continue
        name, typ = spec[f]
        if typ.endswith("*"):
            typ = typ[:-1]
            top.setdefault(name, [])
        if typ == "s":
            v = v.decode("utf-8", "replace")
        elif typ == "i" and v >= 1 << 63:
            v -= 1 << 64
        elif typ == "?":
            v = bool(v)
        if isinstance(top.get(name), list):
            top[name].append(v)
        else:
            top[name] = v
    return top


def records(d):
    log = paref.load(d)
    out = []
    for fr in log.frames:
        r = decode(fr.record)
        r["index"] = fr.index
        out.append(r)
    return out


def jsonable(r):
    o = {}
    for k, v in r.items():
        if isinstance(v, bytes):
            o[k] = paref.escape(v)
        elif isinstance(v, list):
            o[k] = [paref.escape(x) if isinstance(x, bytes) else x for x in v]
        else:
            o[k] = v
    return o


def cmd_dump(d):
    for r in records(d):
        print(json.dumps(jsonable(r), sort_keys=True))


def check(d, expect_path):
    exp = json.load(open(expect_path))
    recs = records(d)
    errors = []
    by_serial = {}
    unparsed = []
    gaps = {}
    for r in recs:
        k = r.get("kind")
        if k == "audit_event" and r.get("types") == ["UNPARSED"]:
            unparsed.append(r.get("raw", b""))
            continue
        if k == "gap":
            reason = r.get("reason", "")
            gaps.setdefault(reason, []).append(r)
            continue
        if k in ("command", "tty_input", "config_change", "audit_event"):
            by_serial.setdefault((k == "config_change" and r.get("type", "").startswith("DAEMON_"),
                                  r.get("serial", 0)), []).append(r)

    def err(e, msg):
        errors.append("serial %s (%s): %s" % (e.get("serial"), e.get("kind"), msg))

    seen = 0
    for e in exp["events"]:
        kind = e["kind"]
        daemon = kind == "config_change" and e.get("type", "").startswith("DAEMON_")
        got = by_serial.get((daemon, e["serial"]), [])
        if kind == "cut":
            text = e["text"].encode("latin-1")
            if e["header"]:
                if not any(r.get("raw") == text for r in got):
                    err(e, "cut line with its header not kept as its event's raw text")
            elif text not in unparsed:
                err(e, "cut line without a header not kept as an UNPARSED record")
            continue
        got = [r for r in got if r.get("kind") == kind and
               (not daemon or r.get("type") == e.get("type"))]
        if len(got) != 1:
            err(e, "%d records of this kind, expected 1" % len(got))
            continue
        r = got[0]
        seen += 1
        if not r.get("raw"):
            err(e, "no raw text")
        want_key = e.get("session_key")
        have_key = r.get("session_key")
        if (want_key or None) != (have_key.decode() if have_key else None):
            err(e, "session key %r, expected %r" % (have_key, want_key))
        for f in ("auid", "ses", "uid", "euid", "pid", "ppid", "exit", "success", "source", "type"):
            if f in e:
                want = e[f]
                have = r.get(f, False if f == "success" else (0 if f != "source" and f != "type" else ""))
                if f in ("auid", "ses", "uid") and want == 4294967295 and have == 0:
                    have = want if f not in r else have
                if have != want:
                    err(e, "%s %r, expected %r" % (f, have, want))
        for f in ("exe", "cwd", "tty", "data", "op"):
            if f in e and r.get(f, b"").hex() != e[f]:
                err(e, "%s %r, expected %r" % (f, r.get(f, b""), bytes.fromhex(e[f])))
        if kind == "audit_event" and "types" in e and r.get("types") != e["types"]:
            err(e, "types %r, expected %r" % (r.get("types"), e["types"]))
        if "argv" in e:
            have = [a.hex() for a in r.get("argv", [])]
            total = sum(len(a) for a in e["argv"]) // 2
            subject = e.get("auid", 0) if e.get("auid", 0) != 4294967295 else e.get("uid", 0)
            capped = subject != 0 and e.get("source", "execve") == "execve" and total > USER_ARGV_CAP
            if e.get("big") or capped:
                kept = sum(len(a) for a in have) // 2
                if capped and kept > USER_ARGV_CAP:
                    err(e, "a non-root user's argv: %d bytes kept, over the cap of %d"
                        % (kept, USER_ARGV_CAP))
                if r.get("argv_truncated_bytes", 0) != total - kept:
                    err(e, "argv_truncated_bytes %r, but %d of %d bytes were kept"
                        % (r.get("argv_truncated_bytes"), kept, total))
                # too big for one record: kept as a prefix of the argv, the
                # arguments it cuts marked, every one after them empty
                joined_h, joined_w = "".join(have), "".join(e["argv"])
                if not have or not joined_w.startswith(joined_h) or len(have) > len(e["argv"]):
                    err(e, "huge argv not kept as a prefix")
                whole = next((i for i, (h, w) in enumerate(zip(have, e["argv"])) if h != w), len(have))
                if any(have[whole + 1:]):
                    err(e, "huge argv: an argument kept after one that was cut")
                if r.get("argv_cut", 0) != len(e["argv"]) - whole:
                    err(e, "huge argv: argv_cut %d, but %d argument(s) are not whole"
                        % (r.get("argv_cut", 0), len(e["argv"]) - whole))
            elif r.get("argv_cut", 0) != 0:
                err(e, "argv_cut %d on an argv kept whole" % r["argv_cut"])
            elif have != e["argv"]:
                err(e, "argv %r, expected %r" % ([bytes.fromhex(a) for a in have][:8],
                                                  [bytes.fromhex(a) for a in e["argv"]][:8]))
    jumps = sum(g.get("count", 0) for g in gaps.get("serial-jump", []))
    if jumps != len(exp["missing_serials"]):
        errors.append("serial-jump gaps count %d serials, expected %d (%s)"
                      % (jumps, len(exp["missing_serials"]), exp["missing_serials"][:20]))
    lost = sum(g.get("count", 0) for g in gaps.get("auditd-lost", []))
    if lost != exp["auditd_lost"]:
        errors.append("auditd-lost gaps count %d, expected %d" % (lost, exp["auditd_lost"]))
    backlog = len(gaps.get("auditd-lost: backlog limit exceeded", []))
    if backlog != exp["backlog_reports"]:
        errors.append("%d backlog gaps, expected %d" % (backlog, exp["backlog_reports"]))
    kinds = [r.get("kind") for r in recs]
    if kinds.count("writer_start") < 1 or kinds.count("writer_start") != kinds.count("writer_stop"):
        errors.append("writer start/stop records do not pair: %d/%d"
                      % (kinds.count("writer_start"), kinds.count("writer_stop")))
    if kinds and kinds[-1] != "checkpoint":
        errors.append("the log does not end with a checkpoint (last: %s)" % kinds[-1])
    for e in errors[:40]:
        print("plugin-records: " + e, file=sys.stderr)
    print("checked %d expected events, %d records, %d unparsed lines kept, %d errors"
          % (seen, len(recs), len(unparsed), len(errors)))
    return 1 if errors else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        cmd_dump(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "count":
        print(sum(1 for r in records(sys.argv[2]) if r.get("kind") == sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
