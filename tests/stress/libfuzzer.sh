#!/bin/bash
# libfuzzer.sh BUILDDIR TARGET [LIBFUZZER ARGS...]: build the fuzz targets
# (fuzz-targets.c) and the library's sources with clang's libFuzzer and
# AddressSanitizer + UBSan, then run TARGET with coverage feedback: the
# long run by hand that keel-fuzz (plain mutations, CI) is the short form
# of. BUILDDIR is a configured build directory (its config.h and the
# generated default seccomp program are used). For example:
#   tests/stress/libfuzzer.sh _build state -max_total_time=600
#   tests/stress/libfuzzer.sh _build cgroup -runs=1000000
# The corpus is kept in BUILDDIR/tests/stress/corpus/TARGET, crashes in
# BUILDDIR/tests/stress/libfuzzer-artifacts/; copy a crash into
# tests/stress/regress/TARGET/ to make it a regression test of keel-fuzz.
# keel-run-options needs KEEL_STRESS_KEEL_RUN and KEEL_STRESS_KEEL_RM.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
b=$(cd "${1:?usage: libfuzzer.sh BUILDDIR TARGET [ARGS...]}" && pwd)
target=${2:?usage: libfuzzer.sh BUILDDIR TARGET [ARGS...]}
shift 2
out=$b/tests/stress
bin=$out/keel-libfuzzer
mkdir -p "$out/corpus/$target" "$out/libfuzzer-artifacts"
[ -f "$b/src/security-seccomp-default.c" ] || make -C "$b" src/security-seccomp-default.c >/dev/null

srcs=$(ls "$top"/src/*.c "$top"/src/util/*.c)
deps=$(pkg-config --cflags libseccomp libcap-ng libnl-3.0 libnl-route-3.0)
if [ ! -x "$bin" ] || [ -n "$(find "$top/src" "$here" -newer "$bin" -name '*.[ch]' | head -n1)" ]; then
	echo "libfuzzer.sh: building $bin"
	# shellcheck disable=SC2086
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -DKEEL_BUILDING_LIBRARY -I"$b" -I"$top/include" -I"$b/include" -I"$top/src" $deps \
		-o "$bin" $srcs "$b/src/security-seccomp-default.c" "$here/fuzz-targets.c" "$here/libfuzzer.c" \
		-ldl -lpthread
fi
# the target's seeds (keel-fuzz -d) and kept crashes, once, as the first corpus
if [ -z "$(ls -A "$out/corpus/$target")" ]; then
	make -C "$b" tests/stress/keel-fuzz >/dev/null && "$out/keel-fuzz" -d "$out/corpus/$target" "$target"
	cp "$top/tests/stress/regress/$target"/* "$out/corpus/$target/" 2>/dev/null || true
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
KEEL_FUZZ_TARGET=$target exec "$bin" -artifact_prefix="$out/libfuzzer-artifacts/$target-" "$@" "$out/corpus/$target"
