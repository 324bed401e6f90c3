#!/usr/bin/python3
"""Runs a program confined as a systemd unit file's hardening would confine
it, so that tests can check netd works under scripts/netd.service without
a running systemd:

  confine.py UNIT PROGRAM [ARG...]

Applied: SystemCallFilter= (deny lists, '~@group ...', each group expanded
by systemd-analyze), RestrictNamespaces= (unshare, clone and setns of any
other kind killed), then CapabilityBoundingSet= and NoNewPrivileges= by
setpriv. A call the unit denies kills the program with SIGSYS, as systemd's
default action does.
"""
import os
import subprocess
import sys

import seccomp

NAMESPACES = {
    "cgroup": 0x02000000, "ipc": 0x08000000, "net": 0x40000000, "mnt": 0x00020000,
    "pid": 0x20000000, "user": 0x10000000, "uts": 0x04000000,
}


def unit_settings(path):
    settings = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def expand(group):
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], check=True,
                         capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names += expand(line) if line.startswith("@") else [line]
    return names


def denied_syscalls(settings):
    names = []
    for value in settings.get("SystemCallFilter", []):
        if not value.startswith("~"):
            sys.exit("confine.py: only deny lists (~...) are supported: " + value)
        for word in value[1:].split():
            names += expand(word) if word.startswith("@") else [word]
    return sorted(set(names))


def main(argv):
    settings = unit_settings(argv[1])
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    kill = seccomp.KILL_PROCESS
    for name in denied_syscalls(settings):
        try:
            f.add_rule(kill, name)
        except (RuntimeError, ValueError):
            pass  # not a call of this architecture
    for value in settings.get("RestrictNamespaces", []):
        allowed = set(value.split())
        for ns, flag in NAMESPACES.items():
            if ns in allowed:
                continue
            f.add_rule(kill, "unshare", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
            f.add_rule(kill, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
            f.add_rule(kill, "setns", seccomp.Arg(1, seccomp.MASKED_EQ, flag, flag))
    caps = []
    for value in settings.get("CapabilityBoundingSet", []):
        caps += [c.lower().removeprefix("cap_") for c in value.split()]
    cmd = ["setpriv"]
    if caps:
        cmd.append("--bounding-set=-all," + ",".join("+" + c for c in caps))
        cmd.append("--inh-caps=-all")
    if settings.get("NoNewPrivileges", ["no"])[-1] == "yes":
        cmd.append("--no-new-privs")
    f.load()
    os.execvp("setpriv", cmd + ["--"] + argv[2:])


if __name__ == "__main__":
    main(sys.argv)
