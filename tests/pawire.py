#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pawire.py: privauditd's wire format (privauditd/wire.h) from Python, for
the tests: build requests (well-formed or not), send them, read answers.

As a command:  pawire.py SOCKET KIND [--sync] [--seal] NAME=TEXT NAME:=INT ...
prints the answer's code and text and exits with the code (or 100 when no
answer came)."""
import socket
import struct
import sys

VERSION = 1
SYNC, SEAL = 1, 2
OK, BAD, TOOBIG, REFUSED, FAILED = 0, 1, 2, 3, 4


def body(kind, fields, flags=SYNC, version=VERSION):
    """A request body: fields is a list of (name, value), int or bytes/str."""
    kind = kind.encode() if isinstance(kind, str) else kind
    b = bytes([version, flags, len(kind)]) + kind
    for name, v in fields:
        name = name.encode() if isinstance(name, str) else name
        if isinstance(v, int):
            b += b'i' + bytes([len(name)]) + name + struct.pack('>q', v)
        else:
            v = v.encode() if isinstance(v, str) else v
            b += b'b' + bytes([len(name)]) + name + struct.pack('>I', len(v)) + v
    return b


def frame(b):
    return struct.pack('>I', len(b)) + b


def request(kind, fields, flags=SYNC):
    return frame(body(kind, fields, flags))


def read_answer(s):
    """(code, text) of one answer on socket s, or None when it closed first."""
    def exact(n):
        buf = b''
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    h = exact(4)
    if h is None:
        return None
    n = struct.unpack('>I', h)[0]
    b = exact(n)
    if b is None or len(b) < 2:
        return None
    return b[1], b[2:].decode('utf-8', 'replace')


def call(path, data, timeout=10.0):
    """Send raw bytes to the daemon at path, return its answer or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(data)
        return read_answer(s)
    finally:
        s.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, kind = argv[1], argv[2]
    flags, fields = 0, []
    for a in argv[3:]:
        if a == '--sync':
            flags |= SYNC
        elif a == '--seal':
            flags |= SEAL
        elif ':=' in a:
            n, v = a.split(':=', 1)
            fields.append((n, int(v)))
        elif '=' in a:
            n, v = a.split('=', 1)
            fields.append((n, v))
        else:
            sys.stderr.write('bad argument: %s\n' % a)
            return 2
    try:
        ans = call(path, request(kind, fields, flags))
    except OSError as e:
        print('no answer: %s' % e)
        return 100
    if ans is None:
        print('no answer: closed')
        return 100
    print('%d %s' % ans)
    return ans[0]


if __name__ == '__main__':
    sys.exit(main(sys.argv))
