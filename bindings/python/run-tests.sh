#!/bin/sh
# Run the Python binding's tests against the libkeel of the build tree:
# make check runs this with KEEL_TOP_BUILDDIR, KEEL_TOP_SRCDIR and
# KEEL_TEST_ROOTFS set (AM_TESTS_ENVIRONMENT). Uses Debian's python3
# (/usr/bin/python3, or $PYTHON); a missing one is a failure, not a skip.
set -eu
top_builddir=${KEEL_TOP_BUILDDIR:?run through make check, or set KEEL_TOP_BUILDDIR}
top_srcdir=${KEEL_TOP_SRCDIR:?run through make check, or set KEEL_TOP_SRCDIR}
python=${PYTHON:-/usr/bin/python3}
[ -x "$python" ] || { echo "python bindings: $python not found (apt-get install python3)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
	{ echo "python bindings: $python is older than 3.9" >&2; exit 1; }

export KEEL_LIBRARY="$top_builddir/.libs/libkeel.so.1"
. "$top_srcdir/bindings/sanitizer-env.sh"
keel_sanitizer_env "$KEEL_LIBRARY"
export KEEL_TEST_ROOTFS="${KEEL_TEST_ROOTFS:-$top_builddir/tests/rootfs}"
export PYTHONPATH="$top_srcdir/bindings/python"
# The source tree may be read-only (distcheck): no __pycache__ in it.
export PYTHONDONTWRITEBYTECODE=1
status=0
"$python" "$top_srcdir/bindings/python/tests/run.py" || status=$?
remove_default_keel_parent
exit $status
