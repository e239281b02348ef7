# Sourced by the bindings' run-tests.sh. In a --enable-sanitizers build the
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
