#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""fleet-lag.py: the collector's side of bench-fleet.sh's lag run.

  fleet-lag.py watch ROOT OUT STOPFILE
      every 10 ms until STOPFILE exists: for each mirror under ROOT, the
      frames its segment files hold so far (their indexes) and the tree size
      of its checkpoint file (the newest checkpoint collect verified, written
      once durable); writes "mirror index t_frame" and "mirror size t_ckpt"
      lines (CLOCK_REALTIME seconds) to OUT.
  fleet-lag.py report OUT SINCE MIRROR=EXPORT...
      joins them with each host's records (privaudit export --json of the
      host's log, EXPORT), keeps the application records (the writers')
      made at SINCE (unix seconds) or later,
      and prints the lag from each record's time to (1) its frame in the
      mirror and (2) a verified checkpoint over it: count, p50, p99, max.

Segment layout (doc/format.md): a 64-byte header, then frames of a 4-byte
big-endian length L, L bytes of entry (an 8-byte big-endian index first),
a 4-byte CRC-32C.  Standard library only."""
import json
import os
import re
import struct
import sys
import time

HEADER = 64
SEG_RE = re.compile(r"^seg-[0-9a-f]{16}$")


def watch(root, out, stopfile):
    pos = {}      # (mirror, segment) -> offset of the next frame
    seen = {}     # mirror -> newest checkpoint size seen
    with open(out, "w") as o:
        while not os.path.exists(stopfile):
            now = time.time()
            try:
                mirrors = [d for d in os.listdir(root) if "-" in d and d != "quarantine"]
            except FileNotFoundError:
                mirrors = []
            for m in mirrors:
                d = os.path.join(root, m)
                try:
                    segs = sorted(s for s in os.listdir(d) if SEG_RE.match(s))
                except FileNotFoundError:
                    continue
                for s in segs:
                    key = (m, s)
                    p = pos.get(key, HEADER)
                    try:
                        with open(os.path.join(d, s), "rb") as f:
                            f.seek(p)
                            data = f.read()
                    except FileNotFoundError:
                        continue
                    q = 0
                    while len(data) - q >= 4:
                        (n,) = struct.unpack_from(">I", data, q)
                        if len(data) - q < 8 + n or n < 9:
                            break
                        (index,) = struct.unpack_from(">Q", data, q + 4)
                        o.write("%s frame %d %.6f\n" % (m, index, now))
                        q += 8 + n
                    pos[key] = p + q
                try:
                    with open(os.path.join(d, "checkpoint")) as f:
                        size = int(f.read().split("\n")[1])
                except (FileNotFoundError, IndexError, ValueError):
                    continue
                if size > seen.get(m, 0):
                    seen[m] = size
                    o.write("%s ckpt %d %.6f\n" % (m, size, now))
            o.flush()
            time.sleep(0.01)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def report(out, since, pairs):
    frames, ckpts = {}, {}
    for line in open(out):
        m, what, n, t = line.split()
        if what == "frame":
            frames.setdefault(m, {}).setdefault(int(n), float(t))
        else:
            ckpts.setdefault(m, []).append((int(n), float(t)))
    lag_frame, lag_ckpt, missing = [], [], 0
    for pair in pairs:
        m, export = pair.split("=", 1)
        fr = frames.get(m, {})
        ck = ckpts.get(m, [])
        for line in open(export):
            r = json.loads(line)
            if r["kind"] != "application" or r["time_ns"] / 1e9 < since:
                continue
            i, t0 = r["index"], r["time_ns"] / 1e9
            if i not in fr:
                missing += 1
                continue
            lag_frame.append(fr[i] - t0)
            t_ck = next((t for size, t in ck if size > i), None)
            if t_ck is not None:
                lag_ckpt.append(t_ck - t0)
    for name, xs in (("in the mirror", lag_frame), ("under a verified checkpoint", lag_ckpt)):
        print("  lag to %-28s %7d records  p50 %.3f s  p99 %.3f s  max %.3f s"
              % (name + ":", len(xs), pct(xs, 50), pct(xs, 99), max(xs) if xs else float("nan")))
    if missing:
        print("  %d records never seen in a mirror while watching" % missing)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "watch":
        watch(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 4 and sys.argv[1] == "report":
        report(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
