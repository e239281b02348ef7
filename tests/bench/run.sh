#!/bin/sh
# run.sh [keel-bench options]: install what the benchmark needs, build it,
# run every candidate and print one table. `make bench` runs this with
# KEEL_BENCH_BUILDDIR set to the build directory; run by hand, it uses
# $KEEL_BENCH_BUILDDIR, else the current directory if it is a configured
# build of libkeel, else configures a fresh build in /tmp/keel-bench-build.
# Options go to keel-bench (e.g. -n 50 -c 100), or via BENCH_ARGS="..."
# with make bench. Must run as root.
set -eu

srcdir=$(cd "$(dirname "$0")/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: run as root (namespaces, cgroups, crun and runc need it)" >&2
	exit 1
fi

# 1. What it needs, from Debian's archive, only if missing.
need=
command -v crun >/dev/null 2>&1 || need="$need crun"
command -v runc >/dev/null 2>&1 || need="$need runc"
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
command -v jq >/dev/null 2>&1 || need="$need jq"
{ command -v busybox >/dev/null 2>&1 && ! ldd "$(command -v busybox)" >/dev/null 2>&1; } ||
	need="$need busybox-static"
if [ -n "$need" ]; then
	echo "run.sh: installing$need" >&2
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >&2
fi

# 2. Build keel-bench, keel-floor and the busybox rootfs.
build=${KEEL_BENCH_BUILDDIR:-}
if [ -z "$build" ]; then
	if [ -f Makefile ] && grep -q '^PACKAGE = libkeel' Makefile; then
		build=$(pwd)
	else
		build=/tmp/keel-bench-build
		if [ ! -f "$build/Makefile" ]; then
			if [ ! -x "$srcdir/configure" ]; then
				(cd "$srcdir" && autoreconf -fi) >&2
			fi
			mkdir -p "$build"
			(cd "$build" && "$srcdir/configure" -q) >&2
		fi
	fi
fi
make --no-print-directory -C "$build" -s all tests/bench/keel-bench tests/bench/keel-floor tests/rootfs/.stamp >&2

# 3. Run. Versions first, so a table is never read without them.
echo "== $(uname -srm), $(nproc) CPUs; $(crun --version | head -1);" \
	"$(runc --version | head -1); $(bwrap --version)"
exec "$build/tests/bench/keel-bench" "$@" "$build/tests/rootfs"
