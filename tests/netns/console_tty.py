#!/usr/bin/env python3
"""A console session on a terminal, as a person has one (tests/netns/test_vm.sh).

    console_tty.py PLAYNET P MACHINE ROWS COLS

Runs 'playnet console P MACHINE' on a pseudo-terminal of ROWS x COLS, logs
in at the toolkit guest's prompt when there is one, asks the guest for its
terminal's size, leaves with Ctrl-], and prints what the session showed.
Exit status 0 when the guest's size was ROWS COLS and leaving said how.
"""
import fcntl
import os
import select
import struct
import sys
import termios
import time


def read_until(fd, want, seconds, seen):
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        seen.extend(chunk)
        if b"\x1b[6n" in chunk:  # busybox's shell asks where the cursor is
            os.write(fd, b"\x1b[1;1R")
        if want in seen:
            return True
    return False


def main():
    playnet, pg, machine, rows, cols = sys.argv[1:6]
    pid, fd = os.forkpty()
    if pid == 0:
        os.execv(playnet, [playnet, "console", pg, machine])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(rows), int(cols), 0, 0))
    seen = bytearray()
    ok = True
    # A fresh login prompt, or a shell already logged in: Enter shows which.
    time.sleep(1)
    os.write(fd, b"\r")
    if read_until(fd, b"login: ", 5, seen):
        os.write(fd, b"root\r")
        read_until(fd, b"# ", 10, seen)
    # The answer's marker is not in the line typed (which the guest echoes).
    os.write(fd, b"stty size; echo SIZE-$((6*7))-DONE\r")
    if not read_until(fd, b"SIZE-42-DONE", 20, seen):
        print("no answer from the guest's shell")
        ok = False
    size = "%s %s" % (rows, cols)
    if size.encode() not in seen:
        print("the guest's size is not %s" % size)
        ok = False
    os.write(fd, b"\x1d")  # Ctrl-]
    if not read_until(fd, b"left the console (Ctrl-])", 10, seen):
        print("leaving did not say how")
        ok = False
    os.waitpid(pid, 0)
    sys.stdout.write(seen.decode("utf-8", "replace"))
    print()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
