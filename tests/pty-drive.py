#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""pty-drive.py: run a command on a new pseudo-terminal, as a person at a
terminal would, and type into it.

usage: pty-drive.py [--rows R] [--cols C] [--timeout S] [--transcript FILE]
                    STEP... -- COMMAND [ARG...]

Steps, in order:
  expect:REGEX   wait until the output so far matches REGEX (Python re,
                 searched in the output since the last expect)
  send:TEXT      type TEXT; \\r, \\n, \\e (ESC), \\xNN are understood
  sleep:SECONDS  wait
  winsize:RxC    change the terminal's size (SIGWINCH reaches the command)
After the steps, the output is read until the command exits.  Exit status:
the command's, or 124 when a step or the end timed out.  The whole output
goes to --transcript FILE.
"""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            if n == 'r':
                out += b'\r'
            elif n == 'n':
                out += b'\n'
            elif n == 'e':
                out += b'\x1b'
            elif n == 'x':
                out.append(int(s[i + 2:i + 4], 16))
                i += 2
            elif n == '\\':
                out += b'\\'
            else:
                out += ('\\' + n).encode()
            i += 2
            continue
        out += c.encode()
        i += 1
    return bytes(out)


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    rows, cols, timeout, transcript = 24, 80, 30.0, None
    while args and args[0].startswith('--') and args[0] != '--':
        opt = args.pop(0)
        if opt == '--rows':
            rows = int(args.pop(0))
        elif opt == '--cols':
            cols = int(args.pop(0))
        elif opt == '--timeout':
            timeout = float(args.pop(0))
        elif opt == '--transcript':
            transcript = args.pop(0)
        else:
            sys.exit('pty-drive.py: unknown option ' + opt)
    if '--' not in args:
        sys.exit(__doc__)
    cut = args.index('--')
    steps, command = args[:cut], args[cut + 1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'xterm'
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    set_size(fd, rows, cols)
    out = bytearray()
    mark = 0
    status = None
    timed_out = False

    def pump(wait):
        """Read what is there (waiting at most wait seconds); False at EOF."""
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        out.extend(data)
        return True

    for step in steps:
        kind, _, arg = step.partition(':')
        if kind == 'expect':
            pat = re.compile(arg.encode())
            end = time.monotonic() + timeout
            while not pat.search(out, mark):
                if time.monotonic() > end or not pump(0.1):
                    timed_out = True
                    break
            if timed_out:
                sys.stderr.write('pty-drive.py: timed out waiting for %r; output so far:\n%r\n'
                                 % (arg, bytes(out[-2000:])))
                break
            mark = pat.search(out, mark).end()
        elif kind == 'send':
            os.write(fd, unescape(arg))
        elif kind == 'sleep':
            end = time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(0.05)
        elif kind == 'winsize':
            r, c = arg.split('x')
            set_size(fd, int(r), int(c))
        else:
            sys.exit('pty-drive.py: unknown step ' + step)
    end = time.monotonic() + timeout
    while not timed_out:
        if not pump(0.2):
            break
        if time.monotonic() > end:
            timed_out = True
    if timed_out:
        os.kill(pid, 9)
    _, st = os.waitpid(pid, 0)
    os.close(fd)
    if transcript:
        with open(transcript, 'wb') as f:
            f.write(out)
    if timed_out:
        sys.exit(124)
    status = os.waitstatus_to_exitcode(st)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == '__main__':
    main()
