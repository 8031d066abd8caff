#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pack-log.py: turn real privaudit logs into fuzz inputs (make-corpus.sh).

  pack-log.py archive DIR [--pin] [--trusted NOTE] [--max-age S NOW] [--cut N] -o FILE
      DIR as the archive fuzz_segment.c reads: each seg-* file ('s', its
      number), the checkpoint file ('c'), log.pub to pin ('p'), a trusted
      note ('t'), --max-age ('m'); each a tag, a 4-byte big-endian length and
      the bytes.  --cut N drops the last N bytes of the last segment (what a
      writer killed mid-append leaves).
  pack-log.py frames SEGMENT OUTDIR PREFIX
      For each kind of record in SEGMENT, the segment header and the first
      frame of that kind: small fuzz_record.c inputs, one per record kind.
  pack-log.py stream SEED IN OUT
      An audit stream with the 8 parameter bytes fuzz_stream.c reads first,
      drawn from SEED (grouper limits: the plugin's).
"""

import os
import random
import struct
import sys

SEG_HEADER = 64


def entry(tag, data, extra=b""):
    return tag + extra + struct.pack(">I", len(data)) + data


def archive(args):
    d = args[0]
    out, pin, trusted, max_age, cut = None, False, None, None, 0
    i = 1
    while i < len(args):
        a = args[i]
        if a == "-o":
            out = args[i + 1]; i += 2
        elif a == "--pin":
            pin = True; i += 1
        elif a == "--trusted":
            trusted = args[i + 1]; i += 2
        elif a == "--max-age":
            max_age = (int(args[i + 1]), int(args[i + 2])); i += 3
        elif a == "--cut":
            cut = int(args[i + 1]); i += 2
        else:
            sys.exit("pack-log.py archive: unknown argument " + a)
    segs = sorted(n for n in os.listdir(d) if n.startswith("seg-") and len(n) == 20)
    buf = b""
    for k, name in enumerate(segs):
        data = open(os.path.join(d, name), "rb").read()
        if cut and k == len(segs) - 1:
            data = data[:max(0, len(data) - cut)]
        buf += entry(b"s", data, bytes([int(name[4:], 16) & 0xff]))
    ck = os.path.join(d, "checkpoint")
    if os.path.exists(ck):
        buf += entry(b"c", open(ck, "rb").read())
    if pin:
        buf += entry(b"p", open(os.path.join(d, "log.pub"), "rb").read())
    if trusted:
        buf += entry(b"t", open(trusted, "rb").read())
    if max_age:
        buf += entry(b"m", struct.pack(">QQ", max_age[0], max_age[1]))
    open(out, "wb").write(buf)


def varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def body_field(rec):
    """Number of the Record's oneof body field (the first length-delimited
    field numbered 16 or above), or 0."""
    i = 0
    try:
        while i < len(rec):
            key, i = varint(rec, i)
            field, wt = key >> 3, key & 7
            if wt == 0:
                _, i = varint(rec, i)
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            elif wt == 2:
                n, i = varint(rec, i)
                if field >= 16:
                    return field
                i += n
            else:
                return 0
    except IndexError:
        pass
    return 0


def frames(args):
    seg, outdir, prefix = args
    data = open(seg, "rb").read()
    hdr, off, seen = data[:SEG_HEADER], SEG_HEADER, set()
    while off + 8 <= len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        if off + 8 + n > len(data):
            break
        frame = data[off:off + 8 + n]
        kind = body_field(frame[4 + 8:4 + n])
        if kind not in seen:
            seen.add(kind)
            open(os.path.join(outdir, "%s-kind%d" % (prefix, kind)), "wb").write(hdr + frame)
        off += 8 + n


def stream(args):
    seed, src, dst = int(args[0]), args[1], args[2]
    r = random.Random(seed)
    params = bytearray(r.randrange(256) for _ in range(8))
    params[5] = 0       # the plugin's own grouper limits
    params = bytes(params)
    open(dst, "wb").write(params + open(src, "rb").read())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"archive": archive, "frames": frames, "stream": stream}[cmd](args)


if __name__ == "__main__":
    main()
