#!/bin/sh
# Commit of a 100 MB change (tests/bench/README.md, "Images"), side by side
# in one run: keel-image commit of an upper dir (walk, tar, hash, blob,
# config, manifest, one syncfs) against its limit, GNU tar -c of the same
# dir piped into sha256sum. Rounds in alternating order; medians.
#
#   sh tests/bench/image-commit-bench.sh [-n ROUNDS] [-m MB]   (from a build dir; as root)
set -eu
B=${KEEL_BENCH_BUILDDIR:-$(pwd)}
KI="$B/examples/keel-image"
rounds=3 mb=100
while getopts n:m: o; do
	case $o in n) rounds=$OPTARG ;; m) mb=$OPTARG ;; *) exit 2 ;; esac
done
D=$(mktemp -d /var/tmp/keel-commit-bench-XXXXXX)
trap 'rm -rf "$D"' EXIT
now() { date +%s.%N; }

# The change: $mb files of 1 MB (incompressible) in 10 directories.
i=0
while [ $i -lt "$mb" ]; do
	mkdir -p "$D/upper/d$((i % 10))"
	head -c 1048576 /dev/urandom > "$D/upper/d$((i % 10))/f$i"
	i=$((i + 1))
done
sync
: > "$D/t.tar"; : > "$D/t.keel"
r=0
while [ $r -lt "$rounds" ]; do
	order="tar keel"; [ $((r % 2)) = 1 ] && order="keel tar"
	for c in $order; do
		sync; t0=$(now)
		if [ $c = tar ]; then tar -C "$D/upper" -cf - . | sha256sum > /dev/null
		else "$KI" --store "$D/store.$r" commit "$D/upper" "bench:$r" > /dev/null; fi
		sync; t1=$(now)
		echo "$t1 - $t0" | bc >> "$D/t.$c"
	done
	r=$((r + 1))
done
median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
limit=$(median "$D/t.tar")
printf 'commit of %s MB (%s files); %s rounds, medians\n\n' "$mb" "$mb" "$rounds"
printf '| candidate | seconds | vs tar -c, sha256sum |\n| --- | --- | --- |\n'
for c in tar keel; do
	m=$(median "$D/t.$c")
	printf '| %s | %.2f | %.2fx |\n' "$c" "$m" "$(echo "$m / $limit" | bc -l)"
done
