#!/bin/sh
# Start-to-exit of /bin/true from a 5-layer image (tests/bench/README.md,
# "Images"), side by side in one run: `keel-run IMAGE` (the store: open the
# image, apply its config, record the container's reference) against
# `keel-run --layer` x5 of the very same layer directories (keel-overlay3's
# way, with five layers). Batches of runs in alternating order; medians.
#
#   sh tests/bench/image-run-bench.sh [-n RUNS]   (from a build dir; as root)
set -eu
B=${KEEL_BENCH_BUILDDIR:-$(pwd)}
KI="$B/examples/keel-image" KR="$B/examples/keel-run"
# the binary itself, not libtool's wrapper script (which costs more than a
# container start), as keel-bench does
if [ -x "$B/examples/.libs/keel-run" ]; then
	KR="$B/examples/.libs/keel-run"
	LD_LIBRARY_PATH="$B/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export LD_LIBRARY_PATH
fi
runs=50
while getopts n: o; do
	case $o in n) runs=$OPTARG ;; *) exit 2 ;; esac
done
D=$(mktemp -d /var/tmp/keel-run-bench-XXXXXX)
. "$(dirname "$0")/../cgroup-parents.sh"
cg_parents_note keel
trap 'rm -rf "$D"; cg_parents_drop' EXIT
S="$D/store"

# The image: the build's busybox rootfs, then four small layers on top.
tar -C "$B/tests/rootfs" -cf "$D/base.tar" .
"$KI" --store "$S" import --format rootfs --name bench:1 "$D/base.tar" > /dev/null
i=2
while [ $i -le 5 ]; do
	mkdir -p "$D/up$i/etc"; echo "layer $i" > "$D/up$i/etc/layer$i"
	"$KI" --store "$S" commit --base bench:$((i - 1)) "$D/up$i" bench:$i > /dev/null
	i=$((i + 1))
done
# Its layer directories, lowest first (each commit added one).
layers=$(ls -tr "$S/layers" | grep -v '\.json$' | sed "s|^|--layer $S/layers/|")
[ "$(echo "$layers" | wc -l)" = 5 ] || { echo "expected 5 layers" >&2; exit 1; }

now() { date +%s%N; }
batch() {   # $1: image|layers; the mean of $runs runs, in ms
	t0=$(now); k=0
	while [ $k -lt "$runs" ]; do
		if [ "$1" = image ]; then "$KR" --rm --store "$S" --image bench:5 -- /bin/true
		else "$KR" --rm $layers -- /bin/true; fi
		k=$((k + 1))
	done
	echo "($(now) - $t0) / $runs / 1000000" | bc -l
}
: > "$D/t.image"; : > "$D/t.layers"
for r in 1 2 3; do
	for c in image layers; do batch $c >> "$D/t.$c"; done
	for c in layers image; do batch $c >> "$D/t.$c"; done
done
median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
ref=$(median "$D/t.layers")
printf 'start-to-exit of /bin/true, 5 layers; 6 batches of %s runs, median of the batch means\n\n' "$runs"
printf '| candidate | ms | vs --layer x5 |\n| --- | --- | --- |\n'
for c in layers image; do
	m=$(median "$D/t.$c")
	printf '| %s | %.2f | %.2fx |\n' "$c" "$m" "$(echo "$m / $ref" | bc -l)"
done
