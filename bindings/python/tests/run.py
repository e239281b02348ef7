"""Run every test of the Python binding; exit 0 (pass) or 1 (fail).

A skipped test fails the run: make check must never count a skip as a pass.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        print("python bindings: FAIL, tests were skipped: " + ", ".join(str(t) for t, _ in result.skipped))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
