"""Shared test helpers: unique names, the rootfs."""

import os
import shutil
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


class StateRootCase(unittest.TestCase):
    """A test with its own container state root, removed at the end."""

    def setUp(self):
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
