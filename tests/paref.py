#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# paref.py: an independent reader of the privaudit log format (doc/format.md),
# written from the spec alone, to cross-check the C verifier and to tamper
# with logs in the end-to-end tests.  Standard library only.
#
# Subcommands:
#   root DIR [N]           hex Merkle root of the first N entries (default all)
#   check DIR              recompute every checkpoint record's root (no signatures)
#   frames DIR             "index segment offset length kind" per frame
#   checkpoints DIR        "record-index tree-size time" per checkpoint record
#   texts DIR              text of every application record, escaped, one a line
#   escape [FILE]          escape each line of FILE (or stdin) as texts does
#   flip|forge|delete|insert|truncate DIR INDEX, swap DIR I J,
#   splice DIR OTHERDIR INDEX, setlen DIR INDEX VALUE, shorten DIR INDEX,
#   tear DIR NBYTES
#                          tamper with the segment files in place
#   entries DIR            "index base64(entry)" per frame: a log's exact records
#   ship DIR [--origin O] [--log-id HEX] [--from N] [--to N] [--sync N]
#                          the messages privauditd would ship for those records
#                          (doc/format.md, "Shipping"), one RFC 5424 line each
#                          as rsyslog's RSYSLOG_SyslogProtocol23Format gives it
#   vectors                Merkle test vectors as a C header
#   selftest               check the Merkle code against known answers
#
# "offset" is the byte offset of a frame (its length field) in its segment
# file; "length" is L, the entry length (8-byte index + record).

import argparse
import base64
import hashlib
import os
import re
import signal
import struct
import sys

MAGIC = b"PRVAUDSG"
HEADER_LEN = 64
FORMAT_VERSION = 1
ENTRY_MIN = 9
ENTRY_MAX = 8 + 4 * 1024 * 1024
SEG_RE = re.compile(r"^seg-([0-9a-f]{16})$")

F_CHECKPOINT = 23
F_APPLICATION = 31
BODY_FIELDS = range(16, 32)


class FormatError(Exception):
    """The log breaks doc/format.md; pos names where, when known."""

    def __init__(self, msg, pos=None):
        super().__init__(msg)
        self.pos = pos


# ------------------------------------------------------------- CRC-32C

def _crc32c_table():
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ------------------------------------------------------------- protobuf

def read_varint(buf, pos, end):
    value = 0
    shift = 0
    while True:
        if pos >= end:
            raise FormatError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift >= 70:
            raise FormatError("varint too long")


def walk(buf, start=0, end=None):
    """Yield (field, wiretype, value, vstart, vend) for each field of one
    message; value is an int for varint/fixed, bytes for length-delimited.
    vstart/vend are offsets of the value (payload) in buf."""
    if end is None:
        end = len(buf)
    pos = start
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise FormatError("field number 0")
        if wt == 0:
            vs = pos
            value, pos = read_varint(buf, pos, end)
        elif wt == 1:
            vs = pos
            if pos + 8 > end:
                raise FormatError("truncated fixed64")
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wt == 2:
            n, pos = read_varint(buf, pos, end)
            vs = pos
            if n > end - pos:
                raise FormatError("length-delimited field runs past the end")
            value = bytes(buf[pos:pos + n])
            pos += n
        elif wt == 5:
            vs = pos
            if pos + 4 > end:
                raise FormatError("truncated fixed32")
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise FormatError("unsupported wire type %d" % wt)
        yield field, wt, value, vs, pos


def record_body(rec):
    """(field number, body bytes, body offset in rec) of a Record's oneof;
    the last one wins, as in protobuf."""
    kind, body, off = 0, b"", 0
    for f, wt, v, vs, _ in walk(rec):
        if f in BODY_FIELDS:
            if wt != 2:
                raise FormatError("body field %d is not length-delimited" % f)
            kind, body, off = f, v, vs
    return kind, body, off


def message_fields(buf):
    out = {}
    for f, wt, v, _, _ in walk(buf):
        out[f] = v  # last one wins
    return out


# ------------------------------------------------------------- the log

class Frame:
    __slots__ = ("seg", "segfile", "offset", "length", "entry", "crc",
                 "index", "record", "crc_ok")

    @property
    def size(self):
        return 4 + self.length + 4

    def raw(self):
        return struct.pack(">I", self.length) + self.entry + struct.pack(">I", self.crc)


class Segment:
    __slots__ = ("number", "path", "data", "magic", "version", "header_len",
                 "seg_number", "first_index", "log_id")


def segment_paths(d):
    segs = []
    for name in os.listdir(d):
        m = SEG_RE.match(name)
        if m:
            segs.append((int(m.group(1), 16), os.path.join(d, name)))
    segs.sort()
    return segs


def parse_header(seg):
    data = seg.data
    if len(data) < HEADER_LEN:
        raise FormatError("segment %d: short header (%d bytes)" % (seg.number, len(data)))
    seg.magic = data[0:8]
    seg.version, seg.header_len = struct.unpack_from(">II", data, 8)
    seg.seg_number, seg.first_index = struct.unpack_from(">QQ", data, 16)
    seg.log_id = data[32:64]


def frame_to_bytes(length, entry):
    head = struct.pack(">I", length)
    return head + entry + struct.pack(">I", crc32c(head + entry))


class Log:
    """A log read leniently: framing is parsed as far as it goes, checks are
    left to check().  frames are in file order."""

    def __init__(self, d):
        self.dir = d
        self.segments = []
        self.frames = []
        self.torn = None  # (segment number, offset, bytes)
        self.errors = []
        paths = segment_paths(d)
        if not paths:
            raise FormatError("no segments in %s" % d)
        for n, p in paths:
            seg = Segment()
            seg.number, seg.path = n, p
            with open(p, "rb") as f:
                seg.data = f.read()
            self.segments.append(seg)
        for si, seg in enumerate(self.segments):
            last = si == len(self.segments) - 1
            try:
                parse_header(seg)
            except FormatError as e:
                self.errors.append(str(e))
                break
            pos = HEADER_LEN
            data = seg.data
            stop = False
            while pos < len(data):
                if len(data) - pos < 4:
                    self._tail(seg, pos, last, "partial length field")
                    stop = True
                    break
                (length,) = struct.unpack_from(">I", data, pos)
                if length < ENTRY_MIN or length > ENTRY_MAX:
                    self.errors.append("segment %d offset %d: length %d out of range"
                                       % (seg.number, pos, length))
                    stop = True
                    break
                if len(data) - pos < 8 + length:
                    self._tail(seg, pos, last, "frame runs past the end")
                    stop = True
                    break
                fr = Frame()
                fr.seg, fr.segfile, fr.offset, fr.length = seg.number, seg.path, pos, length
                fr.entry = bytes(data[pos + 4:pos + 4 + length])
                (fr.crc,) = struct.unpack_from(">I", data, pos + 4 + length)
                fr.crc_ok = crc32c(data[pos:pos + 4 + length]) == fr.crc
                (fr.index,) = struct.unpack_from(">Q", fr.entry, 0)
                fr.record = fr.entry[8:]
                self.frames.append(fr)
                pos += 8 + length
            if stop:
                break

    def _tail(self, seg, pos, last, why):
        if last:
            self.torn = (seg.number, pos, len(seg.data) - pos)
        else:
            self.errors.append("segment %d offset %d: %s (not the last segment)"
                               % (seg.number, pos, why))

    def find(self, index):
        """Position in self.frames of the frame whose stored index is index."""
        for i, fr in enumerate(self.frames):
            if fr.index == index:
                return i
        raise SystemExit("paref: no frame with index %d" % index)


# ------------------------------------------------------------- Merkle tree

def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n):
    """Largest power of two smaller than n (n >= 2)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


class Tree:
    """RFC 9162 section 2.1 over a list of leaf hashes.  Complete subtrees
    (power-of-two size, aligned) are cached, so the root of every prefix
    costs O(log n) once the prefix has been hashed."""

    def __init__(self, leaves):
        self.leaves = leaves
        self.cache = {}

    def mth(self, start, n):
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[start]
        full = n & (n - 1) == 0
        if full:
            h = self.cache.get((start, n))
            if h is not None:
                return h
        k = split_point(n)
        h = node_hash(self.mth(start, k), self.mth(start + k, n - k))
        if full:
            self.cache[(start, n)] = h
        return h

    def root(self, n=None):
        if n is None:
            n = len(self.leaves)
        return self.mth(0, n)

    # RFC 9162 2.1.3.1 PATH(m, D[n]) over leaves[start:start+n]
    def path(self, m, n, start=0):
        if n <= 1:
            return []
        k = split_point(n)
        if m < k:
            return self.path(m, k, start) + [self.mth(start + k, n - k)]
        return self.path(m - k, n - k, start + k) + [self.mth(start, k)]

    # RFC 9162 2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
    def consistency(self, m, n):
        if m == 0 or m == n:
            return []
        return self._subproof(m, n, 0, True)

    def _subproof(self, m, n, start, b):
        if m == n:
            return [] if b else [self.mth(start, n)]
        k = split_point(n)
        if m <= k:
            return self._subproof(m, k, start, b) + [self.mth(start + k, n - k)]
        return self._subproof(m - k, n - k, start + k, False) + [self.mth(start, k)]


# RFC 9162 2.1.3.2: verify an inclusion proof
def verify_inclusion(index, size, leaf, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# RFC 9162 2.1.4.2: verify a consistency proof
def verify_consistency(m, n, root1, root2, proof):
    if m == n:
        return not proof and root1 == root2
    if m == 0 or m > n or not proof:
        return False
    if m & (m - 1) == 0:
        proof = [root1] + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


# ------------------------------------------------------------- notes

def parse_note(note):
    """origin, size, root, extension lines, signature lines of a
    tlog-checkpoint signed note."""
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("note is not UTF-8")
    if "\n\n" not in text:
        raise FormatError("note has no blank line before its signatures")
    body, sigs = text.split("\n\n", 1)
    lines = body.split("\n")
    if len(lines) < 3:
        raise FormatError("note has fewer than 3 lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]*", size_s):
        raise FormatError("note size %r is not decimal" % size_s)
    try:
        root = base64.b64decode(root_s, validate=True)
    except Exception:
        raise FormatError("note root is not base64")
    if len(root) != 32:
        raise FormatError("note root is %d bytes" % len(root))
    siglines = [s for s in sigs.split("\n") if s]
    if not sigs.endswith("\n") or not siglines:
        raise FormatError("note has no signature line")
    for s in siglines:
        if not s.startswith("\u2014 "):
            raise FormatError("bad signature line %r" % s)
    return origin, int(size_s), root, lines[3:], siglines


# ------------------------------------------------------------- commands

def load(d):
    try:
        return Log(d)
    except (OSError, FormatError) as e:
        sys.exit("paref: %s" % e)


def cmd_root(a):
    log = load(a.dir)
    leaves = [leaf_hash(fr.entry) for fr in log.frames]
    n = len(leaves) if a.n is None else a.n
    if n > len(leaves):
        sys.exit("paref: log has only %d entries" % len(leaves))
    print(Tree(leaves).root(n).hex())


def cmd_check(a):
    log = load(a.dir)

    def bad(msg, fr=None):
        where = ""
        if fr is not None:
            where = " (record %d, segment %d, offset %d)" % (fr.index, fr.seg, fr.offset)
        print("FAILED: %s%s" % (msg, where))
        sys.exit(1)

    log_id = None
    expect_index = None
    for seg in log.segments:
        if not hasattr(seg, "magic") or seg.magic is None:
            break
        if seg.magic != MAGIC:
            bad("segment %d: bad magic %r" % (seg.number, seg.magic))
        if seg.version != FORMAT_VERSION or seg.header_len != HEADER_LEN:
            bad("segment %d: version %d header length %d"
                % (seg.number, seg.version, seg.header_len))
        if seg.seg_number != seg.number:
            bad("segment %d: header says segment %d" % (seg.number, seg.seg_number))
        if log_id is None:
            log_id = seg.log_id
        elif seg.log_id != log_id:
            bad("segment %d: log id differs" % seg.number)
    if log.errors:
        bad(log.errors[0])
    firsts = {}
    for fr in log.frames:
        firsts.setdefault(fr.seg, fr.index)
    for seg in log.segments:
        if seg.number in firsts and seg.first_index != firsts[seg.number]:
            bad("segment %d: header first index %d, first frame %d"
                % (seg.number, seg.first_index, firsts[seg.number]))

    leaves = []
    origin = None
    ckpts = []
    for pos, fr in enumerate(log.frames):
        if not fr.crc_ok:
            bad("CRC mismatch", fr)
        if fr.index != pos:
            bad("index %d at position %d" % (fr.index, pos), fr)
        try:
            kind, body, _ = record_body(fr.record)
            fields = message_fields(body)
        except FormatError as e:
            bad("record does not decode: %s" % e, fr)
        if pos == 0:
            if kind != 16:
                bad("record 0 is not a genesis record (kind %d)" % kind, fr)
            origin = fields.get(2, b"").decode("utf-8", "replace")
            gid = fields.get(4, b"")
            if log_id is not None and gid != log_id:
                bad("genesis log id differs from the segment headers", fr)
        if kind == F_CHECKPOINT:
            ckpts.append((fr, fields))
        leaves.append(leaf_hash(fr.entry))

    tree = Tree(leaves)
    for fr, f in ckpts:
        size = f.get(1, 0)
        root = f.get(2, b"")
        note = f.get(4, b"")
        if size > fr.index:
            bad("checkpoint of size %d recorded at index %d" % (size, fr.index), fr)
        want = tree.root(size)
        if root != want:
            bad("checkpoint root_hash %s, tree of %d is %s" % (root.hex(), size, want.hex()), fr)
        try:
            n_origin, n_size, n_root, _, _ = parse_note(note)
        except FormatError as e:
            bad("checkpoint note: %s" % e, fr)
        if n_origin != origin:
            bad("checkpoint note origin %r, log origin %r" % (n_origin, origin), fr)
        if n_size != size:
            bad("checkpoint note size %d, record says %d" % (n_size, size), fr)
        if n_root != want:
            bad("checkpoint note root differs from the tree of %d" % size, fr)

    cpfile = os.path.join(a.dir, "checkpoint")
    if os.path.exists(cpfile):
        with open(cpfile, "rb") as f:
            note = f.read()
        try:
            _, n_size, n_root, _, _ = parse_note(note)
        except FormatError as e:
            bad("checkpoint file: %s" % e)
        if n_size > len(leaves):
            bad("checkpoint file covers %d records, log holds %d" % (n_size, len(leaves)))
        if tree.root(n_size) != n_root:
            bad("checkpoint file root differs from the tree of %d" % n_size)

    extra = ""
    if log.torn:
        extra = " (torn tail: %d bytes at segment %d offset %d)" % (
            log.torn[2], log.torn[0], log.torn[1])
    print("ok %d records %d checkpoints%s" % (len(log.frames), len(ckpts), extra))


def cmd_frames(a):
    log = load(a.dir)
    for fr in log.frames:
        try:
            kind = record_body(fr.record)[0]
        except FormatError:
            kind = -1
        print("%d %d %d %d %d" % (fr.index, fr.seg, fr.offset, fr.length, kind))
    for e in log.errors:
        print("error: %s" % e, file=sys.stderr)
    if log.torn:
        print("torn: segment %d offset %d bytes %d" % log.torn, file=sys.stderr)


def cmd_checkpoints(a):
    """record index, tree size and note time of every checkpoint record."""
    log = load(a.dir)
    for fr in log.frames:
        try:
            kind, body, _ = record_body(fr.record)
            if kind != F_CHECKPOINT:
                continue
            f = message_fields(body)
        except FormatError:
            continue
        t = "-"
        try:
            for ext in parse_note(f.get(4, b""))[3]:
                if ext.startswith("time "):
                    t = ext[5:]
        except FormatError:
            pass
        print("%d %d %s" % (fr.index, f.get(1, 0), t))


def escape(b):
    """Stable one-line form of any bytes: printable ASCII except backslash
    as is, everything else as \\xHH."""
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def cmd_texts(a):
    log = load(a.dir)
    out = sys.stdout
    for fr in log.frames:
        try:
            kind, body, _ = record_body(fr.record)
            if kind != F_APPLICATION:
                continue
            text = message_fields(body).get(4, b"")
        except FormatError:
            continue
        out.write(escape(text) + "\n")


def cmd_escape(a):
    data = open(a.file, "rb").read() if a.file else sys.stdin.buffer.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for l in lines:
        sys.stdout.write(escape(l) + "\n")


# ------------------------------------------------------------- tampering

def rewrite(log, new_frames_by_seg):
    """Write each segment as its header followed by the given raw frames."""
    for seg in log.segments:
        if seg.number not in new_frames_by_seg:
            continue
        with open(seg.path, "r+b") as f:
            f.seek(0)
            f.write(seg.data[:HEADER_LEN])
            for raw in new_frames_by_seg[seg.number]:
                f.write(raw)
            f.truncate()


def layout(log):
    """Raw frame bytes per segment, in file order (torn tails dropped: the
    logs we tamper with are clean)."""
    if log.errors or log.torn:
        sys.exit("paref: refusing to tamper with a log that does not parse cleanly")
    by = {seg.number: [] for seg in log.segments}
    for fr in log.frames:
        by[fr.seg].append(fr)
    return by


def bit_position(record):
    """A byte offset in record whose lowest bit can be flipped leaving the
    record decodable: a printable byte of a bytes/string field inside the
    body (the text of an application record), else of a top-level string
    field (host), else the first byte of a top-level varint."""
    try:
        kind, body, boff = record_body(record)
        for f, wt, v, vs, ve in walk(body):
            if wt == 2:
                for i in range(len(v) - 1, -1, -1):
                    if 0x21 <= v[i] < 0x7E:
                        return boff + vs + i
        for f, wt, v, vs, ve in walk(record):
            if wt == 2 and f not in BODY_FIELDS:
                for i in range(len(v) - 1, -1, -1):
                    if 0x21 <= v[i] < 0x7E:
                        return vs + i
        for f, wt, v, vs, ve in walk(record):
            if wt == 0:
                return vs
    except FormatError:
        pass
    return len(record) - 1


def flipped_entry(fr):
    rec = bytearray(fr.record)
    rec[bit_position(fr.record)] ^= 0x01
    return fr.entry[:8] + bytes(rec)


def cmd_flip(a, recompute_crc):
    log = load(a.dir)
    by = layout(log)
    fr = log.frames[log.find(a.index)]
    entry = flipped_entry(fr)
    crc = crc32c(struct.pack(">I", fr.length) + entry) if recompute_crc else fr.crc
    with open(fr.segfile, "r+b") as f:
        f.seek(fr.offset + 4)
        f.write(entry)
        f.write(struct.pack(">I", crc))


def cmd_setlen(a):
    """Overwrite the length field of frame INDEX with VALUE (CRC left)."""
    log = load(a.dir)
    layout(log)
    fr = log.frames[log.find(a.index)]
    with open(fr.segfile, "r+b") as f:
        f.seek(fr.offset)
        f.write(struct.pack(">I", a.value & 0xFFFFFFFF))


def cmd_shorten(a):
    """Drop the last byte of record INDEX and fix its length and CRC, so the
    framing is valid and the protobuf is truncated."""
    log = load(a.dir)
    by = layout(log)
    victim = log.frames[log.find(a.index)]
    entry = victim.entry[:-1]
    raws = [frame_to_bytes(len(entry), entry) if fr is victim else fr.raw()
            for fr in by[victim.seg]]
    rewrite(log, {victim.seg: raws})


def cmd_delete(a):
    log = load(a.dir)
    by = layout(log)
    victim = log.frames[log.find(a.index)]
    out = {victim.seg: [fr.raw() for fr in by[victim.seg] if fr is not victim]}
    rewrite(log, out)


def cmd_swap(a):
    log = load(a.dir)
    by = layout(log)
    fi = log.frames[log.find(a.i)]
    fj = log.frames[log.find(a.j)]
    out = {}
    for s in {fi.seg, fj.seg}:
        raws = []
        for fr in by[s]:
            if fr is fi:
                raws.append(fj.raw())
            elif fr is fj:
                raws.append(fi.raw())
            else:
                raws.append(fr.raw())
        out[s] = raws
    rewrite(log, out)


def cmd_insert(a):
    log = load(a.dir)
    by = layout(log)
    if a.index < 1:
        sys.exit("paref: insert needs INDEX >= 1")
    prev = log.frames[log.find(a.index - 1)]
    before = log.frames[log.find(a.index)]
    entry = struct.pack(">Q", a.index) + prev.record
    copy = frame_to_bytes(len(entry), entry)
    raws = []
    for fr in by[before.seg]:
        if fr is before:
            raws.append(copy)
        raws.append(fr.raw())
    rewrite(log, {before.seg: raws})


def cmd_truncate(a):
    log = load(a.dir)
    layout(log)
    fr = log.frames[log.find(a.index)]
    with open(fr.segfile, "r+b") as f:
        f.truncate(fr.offset)
    for seg in log.segments:
        if seg.number > fr.seg:
            os.unlink(seg.path)


def cmd_tear(a):
    """Append the first NBYTES of a frame for the next index to the last
    segment: what a writer interrupted mid-write (power loss) leaves."""
    log = load(a.dir)
    layout(log)
    last = log.frames[-1]
    entry = struct.pack(">Q", last.index + 1) + last.record
    raw = frame_to_bytes(len(entry), entry)
    if not 0 < a.nbytes < len(raw):
        sys.exit("paref: tear needs 0 < NBYTES < %d" % len(raw))
    with open(log.segments[-1].path, "ab") as f:
        f.write(raw[:a.nbytes])


def cmd_splice(a):
    log = load(a.dir)
    by = layout(log)
    other = load(a.otherdir)
    theirs = other.frames[other.find(a.index)]
    ours = log.frames[log.find(a.index)]
    raws = [theirs.raw() if fr is ours else fr.raw() for fr in by[ours.seg]]
    rewrite(log, {ours.seg: raws})


# ------------------------------------------------------------- vectors

VECTOR_LEAVES = 70
INCLUSION_PAIRS = [(0, 1), (0, 2), (1, 2), (0, 3), (2, 3), (3, 4), (0, 5), (4, 5),
                   (2, 7), (6, 7), (0, 8), (5, 8), (7, 8), (8, 9), (3, 13), (12, 13),
                   (15, 16), (16, 17), (31, 32), (10, 33), (32, 33), (0, 64),
                   (63, 64), (64, 65), (41, 69), (68, 69), (0, 70), (69, 70)]
CONSISTENCY_PAIRS = [(1, 1), (1, 2), (1, 3), (2, 3), (3, 4), (2, 5), (4, 7),
                     (3, 7), (6, 8), (1, 8), (5, 8), (7, 8), (8, 9), (4, 12),
                     (13, 16), (16, 17), (17, 32), (31, 33), (32, 64), (33, 64),
                     (63, 65), (64, 65), (1, 70), (5, 70), (64, 70), (69, 70),
                     (70, 70)]

# Known answers from RFC 6962's reference tests (certificate-transparency
# merkle_tree_test): leaves "", 00, 10, 2021, 3031, 40414243,
# 5051525354555657, 606162636465666768696a6b6c6d6e6f; roots of 1..8 leaves.
KAT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
KAT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def vector_leaf(i):
    return struct.pack(">Q", i) + b"leaf-%d" % i


def reference_mth(entries):
    """Plain recursive RFC 9162 MTH, no caching, to check Tree against."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(entries[0])
    k = split_point(n)
    return node_hash(reference_mth(entries[:k]), reference_mth(entries[k:]))


def selftest():
    """Raise AssertionError if the Merkle code disagrees with itself or with
    the published known answers."""
    assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"
    kat = [bytes.fromhex(x) for x in KAT_LEAVES]
    t = Tree([leaf_hash(x) for x in kat])
    assert t.root(0).hex() == EMPTY_ROOT
    for n in range(1, 9):
        assert t.root(n).hex() == KAT_ROOTS[n - 1], "KAT root %d" % n
    entries = [vector_leaf(i) for i in range(VECTOR_LEAVES)]
    tree = Tree([leaf_hash(e) for e in entries])
    for n in range(VECTOR_LEAVES + 1):
        r = tree.root(n)
        assert r == reference_mth(entries[:n]), "root %d" % n
        for m in range(n):
            p = tree.path(m, n)
            assert verify_inclusion(m, n, tree.leaves[m], p, r), "incl %d %d" % (m, n)
            if n > 1:
                bad = bytearray(p[0])
                bad[0] ^= 1
                assert not verify_inclusion(m, n, tree.leaves[m], [bytes(bad)] + p[1:], r)
        for m in range(1, n + 1):
            c = tree.consistency(m, n)
            assert verify_consistency(m, n, tree.root(m), r, c), "cons %d %d" % (m, n)
            if m < n:
                wrong = bytearray(tree.root(m))
                wrong[31] ^= 1
                assert not verify_consistency(m, n, bytes(wrong), r, c), "cons- %d %d" % (m, n)
    # a fresh tree per prefix agrees with the cached prefix roots
    for n in (0, 1, 5, 33, 70):
        assert Tree([leaf_hash(e) for e in entries[:n]]).root() == tree.root(n)
    return tree


def c_bytes(b, indent):
    hx = ["0x%02x" % x for x in b]
    lines = []
    for i in range(0, len(hx), 8):
        lines.append(indent + ", ".join(hx[i:i + 8]) + ",")
    return "\n".join(lines)


def cmd_vectors(a):
    tree = selftest()
    w = []
    p = w.append
    p("/* merkle_vectors.h: RFC 9162 Merkle tree test vectors for privaudit.")
    p(" * Generated by `python3 tests/paref.py vectors > tests/merkle_vectors.h`;")
    p(" * do not edit by hand.")
    p(" *")
    p(" * Leaf data: entry i (0 <= i < MERKLE_VECTOR_LEAVES) is the 8-byte")
    p(" * big-endian encoding of i followed by the ASCII text \"leaf-%d\" of i, no")
    p(" * NUL: entry 5 is 00 00 00 00 00 00 00 05 6c 65 61 66 2d 35 (14 bytes).")
    p(" * merkle_vector_leaf() below builds it.")
    p(" *")
    p(" * Hashing (RFC 9162 section 2.1): leaf hash = SHA-256(0x00 || entry), node")
    p(" * = SHA-256(0x01 || left || right), a tree of n leaves splits at the largest")
    p(" * power of two smaller than n, the empty tree is SHA-256(\"\").")
    p(" *")
    p(" * merkle_vector_roots[n]: root of the first n entries, n = 0..70.")
    p(" * merkle_vector_leaf_hashes[i]: leaf hash of entry i.")
    p(" * merkle_inclusion_vectors: PATH(index, D[size]) of RFC 9162 2.1.3.1, the")
    p(" *   audit path of leaf `index` in the tree of the first `size` entries,")
    p(" *   leaf-to-root order; its hashes are merkle_proof_hashes[first ..")
    p(" *   first+count-1] and it verifies against merkle_vector_roots[size].")
    p(" * merkle_consistency_vectors: PROOF(old_size, D[new_size]) of RFC 9162")
    p(" *   2.1.4.1 between merkle_vector_roots[old_size] and")
    p(" *   merkle_vector_roots[new_size], hashes in the same pool.  old_size ==")
    p(" *   new_size gives the empty proof.")
    p(" * merkle_kat_*: the RFC 6962 reference tests' 8 leaves and the roots of")
    p(" *   their first 1..8, an answer known outside this project.")
    p(" */")
    p("#ifndef PRIVAUDIT_MERKLE_VECTORS_H")
    p("#define PRIVAUDIT_MERKLE_VECTORS_H")
    p("")
    p("#include <stddef.h>")
    p("#include <stdint.h>")
    p("")
    p("#define MERKLE_VECTOR_LEAVES %d" % VECTOR_LEAVES)
    p("#define MERKLE_VECTOR_LEAF_MAX 32 /* bytes, enough for any entry above */")
    p("")
    p("/* Writes entry i into buf (at least MERKLE_VECTOR_LEAF_MAX bytes); returns")
    p(" * its length. */")
    p("static inline size_t merkle_vector_leaf(uint64_t i, unsigned char *buf)")
    p("{")
    p("\tchar digits[21];")
    p("\tsize_t n = 0, len;")
    p("\tuint64_t v = i;")
    p("")
    p("\tfor (int b = 0; b < 8; b++)")
    p("\t\tbuf[b] = (unsigned char)(i >> (56 - 8 * b));")
    p("\tdo {")
    p("\t\tdigits[n++] = (char)('0' + v % 10);")
    p("\t\tv /= 10;")
    p("\t} while (v != 0);")
    p("\tbuf[8] = 'l'; buf[9] = 'e'; buf[10] = 'a'; buf[11] = 'f'; buf[12] = '-';")
    p("\tlen = 13;")
    p("\twhile (n > 0)")
    p("\t\tbuf[len++] = (unsigned char)digits[--n];")
    p("\treturn len;")
    p("}")
    p("")
    p("static const unsigned char merkle_vector_roots[MERKLE_VECTOR_LEAVES + 1][32] = {")
    for n in range(VECTOR_LEAVES + 1):
        p("\t{ /* n = %d */" % n)
        p(c_bytes(tree.root(n), "\t\t"))
        p("\t},")
    p("};")
    p("")
    p("static const unsigned char merkle_vector_leaf_hashes[MERKLE_VECTOR_LEAVES][32] = {")
    for i in range(VECTOR_LEAVES):
        p("\t{ /* i = %d */" % i)
        p(c_bytes(tree.leaves[i], "\t\t"))
        p("\t},")
    p("};")
    p("")

    pool = []
    incl = []
    for m, n in INCLUSION_PAIRS:
        path = tree.path(m, n)
        assert verify_inclusion(m, n, tree.leaves[m], path, tree.root(n))
        incl.append((m, n, len(pool), len(path)))
        pool.extend(path)
    cons = []
    for m, n in CONSISTENCY_PAIRS:
        c = tree.consistency(m, n)
        assert verify_consistency(m, n, tree.root(m), tree.root(n), c)
        cons.append((m, n, len(pool), len(c)))
        pool.extend(c)

    p("struct merkle_inclusion_vector {")
    p("\tuint64_t index;  /* leaf */")
    p("\tuint64_t size;   /* tree of the first size entries */")
    p("\tsize_t first;    /* first hash in merkle_proof_hashes */")
    p("\tsize_t count;    /* hashes in the audit path */")
    p("};")
    p("")
    p("struct merkle_consistency_vector {")
    p("\tuint64_t old_size;")
    p("\tuint64_t new_size;")
    p("\tsize_t first;    /* first hash in merkle_proof_hashes */")
    p("\tsize_t count;    /* hashes in the proof */")
    p("};")
    p("")
    p("#define MERKLE_PROOF_HASHES %d" % len(pool))
    p("static const unsigned char merkle_proof_hashes[MERKLE_PROOF_HASHES][32] = {")
    for i, h in enumerate(pool):
        p("\t{ /* %d */" % i)
        p(c_bytes(h, "\t\t"))
        p("\t},")
    p("};")
    p("")
    p("#define MERKLE_INCLUSION_VECTORS %d" % len(incl))
    p("static const struct merkle_inclusion_vector")
    p("merkle_inclusion_vectors[MERKLE_INCLUSION_VECTORS] = {")
    for m, n, first, count in incl:
        p("\t{ %d, %d, %d, %d }," % (m, n, first, count))
    p("};")
    p("")
    p("#define MERKLE_CONSISTENCY_VECTORS %d" % len(cons))
    p("static const struct merkle_consistency_vector")
    p("merkle_consistency_vectors[MERKLE_CONSISTENCY_VECTORS] = {")
    for m, n, first, count in cons:
        p("\t{ %d, %d, %d, %d }," % (m, n, first, count))
    p("};")
    p("")
    p("#define MERKLE_KAT_LEAVES %d" % len(KAT_LEAVES))
    p("static const struct {")
    p("\tsize_t len;")
    p("\tunsigned char data[16];")
    p("} merkle_kat_leaves[MERKLE_KAT_LEAVES] = {")
    for x in KAT_LEAVES:
        b = bytes.fromhex(x)
        inner = ", ".join("0x%02x" % c for c in b)
        p("\t{ %d, { %s } }," % (len(b), inner if b else "0"))
    p("};")
    p("")
    p("/* merkle_kat_roots[n - 1]: root of the first n KAT leaves. */")
    p("static const unsigned char merkle_kat_roots[MERKLE_KAT_LEAVES][32] = {")
    for n, r in enumerate(KAT_ROOTS, 1):
        p("\t{ /* n = %d */" % n)
        p(c_bytes(bytes.fromhex(r), "\t\t"))
        p("\t},")
    p("};")
    p("")
    p("#endif /* PRIVAUDIT_MERKLE_VECTORS_H */")
    sys.stdout.write("\n".join(w) + "\n")


def cmd_selftest(a):
    selftest()
    print("ok")


def cmd_entries(a):
    for fr in load(a.dir).frames:
        print("%d %s" % (fr.index, base64.b64encode(fr.entry).decode()))


def cmd_ship(a):
    import json
    log = load(a.dir)
    log_id = a.log_id or log.segments[0].data[32:64].hex()
    origin = a.origin
    if origin is None:
        # the genesis record's origin: field 2 of the Genesis body
        g = record_body(log.frames[0].record)
        origin = bytes(message_fields(g[1])[2]).decode()
    n = 0
    for fr in log.frames:
        if fr.index < a.start or (a.to is not None and fr.index >= a.to):
            continue
        num = record_body(fr.record)[0]
        msgid = "checkpoint" if num == F_CHECKPOINT else "record"
        body = {"privaudit": 1, "origin": origin, "log_id": log_id, "index": fr.index,
                "kind": "reference", "entry": base64.b64encode(fr.entry).decode(),
                "fields": {"from": "paref.py"}}
        print("<86>1 2026-01-01T00:00:00.000000Z paref privaudit 1 %s - %s"
              % (msgid, json.dumps(body, separators=(",", ":"))))
        n += 1
    if a.sync is not None:
        body = {"privaudit": 1, "origin": origin, "log_id": log_id, "size": a.sync,
                "acked": a.sync}
        print("<86>1 2026-01-01T00:00:00.000000Z paref privaudit 1 sync - %s"
              % json.dumps(body, separators=(",", ":")))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(prog="paref.py", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("root")
    s.add_argument("dir")
    s.add_argument("n", nargs="?", type=int)
    s.set_defaults(fn=cmd_root)
    for name, fn in (("check", cmd_check), ("frames", cmd_frames), ("texts", cmd_texts),
                     ("checkpoints", cmd_checkpoints)):
        s = sub.add_parser(name)
        s.add_argument("dir")
        s.set_defaults(fn=fn)
    s = sub.add_parser("escape")
    s.add_argument("file", nargs="?")
    s.set_defaults(fn=cmd_escape)
    for name, fn in (("flip", lambda a: cmd_flip(a, False)),
                     ("forge", lambda a: cmd_flip(a, True)),
                     ("delete", cmd_delete), ("insert", cmd_insert),
                     ("truncate", cmd_truncate), ("shorten", cmd_shorten)):
        s = sub.add_parser(name)
        s.add_argument("dir")
        s.add_argument("index", type=int)
        s.set_defaults(fn=fn)
    s = sub.add_parser("setlen")
    s.add_argument("dir")
    s.add_argument("index", type=int)
    s.add_argument("value", type=lambda x: int(x, 0))
    s.set_defaults(fn=cmd_setlen)
    s = sub.add_parser("swap")
    s.add_argument("dir")
    s.add_argument("i", type=int)
    s.add_argument("j", type=int)
    s.set_defaults(fn=cmd_swap)
    s = sub.add_parser("splice")
    s.add_argument("dir")
    s.add_argument("otherdir")
    s.add_argument("index", type=int)
    s.set_defaults(fn=cmd_splice)
    s = sub.add_parser("tear")
    s.add_argument("dir")
    s.add_argument("nbytes", type=int)
    s.set_defaults(fn=cmd_tear)
    s = sub.add_parser("entries")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_entries)
    s = sub.add_parser("ship")
    s.add_argument("dir")
    s.add_argument("--origin")
    s.add_argument("--log-id")
    s.add_argument("--from", dest="start", type=int, default=0)
    s.add_argument("--to", type=int)
    s.add_argument("--sync", type=int)
    s.set_defaults(fn=cmd_ship)
    s = sub.add_parser("vectors")
    s.set_defaults(fn=cmd_vectors)
    s = sub.add_parser("selftest")
    s.set_defaults(fn=cmd_selftest)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
