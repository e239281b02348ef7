# Sourced by the bindings' run-tests.sh: the sanitizer environment, and the
# cleanup of the default cgroup parent (below).
#
# In a --enable-sanitizers build the
# library needs the ASan/UBSan runtimes loaded first, which an uninstrumented
# python3 or Go test binary does not do: preload them. Leak checking stays
# off there, since it would report the interpreter's and Go runtime's own
# allocations; the C suites check the library's leaks.
keel_sanitizer_env() {
	lib=$1
	if ldd "$lib" 2>/dev/null | grep -q libasan; then
		preload=
		for rt in libasan.so libubsan.so; do
			p=$(${CC:-cc} -print-file-name="$rt")
			[ -e "$p" ] && preload="$preload $p"
		done
		export LD_PRELOAD="${preload# }"
		export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	fi
}

# The suites make containers under the library's default cgroup parent
# ("keel" next to the caller's cgroup), which deletes leave behind, as
# Docker leaves its own. Remove it at the end if it is empty (rmdir fails
# on one still in use; a create racing with it makes it again).
remove_default_keel_parent() {
	cg2=$(LD_PRELOAD= awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	self=$(LD_PRELOAD= sed -n 's/^0:://p' /proc/self/cgroup)
	parent=$(LD_PRELOAD= dirname "${self:-/}")
	[ -n "$cg2" ] && LD_PRELOAD= rmdir "$cg2${parent%/}/keel" 2>/dev/null || true
}
