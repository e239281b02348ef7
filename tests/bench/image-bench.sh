#!/bin/sh
# Image import + unpack, side by side in one run (tests/bench/README.md,
# "Images"): libkeel's keel-image import of an OCI layout against the limit
# (GNU tar -x of the same layer), umoci unpack of the same layout, and
# podman load of the same image as a docker-archive (a private vfs store).
# Each round runs every candidate once, in a rotating order; medians.
# Nothing is deleted until the end: on an ext4 without a journal (this
# machine's), creating files right after an rm -rf of thousands costs 2-3x
# (the inode allocator skips recently deleted inodes), which would charge
# each candidate for its predecessor's cleanup.
#
#   sh tests/bench/image-bench.sh [-n ROUNDS] [-s 'DIR ...'] [-z]
#   (from a build dir; as root; -z: also, in the same run, a gzip'd layer)
set -eu
B=${KEEL_BENCH_BUILDDIR:-$(pwd)}
KI="$B/examples/keel-image"
rounds=3 src="/usr/include /usr/share/doc" gz=0
while getopts n:s:z o; do
	case $o in n) rounds=$OPTARG ;; s) src=$OPTARG ;; z) gz=1 ;; *) exit 2 ;; esac
done
D=$(mktemp -d /var/tmp/keel-image-bench-XXXXXX)
trap 'chmod -R u+w "$D" 2>/dev/null; rm -rf "$D"' EXIT
now() { date +%s.%N; }

# The image: one layer, a copy of part of /usr.
mkdir -p "$D/src"
rel=$(for d in $src; do printf '%s ' "${d#/}"; done)
tar -C / -cf - $rel | tar -C "$D/src" -xf -
layer="$D/layer.tar"
tar -C "$D/src" -cf "$layer" .
files=$(find "$D/src" | wc -l)
bytes=$(du -sb "$D/src" | cut -f1)
chmod -R u+w "$D/src"; rm -rf "$D/src"
variants=plain
[ "$gz" = 1 ] && { gzip -1 < "$layer" > "$layer.gz"; variants="plain gz"; }
for v in $variants; do
	l=$layer; [ $v = gz ] && l=$layer.gz
	"$KI" --store "$D/prep.$v" import --format rootfs --name bench:1 "$l" >/dev/null
	"$KI" --store "$D/prep.$v" save --format oci bench:1 "$D/layout.$v" >/dev/null
	"$KI" --store "$D/prep.$v" save --format docker-archive bench:1 "$D/docker.$v.tar" >/dev/null
	chmod -R u+w "$D/prep.$v"; rm -rf "$D/prep.$v"
	# umoci wants a tag in the index: skopeo's oci: transport names one
	skopeo copy -q "oci:$D/layout.$v" "oci:$D/ol.$v:bench" >/dev/null 2>&1 || true
	cat "$l" "$D"/layout.$v/blobs/sha256/* "$D/docker.$v.tar" > /dev/null   # page cache, for everyone alike
done
sync; sleep ${KEEL_BENCH_SETTLE:-60}   # past ext4's "recently deleted" window of what the preparation removed

# $1: plain|gz, $2: the output directory (new)
run_tar() { mkdir "$2"; if [ $1 = gz ]; then tar -C "$2" -xzf "$layer.gz"; else tar -C "$2" -xf "$layer"; fi; }
run_keel() { "$KI" --store "$2" import "$D/layout.$1" >/dev/null; }
run_umoci() { umoci unpack --image "$D/ol.$1:bench" "$2" >/dev/null 2>&1; }
pn=0
run_podman() {   # its runroot must be shorter than 50 characters
	pn=$((pn + 1))
	podman --root "$2/root" --runroot "$D/r$pn" --storage-driver vfs --tmpdir "$D/tmp" \
		--events-backend none load -q -i "$D/docker.$1.tar" >/dev/null 2>&1
}
cands="tar keel"
command -v umoci >/dev/null && [ -d "$D/ol.plain" ] && cands="$cands umoci"
command -v podman >/dev/null && { mkdir -p "$D/tmp"; cands="$cands podman"; }

for v in $variants; do for c in $cands; do : > "$D/t.$v.$c"; done; done
r=0
while [ $r -lt "$rounds" ]; do
	order=$(echo $cands | tr ' ' '\n' | awk -v r=$r '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r)%NR+1]}')
	for v in $variants; do
		for c in $order; do
			sync
			t0=$(now); "run_$c" $v "$D/out.$v.$c.$r"; sync; t1=$(now)
			echo "$t1 - $t0" | bc >> "$D/t.$v.$c"
		done
	done
	r=$((r + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
for v in $variants; do
	limit=$(median "$D/t.$v.tar")
	printf '\nimage: %s files, %s MB, one %s layer (%s MB); %s rounds, medians\n\n' "$files" \
		$((bytes / 1000000)) "$([ $v = gz ] && echo gzip || echo uncompressed)" \
		$(($(stat -c %s "$([ $v = gz ] && echo "$layer.gz" || echo "$layer")") / 1000000)) "$rounds"
	printf '| candidate | seconds | MB/s | vs tar -x |\n| --- | --- | --- | --- |\n'
	for c in $cands; do
		m=$(median "$D/t.$v.$c")
		printf '| %s | %.2f | %.0f | %.2fx |\n' "$c" "$m" "$(echo "$bytes / 1000000 / $m" | bc -l)" \
			"$(echo "$m / $limit" | bc -l)"
	done
done
