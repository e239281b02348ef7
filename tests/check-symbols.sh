#!/bin/sh
# The shared object must export exactly the symbols of src/libkeel.map, each
# with a KEEL_ version, all named keel_*, and every KEEL_PUBLIC function
# declared in the public headers must be among them.
set -eu
top_srcdir=${KEEL_TOP_SRCDIR:-$(dirname "$0")/..}
so=${KEEL_TOP_BUILDDIR:-.}/.libs/libkeel.so.1
map=$top_srcdir/src/libkeel.map
fail=0
[ -f "$so" ] || { echo "check-symbols: $so not built"; exit 1; }
readelf_out=$(readelf --dyn-syms -W "$so")
# defined, global or weak, non-ABS symbols (ABS ones are the version nodes)
exported=$(echo "$readelf_out" | awk '$1 ~ /^[0-9]+:$/ && $5 != "LOCAL" && $7 != "UND" && $7 != "ABS" && $8 != "" {print $8}' | sort -u)
names=$(echo "$exported" | sed 's/@.*//' | sort -u)
for s in $exported; do
	case $s in
	keel_*@@KEEL_*) ;;
	*) echo "check-symbols: exported symbol without a keel_ name or KEEL_ version: $s"; fail=1 ;;
	esac
done
in_map=$(sed -e 's,/\*.*\*/,,g' "$map" | grep -oE '^[[:space:]]*keel_[a-z0-9_]+;' | tr -d ' \t;' | sort -u)
in_headers=$(cat "$top_srcdir"/include/keel.h "$top_srcdir"/include/keel/*.h "$top_srcdir"/include/keel/version.h.in 2>/dev/null |
	tr '\n' ' ' | grep -oE 'KEEL_PUBLIC[^;(]*\(' | grep -oE 'keel_[a-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u)
for s in $in_map; do
	echo "$names" | grep -qx "$s" || { echo "check-symbols: $s is in libkeel.map but not exported (not defined, or not KEEL_PUBLIC)"; fail=1; }
done
for s in $names; do
	echo "$in_map" | grep -qx "$s" || { echo "check-symbols: $s is exported but not in libkeel.map"; fail=1; }
done
for s in $in_headers; do
	echo "$names" | grep -qx "$s" || { echo "check-symbols: $s is declared KEEL_PUBLIC in a header but not exported"; fail=1; }
done
for s in $names; do
	echo "$in_headers" | grep -qx "$s" || { echo "check-symbols: $s is exported but not declared KEEL_PUBLIC in include/"; fail=1; }
done
# abi/symbols-in-versions records the release each symbol arrived in (as
# curl's symbols-in-versions does); its major.minor must match the map node.
siv=$top_srcdir/abi/symbols-in-versions
for s in $names; do
	node=$(echo "$exported" | grep -E "^$s@@" | sed 's/.*@@KEEL_//')
	intro=$(awk -v s="$s" '$1 == s {print $2}' "$siv" 2>/dev/null)
	if [ -z "$intro" ]; then
		echo "check-symbols: $s is not in abi/symbols-in-versions (make abi-update adds it)"; fail=1
	elif [ "${intro%.*}" != "$node" ]; then
		echo "check-symbols: $s arrived in $intro per abi/symbols-in-versions but is in node KEEL_$node"; fail=1
	fi
done
n=$(echo "$names" | grep -c . || true)
if [ $fail -eq 0 ]; then
	echo "check-symbols: $n symbols, all keel_*, all versioned, map and headers agree"
fi
exit $fail
