"""Run every test of the Python binding; exit 0 (pass) or 1 (fail).

A skip is never a pass: a test may only be skipped with a reason from a
host probe (helpers.needs), and every skip is printed as one line
"SKIP: python/<test>: <reason>" that .ci/summary collects. The last line,
"python bindings: N passed, N failed, N skipped", is what it counts.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    broken = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = unexplained = 0
    for test, why in result.skipped:
        if why.strip():
            skipped += 1
            print("SKIP: python/%s: %s" % (test.id(), why.strip()))
        else:  # a skip without a reason is a failure
            unexplained += 1
            print("FAIL: python/%s: skipped without a reason" % test.id())
    passed = result.testsRun - broken - skipped - unexplained
    failed = broken + unexplained
    print("python bindings: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
