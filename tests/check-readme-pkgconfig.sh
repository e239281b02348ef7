#!/bin/sh
# check-readme-pkgconfig.sh BUILDDIR: run the README's pkg-config words,
# exactly as README.md writes them, against a DESTDIR install of BUILDDIR
# and against a --prefix install (a second, library-only build configured
# with --prefix under a temporary directory). Each must compile
# .ci/pkgconfig-probe.c (it includes <keel.h>) and the program must run.
# Prints "SKIP: readme-pkgconfig: why" and exits 77 when it cannot run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: check-readme-pkgconfig.sh BUILDDIR}" && pwd)
readme=$top/README.md
command -v pkg-config >/dev/null || { echo "SKIP: readme-pkgconfig: no pkg-config"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: readme-pkgconfig: no cc"; exit 77; }

# The command line under a "# <label>" comment in the README's sh blocks.
words() {
	awk -v want="# $1" '$0 == want { getline; print; exit }' "$readme"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$top/.ci/pkgconfig-probe.c" "$tmp/prog.c"
fail=0

# run LABEL DESTDIR PREFIX LIBDIR: the README's words for LABEL in $tmp
run() {
	line=$(words "$1")
	[ -n "$line" ] || { echo "readme-pkgconfig: README.md has no line under '# $1'"; fail=1; return; }
	rm -f "$tmp/a.out"
	if ! (cd "$tmp" && DESTDIR=$2 PREFIX=$3 && export DESTDIR PREFIX && eval "$line") >"$tmp/log" 2>&1; then
		echo "readme-pkgconfig: FAIL: $1: '$line' (DESTDIR=$2 PREFIX=$3):"
		sed 's/^/    /' "$tmp/log"
		fail=1
		return
	fi
	if ! LD_LIBRARY_PATH=$4 "$tmp/a.out" >"$tmp/log" 2>&1 || ! grep -q '^libkeel ' "$tmp/log"; then
		echo "readme-pkgconfig: FAIL: $1: the program built does not run:"
		sed 's/^/    /' "$tmp/log"
		fail=1
		return
	fi
	# The flags themselves must name the install under test: a keel.h
	# elsewhere (an older real install in /usr/local) would hide bad flags.
	flags=$(cd "$tmp" && DESTDIR=$2 PREFIX=$3 && export DESTDIR PREFIX && eval "echo ${line#cc prog.c }")
	inc=$(printf '%s\n' $flags | sed -n 's/^-I//p' | head -n1)
	case "$inc" in
	"$2$3"/*) [ -f "$inc/keel.h" ] || inc= ;;
	*) inc= ;;
	esac
	if [ -z "$inc" ]; then
		echo "readme-pkgconfig: FAIL: $1: the flags '$flags' name no keel.h under $2$3"
		fail=1
		return
	fi
	echo "readme-pkgconfig: ok: $1: $line"
}

# A DESTDIR install of the build, at the prefix it was configured with.
prefix=$(sed -n 's/^prefix=//p' "$build/pkgconfig/keel.pc")
make -C "$build" install DESTDIR="$tmp/dest" >"$tmp/install.log" 2>&1 ||
	{ echo "readme-pkgconfig: make install DESTDIR failed:"; tail -n 20 "$tmp/install.log"; exit 1; }
libdir=$(dirname "$(find "$tmp/dest" -name keel.pc | head -n1)")/..
run "a DESTDIR install" "$tmp/dest" "$prefix" "$libdir"
run "a DESTDIR install, another way" "$tmp/dest" "$prefix" "$libdir"

# A --prefix install: the library, its headers and keel.pc, built again
# with --prefix (the .pc file takes the prefix from configure).
mkdir "$tmp/b"
(cd "$tmp/b" && "$top/configure" --prefix="$tmp/prefix" >/dev/null &&
	make -j2 libkeel.la pkgconfig/keel.pc >/dev/null &&
	make install-libLTLIBRARIES install-includeHEADERS install-keelincludeHEADERS install-nodist_keelincludeHEADERS \
		install-pkgconfigDATA >/dev/null) >"$tmp/install.log" 2>&1 ||
	{ echo "readme-pkgconfig: the --prefix build and install failed:"; tail -n 20 "$tmp/install.log"; exit 1; }
run "a --prefix install" "" "$tmp/prefix" "$tmp/prefix/lib"
exit $fail
