#!/bin/sh
# Image import + unpack, side by side in one run (tests/bench/README.md,
# "Images"): libkeel's keel-image import of an OCI layout against the limit
# (GNU tar -x of the same layer), umoci unpack of the same layout, and
# podman load of the same image as a docker-archive (a private vfs store).
# Each round runs every candidate once, in a rotating order; medians.
#
#   sh tests/bench/image-bench.sh [-n ROUNDS] [-s 'DIR ...'] [-z]
#   (from a build dir; as root; -z: gzip'd layer instead of an uncompressed one)
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
[ "$gz" = 1 ] && { gzip -1 < "$layer" > "$layer.gz"; layer="$layer.gz"; }
files=$(find "$D/src" | wc -l)
bytes=$(du -sb "$D/src" | cut -f1)
"$KI" --store "$D/prep" import --format rootfs --name bench:1 "$layer" >/dev/null
"$KI" --store "$D/prep" save --format oci bench:1 "$D/layout" >/dev/null
"$KI" --store "$D/prep" save --format docker-archive bench:1 "$D/docker.tar" >/dev/null
chmod -R u+w "$D/prep"; rm -rf "$D/prep" "$D/src"
# umoci wants a tag in the index: skopeo's oci: transport names one
skopeo copy -q "oci:$D/layout" "oci:$D/ol:bench" >/dev/null 2>&1 || true
cat "$layer" "$D"/layout/blobs/sha256/* "$D/docker.tar" > /dev/null   # page cache, for everyone alike

run_tar() { mkdir "$D/out"; if [ "$gz" = 1 ]; then tar -C "$D/out" -xzf "$layer"; else tar -C "$D/out" -xf "$layer"; fi; }
run_keel() { "$KI" --store "$D/out" import "$D/layout" >/dev/null; }
run_umoci() { umoci unpack --image "$D/ol:bench" "$D/out" >/dev/null 2>&1; }
run_podman() {
	podman --root "$D/out/root" --runroot "$D/out/run" --storage-driver vfs --tmpdir "$D/tmp" \
		--events-backend none load -q -i "$D/docker.tar" >/dev/null 2>&1
}
cands="tar keel"
command -v umoci >/dev/null && [ -d "$D/ol" ] && cands="$cands umoci"
command -v podman >/dev/null && { mkdir -p "$D/tmp"; cands="$cands podman"; }

for c in $cands; do : > "$D/t.$c"; done
r=0
while [ $r -lt "$rounds" ]; do
	order=$(echo $cands | tr ' ' '\n' | awk -v r=$r '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r)%NR+1]}')
	for c in $order; do
		sync
		t0=$(now); "run_$c"; sync; t1=$(now)
		echo "$t1 - $t0" | bc >> "$D/t.$c"
		chmod -R u+w "$D/out" 2>/dev/null; rm -rf "$D/out"
	done
	r=$((r + 1))
done

median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
limit=$(median "$D/t.tar")
printf 'image: %s files, %s MB, one %s layer; %s rounds, medians\n\n' "$files" $((bytes / 1000000)) \
	"$([ "$gz" = 1 ] && echo gzip || echo uncompressed)" "$rounds"
printf '| candidate | seconds | MB/s | vs tar -x |\n| --- | --- | --- | --- |\n'
for c in $cands; do
	m=$(median "$D/t.$c")
	printf '| %s | %.2f | %.0f | %.2fx |\n' "$c" "$m" "$(echo "$bytes / 1000000 / $m" | bc -l)" \
		"$(echo "$m / $limit" | bc -l)"
done
