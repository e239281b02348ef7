#!/bin/sh
# Every symbol exported in src/libkeel.map must be called by at least one
# C test or shell test under tests/ (tests/bench, the bindings and the
# examples do not count: they are not tests of the library's behaviour).
# Fails, naming each symbol no test mentions.
set -eu
top_srcdir=${KEEL_TOP_SRCDIR:-$(dirname "$0")/..}
map=$top_srcdir/src/libkeel.map
tests=$top_srcdir/tests
[ -f "$map" ] || { echo "check-tested: $map not found"; exit 1; }
symbols=$(sed -e 's,/\*.*\*/,,g' "$map" | grep -oE '^[[:space:]]*keel_[a-z0-9_]+;' | tr -d ' \t;' | sort -u)
files=$(find "$tests" -path "$tests/bench" -prune -o -type f \( -name '*.c' -o -name '*.sh' \) -print |
	grep -v '/check-tested\.sh$' | grep -v '/check-symbols\.sh$' | grep -v '/check-abi\.sh$')
# one list of every keel_ word the tests use, then a set difference
used=$(cat $files | grep -oE 'keel_[a-z0-9_]+' | sort -u)
missing=$(printf '%s\n' "$symbols" | grep -vxF "$used" || true)
n=$(printf '%s\n' "$symbols" | grep -c . || true)
if [ -n "$missing" ]; then
	for s in $missing; do
		echo "check-tested: $s is exported (src/libkeel.map) but no test under tests/ calls it"
	done
	echo "check-tested: FAIL: $(printf '%s\n' "$missing" | grep -c .) of $n exported symbols are untested"
	exit 1
fi
echo "check-tested: all $n exported symbols are used by a test under tests/"
