"""Shared test helpers: unique names, the rootfs."""

import ctypes
import importlib.util
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

import keel

ROOTFS = os.environ.get("KEEL_TEST_ROOTFS", "")

def unique(prefix="kpy"):
    """A name no other run uses: 'kpy' + 8 hex digits (fits a link name too)."""
    return prefix + uuid.uuid4().hex[:8]


def read(path):
    with open(path) as f:
        return f.read()


def cgroup2_mount():
    """The cgroup2 mount point, read from /proc/self/mountinfo (not from libkeel)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


def events(cgroup_dir):
    """cgroup.events as a dict, read from the kernel."""
    return dict(line.split() for line in read(os.path.join(cgroup_dir, "cgroup.events")).splitlines())


# --- host probes -----------------------------------------------------------
# What a test needs from the host (a tool, a kernel module, a filesystem),
# probed with the kernel and the tools directly, never through keel. Each
# returns None when the host has it, else a reason; needs() skips with that
# reason, and run.py prints every skip as "SKIP: python/<test>: <reason>".

def missing_tools(*names):
    for n in names:
        if shutil.which(n) is None:
            return "%s is not installed" % n
    return None


def missing_link_kinds(*kinds):
    """Can `ip link add` make each kind, in a throwaway network namespace?"""
    lacking = missing_tools("unshare", "ip")
    if lacking:
        return lacking
    for k in kinds:
        r = subprocess.run(["unshare", "--net", "ip", "link", "add", "kprobe0", "type", k],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "cannot create a %s link in a new network namespace: %s" % (k, r.stderr.strip())
    return None


def missing_fs(fstype):
    """fsopen(2) of the type (which loads its module on demand)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(430, fstype.encode(), 1)  # SYS_fsopen, FSOPEN_CLOEXEC
    if fd >= 0:
        os.close(fd)
        return None
    return "no %s filesystem in this kernel: fsopen: %s" % (fstype, os.strerror(ctypes.get_errno()))


def missing_modules(*names):
    for n in names:
        if importlib.util.find_spec(n) is None:
            return "python module %s is not installed" % n
    return None


def needs(missing):
    """Decorator: skip the test (or class) with the reason when missing is not None."""
    return unittest.skipIf(missing is not None, missing or "")


NO_OVERLAY = missing_fs("overlay")


class StateRootCase(unittest.TestCase):
    """A test with its own container state root, removed at the end."""

    def setUp(self):
        if NO_OVERLAY:  # every container here has the rootfs as an overlay layer
            self.skipTest(NO_OVERLAY)
        if not ROOTFS or not os.path.isfile(os.path.join(ROOTFS, "bin", "busybox")):
            self.fail("KEEL_TEST_ROOTFS is not a busybox rootfs: %r" % ROOTFS)
        self.state_root = tempfile.mkdtemp(prefix="keel-py-state-")
        self.addCleanup(shutil.rmtree, self.state_root, ignore_errors=True)

    def container(self, **kw):
        """A new container in this test's state root, deleted at cleanup even if the test fails."""
        kw.setdefault("state_root", self.state_root)
        kw.setdefault("layers", [ROOTFS])
        c = keel.Container(unique(), **kw)
        self.addCleanup(self._drop, c)
        return c

    @staticmethod
    def _drop(c):
        try:
            if c._h and c._created and not c._deleted:
                c.delete(force=True)
        finally:
            c.close()
