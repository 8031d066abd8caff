#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""auditlogs-check.py: what audisp-privaudit recorded from one real audit.log
file, checked against the file itself and against ausearch.

  auditlogs-check.py FILE EXPORT AUSEARCH [FILE EXPORT AUSEARCH ...]

FILE is the audit.log text fed to the plugin, EXPORT what `privaudit export
--json` printed of the log it wrote, AUSEARCH what `TZ=UTC LC_ALL=C ausearch
-i -if FILE` printed.  For each file:

- events: the file's records, grouped here on their own by (node, time,
  serial), are the events recorded, each line in the raw text of exactly
  one recorded event, none lost, none added.  An event holds one SYSCALL
  record and one argv: a second SYSCALL, or a second EXECVE record that
  starts an argv (argc=), in one group is a second event (the same events
  replayed with another pid).  A line with no record header is an event of
  its own; auditd's DAEMON_* records never join an event; EOE records end
  an event and carry nothing else; empty lines carry nothing.  A line with
  a record header is never kept unparsed, and a DAEMON_* record counting
  lost events (lost=) gives an auditd-lost gap record.
- argv: every EXECVE record ausearch decoded is matched by one command
  record whose argv ausearch would print the same way.  ausearch -i prints
  bytes 1-31 as \\ooo and every other byte as is, so its text cannot always
  be decoded back (a literal backslash and three octal digits; a space and
  the next field's name inside an argument): each recorded argument is
  printed the way ausearch prints it and compared with its text, field by
  field, in the record's field order (pieces aN[k] of a long argument cut
  where the record cut them).

- the log: every record exported but the last checkpoint is verified
  (export --verified): a signed checkpoint covers it.

Prints one line per file; exits 1 if any file fails.
"""

import base64
import calendar
import collections
import json
import re
import sys
import time

HDR = re.compile(rb"(?:node=(\S+) +)?type=(\S{1,64}) msg=audit\((\d+)\.(\d{1,3}):(\d+)\):?")
AUS = re.compile(rb"(?:node=(\S+) )?type=EXECVE msg=audit\((\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\.(\d+):(\d+)\) : ?(.*)")
NOTE = re.compile(rb"\[audisp-privaudit: \d+ more bytes not kept\]")
ONCE = (b"SYSCALL",)


def header(line):
    """(node, sec, msec, serial, type, body) of a record line, or None."""
    m = HDR.match(line)
    if m is None:
        return None
    return (m.group(1) or b"", int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(2),
            line[m.end():])


def starts_argv(typ, body):
    return typ == b"EXECVE" and body.lstrip().startswith(b"argc=")


def expected_events(data):
    """The file's events as tuples of lines, in file order; and counts."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    events = []
    groups = {}   # key -> its newest event (a list of lines and a set of seen kinds)
    empty = eoe = 0
    for line in lines:
        if line == b"":
            empty += 1
            continue
        h = header(line)
        if h is None:
            events.append([line])
            continue
        node, sec, msec, serial, typ, body = h
        if typ == b"EOE":
            eoe += 1
            continue
        if typ.startswith(b"DAEMON_"):
            events.append([line])
            continue
        key = (node, sec, msec, serial)
        kind = b"argv" if starts_argv(typ, body) else typ if typ in ONCE else None
        ev = groups.get(key)
        if ev is None or (kind is not None and kind in ev[1]):
            ev = ([], set())
            groups[key] = ev
            events.append(ev[0])
        ev[0].append(line)
        if kind is not None:
            ev[1].add(kind)
    return [tuple(e) for e in events], len(lines), empty, eoe


def field_bytes(fields, name):
    """A bytes field of an exported record (its _b64 twin when there is one)."""
    if name + "_b64" in fields:
        v = fields[name + "_b64"]
        return [base64.b64decode(x) for x in v] if isinstance(v, list) else base64.b64decode(v)
    v = fields.get(name)
    if v is None:
        return None
    return [x.encode() for x in v] if isinstance(v, list) else v.encode()


def ausearch_text(b):
    """An argument as ausearch -i prints it (a C string: it ends at NUL)."""
    b = b.split(b"\0", 1)[0]
    return b"".join(b"\\%03o" % c if 1 <= c <= 31 else bytes([c]) for c in b)


def decoded_len(v):
    """Length of a raw EXECVE value once decoded (the kernel's encoding)."""
    if len(v) >= 2 and v[:1] == b'"' and v[-1:] == b'"':
        return len(v) - 2
    if re.fullmatch(rb"(?:[0-9A-Fa-f]{2})+", v):
        return len(v) // 2
    return len(v)


ARG = re.compile(rb"a(\d+)(?:\[(\d+)\])?")


def render(execve_lines, argv):
    """The EXECVE records' bodies as ausearch -i would print them, with the
    arguments taken from argv: [(key, body)].  None when argv lacks one."""
    pieces = collections.defaultdict(list)   # index -> [(k, length)]
    parsed = []
    for line in execve_lines:
        h = header(line)
        toks = [t.split(b"=", 1) for t in h[5].split() if b"=" in t]
        parsed.append((h, toks))
        for name, v in toks:
            m = ARG.fullmatch(name)
            if m and m.group(2) is not None:
                pieces[int(m.group(1))].append((int(m.group(2)), decoded_len(v)))
    offsets = {}
    for i, ps in pieces.items():
        off = 0
        for k, n in sorted(ps):
            offsets[(i, k)] = (off, n)
            off += n
    out = []
    for h, toks in parsed:
        words = []
        for name, v in toks:
            m = ARG.fullmatch(name)
            if m is None:
                words.append(name + b"=" + v)
                continue
            i = int(m.group(1))
            if i >= len(argv):
                return None
            if m.group(2) is None:
                words.append(name + b"=" + ausearch_text(argv[i]))
            else:
                off, n = offsets[(i, int(m.group(2)))]
                words.append(name + b"=" + ausearch_text(argv[i][off:off + n]))
        out.append(((h[0], h[1], h[2], h[3]), b" ".join(words)))
    return out


def ausearch_execve(text):
    """{(node, sec, msec, serial): Counter of EXECVE bodies} from ausearch -i."""
    got = collections.defaultdict(collections.Counter)
    for line in text.split(b"\n"):
        m = AUS.fullmatch(line)
        if m is None:
            continue
        t = time.strptime(m.group(2).decode(), "%m/%d/%y %H:%M:%S")
        key = (m.group(1) or b"", calendar.timegm(t), int(m.group(3)), int(m.group(4)))
        got[key][m.group(5).strip(b" ")] += 1
    return got


def check(path, export_path, ausearch_path):
    bad = []
    data = open(path, "rb").read()
    want, nlines, empty, eoe = expected_events(data)
    recs = [json.loads(l) for l in open(export_path, encoding="utf-8")]
    events, commands, gaps, notes = [], [], [], 0
    for r in recs:
        f = r.get("fields", {})
        if r.get("kind") != "checkpoint" and r.get("verified") is not True:
            bad.append("record %d (%s) not verified" % (r["index"], r.get("kind")))
        if r.get("kind") == "gap":
            gaps.append("%s %s" % (f.get("reason"), f.get("count")))
        raw = field_bytes(f, "raw")
        if raw is None or r.get("kind") not in ("command", "audit_event", "config_change", "tty_input"):
            continue
        lines = raw.split(b"\n")
        if lines and NOTE.fullmatch(lines[-1]):
            notes += 1
            bad.append("record %d: raw text cut: %s" % (r["index"], lines[-1].decode()))
            lines.pop()
        events.append(tuple(lines))
        if f.get("types") == ["UNPARSED"] and header(lines[0]) is not None:
            bad.append("record %d: a record line kept unparsed: %r" % (r["index"], lines[0][:160]))
        if r.get("kind") == "command" and f.get("source") == "execve":
            commands.append((r["index"], lines, field_bytes(f, "argv") or []))
    # every line in exactly one recorded event, grouped as the file groups them
    cw, cg = collections.Counter(want), collections.Counter(events)
    if cw != cg:
        missing = cw - cg
        extra = cg - cw
        for e in list(missing)[:3]:
            bad.append("event not recorded as such (%d lines): %r" % (len(e), e[0][:160]))
        for e in list(extra)[:3]:
            bad.append("recorded event not in the file as such (%d lines): %r" % (len(e), e[0][:160]))
        lw = collections.Counter(l for e in want for l in e)
        lg = collections.Counter(l for e in events for l in e)
        if lw - lg:
            bad.append("%d lines of the file in no recorded event, e.g. %r"
                       % (sum((lw - lg).values()), next(iter(lw - lg))[:160]))
        if lg - lw:
            bad.append("%d recorded lines not in the file" % sum((lg - lw).values()))
    if len(events) != len(want):
        bad.append("%d events in the file, %d recorded" % (len(want), len(events)))
    # auditd's own count of lost events becomes a gap record
    lost = [l for e in want for l in e
            if (header(l) or (b"",) * 5)[4].startswith(b"DAEMON_") and re.search(rb" lost=[1-9]", l)]
    if lost and not any(g.startswith("auditd-lost") for g in gaps):
        bad.append("%d DAEMON records report lost events, no auditd-lost gap record" % len(lost))
    # argv against ausearch
    aus = ausearch_execve(open(ausearch_path, "rb").read())
    nexecve = sum(sum(c.values()) for c in aus.values())
    left = {k: c.copy() for k, c in aus.items()}
    for index, lines, argv in commands:
        ex = [l for l in lines if (header(l) or (0,) * 5)[4] == b"EXECVE"]
        m = re.search(rb"argc=(\d+)", ex[0]) if ex else None
        if m and int(m.group(1)) != len(argv):
            bad.append("record %d: argc=%s, %d arguments recorded" % (index, m.group(1).decode(), len(argv)))
        rendered = render(ex, argv)
        if rendered is None:
            bad.append("record %d: an argument named in EXECVE was not recorded: %r" % (index, argv[:4]))
            continue
        for key, body in rendered:
            if left.get(key, {}).get(body, 0) > 0:
                left[key][body] -= 1
            else:
                near = list(aus.get(key, {}))[:1]
                bad.append("record %d: argv %r differs from ausearch's %r"
                           % (index, body[:200], near[0][:200] if near else None))
    unmatched = sum(sum(c.values()) for c in left.values())
    if unmatched:
        k = next(k for k, c in left.items() if sum(c.values()) > 0)
        bad.append("%d EXECVE records ausearch decoded have no command record, e.g. at %r" % (unmatched, k))
    n_ex_file = sum(1 for l in data.split(b"\n") if (header(l) or (0,) * 5)[4] == b"EXECVE")
    if n_ex_file and not nexecve:
        bad.append("ausearch decoded none of the %d EXECVE records" % n_ex_file)
    name = path.rsplit("/", 1)[-1]
    if bad:
        for b in bad[:12]:
            print("FAIL %s: %s" % (name, b))
        return False
    print("ok %s: %d lines (%d empty, %d EOE), %d events recorded, %d argv = ausearch%s"
          % (name, nlines, empty, eoe, len(events), nexecve,
             ", gaps: " + "; ".join(gaps) if gaps else ""))
    return True


def main(argv):
    if len(argv) < 4 or (len(argv) - 1) % 3 != 0:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    ok = True
    for i in range(1, len(argv), 3):
        ok = check(argv[i], argv[i + 1], argv[i + 2]) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
