"""keel.Cgroup against the kernel's cgroup2 files.

This host's cgroup2 may have no memory/pids/cpu controller (a v1/v2
hybrid): limits are then checked to fail with a KeelError that names the
controller; where a controller is offered, the limit is read back from
the kernel's file instead.
"""

import errno
import os
import subprocess
import unittest

import keel
from helpers import cgroup2_mount, events, read, unique


def offered(controller):
    mnt = cgroup2_mount()
    return controller in read(os.path.join(mnt, "cgroup.controllers")).split()


class TestCgroup(unittest.TestCase):
    def setUp(self):
        self.cg = keel.Cgroup.create(unique())
        self.addCleanup(self._cleanup)
        self.procs = []

    def _cleanup(self):
        try:
            self.cg.remove(kill=True)
        finally:
            self.cg.close()
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                p.wait()
                if p.stdin:
                    p.stdin.close()

    def sleeper(self):
        """A process this test started (never the test runner itself)."""
        p = subprocess.Popen(["sleep", "600"])
        self.procs.append(p)
        return p

    def test_create_makes_a_directory_under_the_mount(self):
        self.assertTrue(os.path.isdir(self.cg.path))
        self.assertTrue(self.cg.path.startswith(cgroup2_mount()))
        self.assertEqual(self.cg.path, os.path.join(keel.default_parent(), os.path.basename(self.cg.path)))
        self.assertEqual(keel.mount_path(), cgroup2_mount())
        with keel.Cgroup.open(os.path.basename(self.cg.path)) as again:
            self.assertEqual(again.path, self.cg.path)

    def test_add_pid_populates_and_kill_empties(self):
        p = self.sleeper()
        self.assertFalse(self.cg.populated)
        self.cg.add_pid(p.pid)
        rel = self.cg.path[len(cgroup2_mount()):]
        self.assertIn("0::%s\n" % rel, read("/proc/%d/cgroup" % p.pid))
        self.assertEqual(events(self.cg.path)["populated"], "1")
        self.assertTrue(self.cg.populated)
        self.cg.kill()
        self.assertEqual(p.wait(), -9)
        self.assertEqual(events(self.cg.path)["populated"], "0")

    def test_freeze_and_thaw(self):
        p = self.sleeper()
        self.cg.add_pid(p.pid)
        self.cg.freeze(timeout=10)
        self.assertEqual(events(self.cg.path)["frozen"], "1")
        self.assertTrue(self.cg.frozen)
        self.cg.thaw(timeout=10)
        self.assertEqual(events(self.cg.path)["frozen"], "0")
        self.assertFalse(self.cg.frozen)

    def test_cpu_usage_stat(self):
        # cpu.stat's usage fields exist without the cpu controller.
        p = subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE)
        self.procs.append(p)
        self.cg.add_pid(p.pid)
        usage = self.cg.cpu_stat(keel.CpuStat.USAGE_USEC)
        kernel = dict(l.split() for l in read(os.path.join(self.cg.path, "cpu.stat")).splitlines())
        self.assertLessEqual(usage, int(kernel["usage_usec"]))
        self.assertGreaterEqual(usage, 0)
        self.assertEqual(self.cg.get_raw("cgroup.procs"), str(p.pid))

    def test_limits(self):
        for controller, setter, value, filename, want in (
                ("memory", self.cg.set_memory_max, 64 << 20, "memory.max", str(64 << 20)),
                ("pids", self.cg.set_pids_max, 20, "pids.max", "20"),
                ("cpu", lambda v: self.cg.set_cpu_max(*v), (50000, 100000), "cpu.max", "50000 100000")):
            with self.subTest(controller=controller):
                if offered(controller):
                    setter(value)
                    self.assertEqual(read(os.path.join(self.cg.path, filename)).strip(), want)
                else:
                    with self.assertRaises(keel.KeelError) as cm:
                        setter(value)
                    self.assertEqual(cm.exception.errno, errno.ENOENT)
                    self.assertIn(controller, cm.exception.message)
                    self.assertFalse(os.path.exists(os.path.join(self.cg.path, filename)))

    def test_stats_without_controller_fail_clearly(self):
        if offered("memory"):
            self.assertGreaterEqual(self.cg.memory_current, 0)
        else:
            with self.assertRaises(keel.KeelError) as cm:
                self.cg.memory_current
            self.assertEqual(cm.exception.errno, errno.ENOENT)
            self.assertIn("memory", cm.exception.message)

    def test_remove_deletes_the_directory(self):
        path = self.cg.path
        self.cg.remove()
        self.assertFalse(os.path.exists(path))

    def test_with_block_removes(self):
        with keel.Cgroup.create(unique()) as cg:
            path = cg.path
            self.assertTrue(os.path.isdir(path))
        self.assertFalse(os.path.exists(path))
        with self.assertRaises(ValueError):
            cg.path


if __name__ == "__main__":
    unittest.main()
