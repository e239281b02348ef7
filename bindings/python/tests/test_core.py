"""Library loading, version, features and the error model."""

import errno
import os
import unittest

import keel
from helpers import cgroup2_mount, unique


class TestLibrary(unittest.TestCase):
    def test_loaded_from_the_build_tree(self):
        want = os.environ.get("KEEL_LIBRARY")
        if want:
            self.assertEqual(os.path.realpath(keel.library_path()), os.path.realpath(want))
        # The loaded file is mapped in this process: the kernel says so.
        with open("/proc/self/maps") as f:
            maps = f.read()
        self.assertIn(os.path.realpath(keel.library_path()), maps)

    def test_version(self):
        v = keel.version()
        parts = [int(x) for x in v.split(".")]
        self.assertEqual(len(parts), 3)
        self.assertTrue(keel.version_at_least(*keel.REQUIRED_VERSION))
        self.assertTrue(keel.version_at_least(*parts))
        self.assertFalse(keel.version_at_least(parts[0] + 1, 0, 0))

    def test_features_match_the_kernel(self):
        with keel.Features() as f:
            mnt = cgroup2_mount()
            self.assertEqual(f.has(keel.Feature.CGROUP2), mnt is not None)
            self.assertEqual(f.cgroup2_path, mnt)
            if mnt:
                with open(os.path.join(mnt, "cgroup.controllers")) as c:
                    self.assertEqual(f.cgroup2_controllers, c.read().split())
            self.assertEqual(f.has(keel.Feature.TIME_NS), os.path.exists("/proc/self/ns/time"))
            self.assertEqual(keel.Features.name(keel.Feature.CLONE3), "clone3")
        with self.assertRaises(ValueError):
            f.has(keel.Feature.CLONE3)   # closed


class TestErrors(unittest.TestCase):
    def test_missing_cgroup_is_enoent_with_the_library_message(self):
        name = unique()
        with self.assertRaises(keel.KeelError) as cm:
            keel.Cgroup.open(name)
        e = cm.exception
        self.assertIsInstance(e, OSError)
        self.assertEqual(e.errno, errno.ENOENT)
        self.assertIn(name, str(e))
        self.assertEqual(str(e), e.message)
        self.assertEqual(e.strerror, e.message)

    def test_bad_container_id_is_einval(self):
        with self.assertRaises(keel.KeelError) as cm:
            keel.Container("../etc")
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(cm.exception.code, keel.ErrorCode.INVALID)
        self.assertIn("../etc", cm.exception.message)

    def test_bad_cgroup_path_is_einval(self):
        with self.assertRaises(keel.KeelError) as cm:
            keel.Cgroup.create("a/../b")
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_errors_pickle(self):
        import pickle
        e = keel.KeelError(errno.EPERM, "cgroup x: nope", keel.ErrorCode.SYSTEM)
        e2 = pickle.loads(pickle.dumps(e))
        self.assertEqual((e2.errno, e2.message, e2.code), (e.errno, e.message, e.code))


if __name__ == "__main__":
    unittest.main()
