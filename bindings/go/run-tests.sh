#!/bin/sh
# Run the Go binding's tests (`go test`) against the libkeel of the build
# tree: make check runs this with KEEL_TOP_BUILDDIR, KEEL_TOP_SRCDIR and
# KEEL_TEST_ROOTFS set (AM_TESTS_ENVIRONMENT). Needs golang-go (.ci/install-deps);
# a missing go is a failure, not a skip. No network: GOPROXY=off, no modules
# beyond the standard library.
set -eu
top_builddir=${KEEL_TOP_BUILDDIR:?run through make check, or set KEEL_TOP_BUILDDIR}
top_srcdir=${KEEL_TOP_SRCDIR:?run through make check, or set KEEL_TOP_SRCDIR}
lib=$top_builddir/.libs/libkeel.so.1
[ -e "$lib" ] || { echo "go bindings: $lib not built" >&2; exit 1; }
command -v go >/dev/null || { echo "go bindings: no go compiler (apt-get install golang-go)" >&2; exit 1; }

# A private GOPATH, cache and HOME under the build dir: go needs them writable.
work=$top_builddir/bindings/go/_work
mkdir -p "$work/pkgconfig" "$work/gopath" "$work/cache" "$work/home"

# pkg-config metadata for the uninstalled library, for `#cgo pkg-config: keel`.
cat > "$work/pkgconfig/keel.pc" <<PC
Name: keel
Description: libkeel from the build tree $top_builddir
Version: $(sed -n 's/^#define KEEL_VERSION_STRING "\(.*\)"/\1/p' "$top_builddir/include/keel/version.h")
Cflags: -I$top_srcdir/include -I$top_builddir/include
Libs: -L$top_builddir/.libs -lkeel
PC


export PKG_CONFIG_PATH="$work/pkgconfig"
export LD_LIBRARY_PATH="$top_builddir/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOPATH="$work/gopath" GOCACHE="$work/cache" HOME="$work/home"
export GOFLAGS=-mod=mod GOPROXY=off GO111MODULE=on CGO_ENABLED=1
export KEEL_TEST_ROOTFS="${KEEL_TEST_ROOTFS:-$top_builddir/tests/rootfs}"

. "$top_srcdir/bindings/sanitizer-env.sh"
cd "$top_srcdir/bindings/go"
go vet .
go test -c -o "$work/keel.test" .
keel_sanitizer_env "$lib"
status=0
"$work/keel.test" -test.count=1 -test.v || status=$?
remove_default_keel_parent
exit $status
