#!/bin/sh
# oci-clients-bench.sh [-n ROUNDS]: `podman run --rm IMAGE true` and
# `ctr run --rm IMAGE ID true` end to end with keelrt, crun and runc, in
# interleaved rounds, and each runtime's share of the total: the runtime is
# called through a wrapper that adds up the wall time of its invocations
# (create, start, delete, state ..., as the client makes them).
# From a build directory, as root; private state under a scratch directory
# (the same setup as tests/oci/clients.sh). Prints one table.
#
# crun refuses a hybrid cgroup host whose cgroup2 tree lists a controller
# (here hugetlb): as keel-bench does, the whole run is in a private mount
# namespace with an empty file bound over the tree's cgroup.controllers,
# the same for every runtime.
set -u
if [ -z "${KCB_INNER:-}" ]; then
	KCB_INNER=1 exec unshare -m --propagation private sh "$0" "$@"
fi
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$(cat "$cg2/cgroup.controllers" 2>/dev/null)" ]; then
	: > /run/kcb-empty-controllers.$$
	mount --bind /run/kcb-empty-controllers.$$ "$cg2/cgroup.controllers"
	rm -f /run/kcb-empty-controllers.$$
fi
n=10
[ "${1:-}" = -n ] && n=$2
B=${KEEL_TOP_BUILDDIR:-$(pwd)}
ROOTFS=${KEEL_TEST_ROOTFS:-$B/tests/rootfs}
[ "$(id -u)" = 0 ] || { echo "oci-clients-bench.sh: run as root" >&2; exit 1; }
for t in podman conmon containerd ctr crun runc; do
	command -v $t >/dev/null || { echo "oci-clients-bench.sh: $t is not installed" >&2; exit 1; }
done
keelrt=$B/cli/.libs/keelrt
[ -x "$keelrt" ] || keelrt=$B/cli/keelrt
W=$(mktemp -d /var/tmp/kcb.XXXXXX)
N=kcb$$
cpid=
had_run_containerd=0
[ -e /run/containerd ] && had_run_containerd=1
cleanup() {
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
	rm -rf /run/containerd/s /run/containerd/fifo
	[ $had_run_containerd = 1 ] || rm -rf /run/containerd
	# the runtimes made ctr's namespace cgroup (cgroupsPath /N/ID) in every
	# hierarchy; its containers are gone, so the directories are empty
	for m in $(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do
		[ -d "$m/$N" ] && find "$m/$N" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	for m in $(awk -v w="$W" 'index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
	rm -rf "$W"
	cg_parents_drop
}
trap cleanup EXIT

. "$(dirname "$0")/../oci/containerd-config.sh"
. "$(dirname "$0")/../cgroup-parents.sh"
cg_parents_note libpod_parent
ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wrap RUNTIME: a script that runs it and adds its wall time (us) to W/RUNTIME.us
wrap() {
	real=$2
	cat > "$W/bin/$1" <<WRAP
#!/bin/sh
s=\$(date +%s%N)
"$real" "\$@"
rc=\$?
echo \$(( (\$(date +%s%N) - s) / 1000 )) >> "$W/$1.us"
exit \$rc
WRAP
	chmod +x "$W/bin/$1"
}
mkdir -p "$W/bin" "$W/pod"
LD_LIBRARY_PATH=$B/.libs
export LD_LIBRARY_PATH
wrap keelrt "$keelrt"
wrap crun "$(command -v crun)"
wrap runc "$(command -v runc)"
cat > "$W/pod/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
pids_limit = 0
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
[engine.runtimes]
keelrt = ["$W/bin/keelrt"]
crun = ["$W/bin/crun"]
runc = ["$W/bin/runc"]
CONF
export CONTAINERS_CONF="$W/pod/containers.conf"
pod() { podman --root "$W/pod/storage" --runroot "$W/pod/run" --storage-driver vfs --tmpdir "$W/pod/tmp" "$@"; }
tar -C "$ROOTFS" -cf "$W/rootfs.tar" . && pod import "$W/rootfs.tar" "localhost/$N:latest" >/dev/null 2>&1 &&
	pod save --format oci-archive -o "$W/image.tar" "localhost/$N:latest" >/dev/null 2>&1 ||
	{ echo "oci-clients-bench.sh: could not make the image with podman" >&2; exit 1; }

mkdir -p "$W/ctr"
containerd_config "$W/ctr"
containerd --config "$W/ctr/config.toml" >"$W/ctr/log" 2>&1 &
cpid=$!
for i in $(seq 50); do [ -S "$W/ctr/containerd.sock" ] && break; sleep 0.1; done
C="ctr --address $W/ctr/containerd.sock -n $N"
$C images import --index-name "localhost/$N:latest" "$W/image.tar" >/dev/null 2>&1
$C images ls -q | grep -qx "localhost/$N:latest" || { echo "oci-clients-bench.sh: ctr images import failed" >&2; exit 1; }

# one CLIENT RUNTIME SEQ: one run, its wall time in ms appended to W/CLIENT-RUNTIME.ms
one() {
	t0=$(ms)
	case $1 in
	podman) pod --runtime "$2" run --rm "localhost/$N" true >/dev/null 2>>"$W/err" ;;
	ctr) $C run --rm --runc-binary "$W/bin/$2" "localhost/$N:latest" "$N-$2-$3" true >/dev/null 2>>"$W/err" ;;
	esac || echo "$1 $2 round $3 failed" >>"$W/failed"
	echo $(( $(ms) - t0 )) >> "$W/$1-$2.ms"
}
for c in podman ctr; do for r in keelrt crun runc; do one $c $r 0; done; done   # warm-up
rm -f "$W"/*.ms "$W"/*.us
for c in podman ctr; do
	for i in $(seq "$n"); do for r in keelrt crun runc; do
		one $c $r "$i"
		sum=$(awk '{ s += $1 } END { print s + 0 }' "$W/$r.us" 2>/dev/null)
		echo "$sum" >> "$W/$c-$r.rt"; rm -f "$W/$r.us"
	done; done
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '%-7s %-7s %6s %10s %12s %8s %10s\n' client runtime runs "median ms" "runtime ms" share "vs keelrt"
for c in podman ctr; do
	k=$(median "$W/$c-keelrt.ms")
	for r in keelrt crun runc; do
		m=$(median "$W/$c-$r.ms")
		rt=$(awk '{ s += $1 } END { printf "%.1f", s / NR / 1000 }' "$W/$c-$r.rt")
		printf '%-7s %-7s %6s %10s %12s %7s%% %9sx\n' $c $r "$n" "$m" "$rt" \
			"$(awk -v a="$rt" -v b="$m" 'BEGIN { printf "%.0f", 100 * a / b }')" \
			"$(awk -v a="$m" -v b="$k" 'BEGIN { printf "%.2f", a / b }')"
	done
done
[ -s "$W/failed" ] && { echo "failed runs:"; cat "$W/failed"; sed 's/^/  /' "$W/err" | tail -5; exit 1; }
exit 0
