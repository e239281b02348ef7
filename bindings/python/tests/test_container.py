"""keel.Container: run and read output, exec, limits, stats, lifecycle errors.

Each test makes containers with unique ids in its own state root on the
busybox rootfs (as an image layer, so the shared rootfs is never written),
and deletes them at cleanup even when it fails.
"""

import errno
import os
import signal
import unittest

import keel
from helpers import StateRootCase, cgroup2_mount, events, read, unique


def ns_inode(pid, ns):
    return os.readlink("/proc/%d/ns/%s" % (pid, ns))


class TestContainer(StateRootCase):
    def test_run_and_read_output(self):
        c = self.container(args=["sh", "-c", "echo hello from $(hostname); exit 3"],
                           hostname="kpyhost", stdout=keel.PIPE)
        c.run()
        out = c.stdout.read()
        st = c.wait(timeout=30)
        self.assertEqual(out, b"hello from kpyhost\n")
        self.assertEqual(st, keel.ExitStatus(3, 0))
        self.assertEqual(c.state, keel.ContainerState.STOPPED)
        self.assertEqual(c.exit_status(), keel.ExitStatus(3, 0))

    def test_with_block_deletes_everything(self):
        with keel.Container(unique(), state_root=self.state_root, layers=[os.environ["KEEL_TEST_ROOTFS"]],
                            args=["sleep", "600"]) as c:
            c.run()
            cid = c.id
            cgdir = c.cgroup.path
            self.assertTrue(os.path.isdir(cgdir))
            self.assertIn(cid, keel.Container.list(self.state_root))
        # Deleted: the cgroup is gone (the kernel refuses to remove a
        # populated one, so no process is left) and so is the state.
        self.assertFalse(os.path.exists(cgdir))
        self.assertNotIn(cid, keel.Container.list(self.state_root))
        self.assertFalse(os.path.exists(os.path.join(self.state_root, cid)))

    def test_namespaces_are_the_kernels(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        for ns in ("pid", "mnt", "net", "uts", "ipc", "cgroup"):
            self.assertNotEqual(ns_inode(c.pid, ns), ns_inode(os.getpid(), ns), ns)
        self.assertEqual(ns_inode(c.pid, "user"), ns_inode(os.getpid(), "user"))

    def test_exec_joins_the_container(self):
        c = self.container(args=["sleep", "600"], hostname="kpyexec")
        c.run()
        with c.exec(["sh", "-c", "hostname; readlink /proc/self/ns/pid; echo $GREETING; pwd"],
                    env={"GREETING": "hi"}, cwd="/tmp", stdout=keel.PIPE) as p:
            out = p.stdout.read().decode().splitlines()
            self.assertEqual(p.wait(timeout=30), keel.ExitStatus(0, 0))
        self.assertEqual(out, ["kpyexec", ns_inode(c.pid, "pid"), "hi", "/tmp"])

    def test_exec_missing_command(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        with self.assertRaises(keel.KeelError) as cm:
            c.exec(["/no/such/program"])
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn("/no/such/program", cm.exception.message)

    def test_exec_process_kill(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        p = c.exec(["sleep", "600"])
        self.assertIsNone(p.poll())
        p.kill(keel.Signal.SIGTERM)
        self.assertEqual(p.wait(timeout=30), keel.ExitStatus(-1, keel.Signal.SIGTERM))
        p.close()

    def test_cgroup_stats_and_pause(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        cg = c.cgroup
        rel = cg.path[len(cgroup2_mount()):]
        self.assertIn("0::%s\n" % rel, read("/proc/%d/cgroup" % c.pid))
        self.assertTrue(cg.populated)
        self.assertEqual(events(cg.path)["populated"], "1")
        self.assertGreaterEqual(cg.cpu_stat(keel.CpuStat.USAGE_USEC), 0)
        c.pause()
        self.assertEqual(c.state, keel.ContainerState.PAUSED)
        self.assertEqual(events(cg.path)["frozen"], "1")
        c.resume()
        self.assertEqual(c.state, keel.ContainerState.RUNNING)
        self.assertEqual(events(cg.path)["frozen"], "0")

    def test_limits_fail_clearly_without_controllers(self):
        controllers = read(os.path.join(cgroup2_mount(), "cgroup.controllers")).split()
        for kw, controller in ((dict(memory_max=64 << 20), "memory"),
                               (dict(pids_max=32), "pids"),
                               (dict(cpu_max=(50000, 100000)), "cpu")):
            with self.subTest(controller=controller):
                c = self.container(args=["true"], **kw)
                if controller in controllers:
                    c.run()
                    continue
                with self.assertRaises(keel.KeelError) as cm:
                    c.run()
                self.assertEqual(cm.exception.errno, errno.ENOENT)
                self.assertIn("controller %s" % controller, cm.exception.message)
                # Nothing is left: no state, no cgroup.
                self.assertNotIn(c.id, keel.Container.list(self.state_root))

    def test_lifecycle_errors(self):
        c = self.container(args=["sleep", "600"])
        c.create()
        self.assertEqual(c.state, keel.ContainerState.CREATED)
        c.start()
        with self.assertRaises(keel.KeelError) as cm:
            c.start()
        self.assertEqual(cm.exception.code, keel.ErrorCode.STATE)
        self.assertIn(c.id, cm.exception.message)
        with self.assertRaises(keel.KeelError) as cm:
            c.delete()
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        c.kill(keel.Signal.SIGKILL)
        self.assertEqual(c.wait(timeout=30).signal, keel.Signal.SIGKILL)
        with self.assertRaises(keel.KeelError) as cm:
            keel.Container(c.id, state_root=self.state_root, layers=[os.environ["KEEL_TEST_ROOTFS"]],
                           args=["true"]).create()
        self.assertEqual(cm.exception.errno, errno.EEXIST)

    def test_load_from_state(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        with keel.Container.load(c.id, self.state_root) as other:
            self.assertEqual(other.pid, c.pid)
            self.assertEqual(other.state, keel.ContainerState.RUNNING)
            with other.exec(["true"]) as p:
                self.assertEqual(p.wait(timeout=30).code, 0)
        # Closing a loaded handle leaves the container alone.
        self.assertEqual(c.state, keel.ContainerState.RUNNING)
        with self.assertRaises(keel.KeelError) as cm:
            keel.Container.load(unique(), self.state_root)
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_stop_signal_default_set_and_loaded(self):
        self.assertEqual(self.container(args=["true"]).stop_signal, signal.SIGTERM)
        c = self.container(args=["sleep", "600"], stop_signal=signal.SIGUSR2)
        self.assertIs(c.stop_signal, signal.SIGUSR2)
        c.create()
        # The state on disk carries it: a handle loaded from the state root reads it.
        with keel.Container.load(c.id, self.state_root) as other:
            self.assertIs(other.stop_signal, signal.SIGUSR2)
        # A real-time signal Python has no name for is an int.
        rt = self.container(args=["true"], stop_signal=40)
        self.assertEqual((rt.stop_signal, type(rt.stop_signal)), (40, int))

    def test_kill_with_stop_signal_reaches_a_trap(self):
        # The init is pid 1 of its namespace: the kernel drops a signal it
        # has no handler for, so exit 42 proves the trap ran on SIGUSR1.
        c = self.container(args=["sh", "-c", "trap 'exit 42' USR1; echo ready; "
                                             "while :; do sleep 0.1; done"],
                           stop_signal=signal.SIGUSR1, stdout=keel.PIPE)
        c.run()
        self.assertEqual(c.stdout.readline(), b"ready\n")
        with keel.Container.load(c.id, self.state_root) as other:
            other.kill(other.stop_signal)
        self.assertEqual(c.wait(timeout=30), keel.ExitStatus(42, 0))

    def test_bad_stop_signal_raises_keels_message(self):
        for bad in (0, 65, -1):
            with self.subTest(sig=bad), self.assertRaises(keel.KeelError) as cm:
                self.container(args=["true"], stop_signal=bad)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIn("bad signal %d (a signal number from 1 to 64)" % bad, cm.exception.message)
        # Beyond a C int, not truncated to a good number (2**32 + 15 is not SIGTERM).
        with self.assertRaises(keel.KeelError) as cm:
            self.container(args=["true"], stop_signal=2**32 + 15)
        self.assertIn("bad signal %d" % (2**32 + 15), cm.exception.message)
        with self.assertRaises(TypeError):
            self.container(args=["true"], stop_signal="SIGTERM")

    def test_wait_timeout(self):
        c = self.container(args=["sleep", "600"])
        c.run()
        with self.assertRaises(TimeoutError):
            c.wait(timeout=0.2)
        self.assertIsNone(c.poll())
        self.assertEqual(c.state, keel.ContainerState.RUNNING)


if __name__ == "__main__":
    unittest.main()
