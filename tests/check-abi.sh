#!/bin/sh
# Compare the built libkeel.so.1 with the recorded ABI in abi/libkeel.abi.
# Any removed or changed function, variable or type that a public function
# uses fails the check. Added symbols pass with a note: record them on
# purpose with `make abi-update` and commit abi/.
set -u
top_srcdir=${KEEL_TOP_SRCDIR:-$(dirname "$0")/..}
builddir=${KEEL_TOP_BUILDDIR:-.}
so=$builddir/.libs/libkeel.so.1
baseline=$top_srcdir/abi/libkeel.abi
if ! command -v abidiff >/dev/null 2>&1; then
	echo "check-abi: abidiff not found; on Debian: apt-get install abigail-tools"
	exit 1
fi
[ -f "$baseline" ] || { echo "check-abi: no baseline $baseline; create it with make abi-update"; exit 1; }
# The structs behind opaque handles are the library's own business.
out=$(abidiff --suppressions "$top_srcdir/abi/opaque-types.suppr" \
	--headers-dir2 "$top_srcdir/include/keel" --headers-dir2 "$builddir/include/keel" \
	"$baseline" "$so" 2>&1)
rc=$?
# abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change
if [ $((rc & 3)) -ne 0 ]; then
	echo "check-abi: abidiff failed to run (status $rc):"; echo "$out"; exit 1
fi
# Removed or Changed counts other than 0 in abidiff's summary lines.
broken=$(echo "$out" | grep -E 'changes summary:' | grep -E '[1-9][0-9]* (Removed|Changed)' || true)
if [ $((rc & 8)) -ne 0 ] || [ -n "$broken" ]; then
	echo "$out"
	echo "check-abi: INCOMPATIBLE ABI change against abi/libkeel.abi:"
	echo "check-abi: a public function or type was removed or changed, which libkeel.so.1 never allows."
	echo "check-abi: restore it, or add a new symbol in a new version node of src/libkeel.map."
	exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
	echo "$out"
	echo "check-abi: symbols were added. If deliberate, record them: make abi-update && git add abi/"
fi
echo "check-abi: no incompatible change against abi/libkeel.abi"
exit 0
