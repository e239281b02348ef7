"""`pip install` of the package works offline, and the installed copy runs."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from helpers import missing_modules, needs

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)


@needs(missing_modules("pip", "setuptools"))
class TestInstall(unittest.TestCase):
    def test_pip_install_into_a_target_dir(self):
        tmp = tempfile.mkdtemp(prefix="keel-py-pip-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        # Build from a copy: pip builds in the source tree, which may be read-only.
        src = os.path.join(tmp, "src")
        shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                                "*.egg-info"))
        target = os.path.join(tmp, "site")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                        "--no-build-isolation", "--no-deps", "--disable-pip-version-check",
                        "--target", target, src], check=True)
        self.assertTrue(os.path.isfile(os.path.join(target, "keel", "container.py")))
        env = dict(os.environ, PYTHONPATH=target)
        out = subprocess.run([sys.executable, "-c",
                              "import keel; print(keel.__file__); print(keel.version())"],
                             env=env, check=True, capture_output=True, text=True).stdout.split()
        self.assertTrue(out[0].startswith(target), out[0])
        self.assertRegex(out[1], r"^\d+\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
