"""keel.net in a network namespace this test makes (never the host's).

Read-back goes through `ip` run inside that namespace (nsenter), i.e. the
kernel's view, not the library's.
"""

import errno
import subprocess
import unittest

import keel
from helpers import missing_link_kinds, missing_tools, needs, unique


@needs(missing_tools("unshare", "nsenter", "ip") or missing_link_kinds("veth", "bridge"))
class TestNet(unittest.TestCase):
    def setUp(self):
        # A process in a new network namespace; the namespace ends with it.
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "600"])
        self.addCleanup(self._stop_holder)
        self.ns = self._open()
        self.addCleanup(self.ns.close)

    def _open(self):
        # unshare has made the namespace once /proc/PID/ns/net differs from ours.
        import os
        import time
        mine = os.readlink("/proc/self/ns/net")
        for _ in range(500):
            if os.readlink("/proc/%d/ns/net" % self.holder.pid) != mine:
                return keel.net.NetNS.open_pid(self.holder.pid)
            time.sleep(0.01)
        self.fail("unshare --net did not make a namespace")

    def _stop_holder(self):
        self.holder.kill()
        self.holder.wait()

    def ip(self, *args):
        return subprocess.run(["nsenter", "-t", str(self.holder.pid), "-n", "ip", "-o"] + list(args),
                              check=True, capture_output=True, text=True).stdout

    def test_bridge_and_veth(self):
        br = unique("kb")
        with self.ns.bridge(br):
            self.assertIn(br + ":", self.ip("link", "show", "type", "bridge"))
            with self.ns.veth(unique("kv"), unique("kv")) as v:
                self.ns.link_set_master(v.name, br)
                self.ns.link_set_up(v.name)
                self.ns.link_set_up(v.peer)
                self.assertIn("master " + br, self.ip("link", "show", v.name))
                self.ns.addr_add(v.peer, "10.77.0.2/24")
                self.assertIn("10.77.0.2/24", self.ip("addr", "show", v.peer))
                self.assertIn("10.77.0.2/24", self.ns.addr_list(v.peer))
                st = self.ns.link_state(v.peer)
                self.assertTrue(st.up)
                self.assertIn(st.mac, self.ip("link", "show", v.peer))
                self.ns.link_set_mtu(v.peer, 1400)
                self.assertIn("mtu 1400", self.ip("link", "show", v.peer))
                self.ns.route_add("10.78.0.0/16", "10.77.0.1")
                self.assertIn("10.78.0.0/16 via 10.77.0.1", self.ip("route", "show"))
            self.assertEqual(self.ip("link", "show", "type", "veth"), "")
        self.assertEqual(self.ip("link", "show", "type", "bridge"), "")

    def test_errors(self):
        br = unique("kb")
        self.ns.bridge_create(br)
        self.addCleanup(self.ns.bridge_delete, br)
        with self.assertRaises(keel.KeelError) as cm:
            self.ns.bridge_create(br)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        self.assertIn(br, cm.exception.message)
        missing = unique("kx")
        with self.assertRaises(keel.KeelError) as cm:
            self.ns.link_delete(missing)
        self.assertEqual(cm.exception.errno, errno.ENODEV)
        self.assertIn(missing, cm.exception.message)
        with self.assertRaises(keel.KeelError) as cm:
            self.ns.bridge_create("a-name-longer-than-fifteen")
        self.assertEqual(cm.exception.errno, errno.EINVAL)


if __name__ == "__main__":
    unittest.main()
