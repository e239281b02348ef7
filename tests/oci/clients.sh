#!/bin/sh
# Real clients driving keelrt: podman (through conmon) and containerd 1.6
# (through its runc shim, `ctr run --runc-binary`), each with private
# state under a scratch directory so the host's stays untouched, each
# checked by what it prints and by what it leaves behind (nothing).
#
# Host quirks (docs/architecture-oci.md): no systemd, so cgroupfs managers
# only; CAP_SYS_RESOURCE is not in the bounding set, so podman's default
# rlimits (above the current hard limits) fail with EPERM for every runtime:
# a private containers.conf sets default_ulimits; on the v1/v2 hybrid
# host the cgroup2 tree has no pids controller, so podman's default
# pids.limit 2048 is switched off there (pids_limit = 0); the network is
# "none" (no bridge on the host's network).
set -u
B=${KEEL_TOP_BUILDDIR:-$(pwd)}
K="$B/cli/keelrt"
ROOTFS=${KEEL_TEST_ROOTFS:-$B/tests/rootfs}
# Skips are "SKIP: check-oci-clients/<client>: <reason>" lines, which
# .ci/summary collects from the log the make rule keeps (exit 77: all skipped).
[ "$(id -u)" = 0 ] || { echo "SKIP: check-oci-clients/all: needs root"; exit 77; }
[ -x "$K" ] || { echo "SKIP: check-oci-clients/all: $K not built"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/var/tmp}/keelrt-clients.XXXXXX")
N="keel$$"
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
# containerd 1.6 makes /run/containerd/{s,fifo} whatever its config says:
# remove /run/containerd after only if it was not there before
had_run_containerd=0
[ -e /run/containerd ] && had_run_containerd=1
fails=0 ran=0 cpid=
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
. "$(dirname "$0")/containerd-config.sh"
. "$(dirname "$0")/../cgroup-parents.sh"
cg_parents_note libpod_parent
expect() { case "$3" in *"$2"*) ok "$1";; *) fail "$1: want '$2', got '$3'";; esac; }

# ------------------------------------------------------------------ podman
pod() { podman --root "$W/pod/storage" --runroot "$W/pod/run" --storage-driver vfs --tmpdir "$W/pod/tmp" \
	--runtime keelrt "$@"; }
podman_cleanup() {
	pod rm -af -t 0 >/dev/null 2>&1
	pod rmi -af >/dev/null 2>&1
}
podman_tests() {
	mkdir -p "$W/pod"
	cat > "$W/pod/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
pids_limit = 0
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/pod/events.log"
[engine.runtimes]
keelrt = ["$K"]
CONF
	export CONTAINERS_CONF="$W/pod/containers.conf"
	tar -C "$ROOTFS" -cf "$W/pod/rootfs.tar" . || { fail "podman: tar the rootfs"; return; }
	pod import "$W/pod/rootfs.tar" "localhost/$N:latest" >/dev/null 2>&1 || { fail "podman import"; return; }
	expect "podman run --rm" "hello-podman" "$(pod run --rm "localhost/$N" echo hello-podman 2>&1)"
	pod run -d --name "${N}d" "localhost/$N" sleep 1000 >/dev/null 2>&1 || fail "podman run -d"
	expect "podman exec" "uid=0(root)" "$(pod exec "${N}d" id 2>&1)"
	expect "podman ps" "${N}d" "$(pod ps 2>&1)"
	expect "podman top" "sleep 1000" "$(pod top "${N}d" 2>&1)"
	pod stop -t 1 "${N}d" >/dev/null 2>&1 || fail "podman stop"
	expect "podman ps -a: exited" "Exited" "$(pod ps -a 2>&1)"
	pod rm "${N}d" >/dev/null 2>&1 || fail "podman rm"
	[ -z "$(pod ps -aq 2>&1)" ] && ok "podman: no container left" || fail "podman: containers left"
	# keelrt's state of podman's containers (its default root, shared with
	# other users of keelrt: ours are those whose bundle is under $W)
	left=$(grep -l "$W" /run/keelrt/*/keelrt-bundle 2>/dev/null)
	[ -z "$left" ] && ok "podman: no keelrt state left" || fail "podman: keelrt state left: $left"
	[ -z "$(ls -d "$CG2"/libpod_parent/libpod-* 2>/dev/null)" ] && ok "podman: no cgroup left" \
		|| fail "podman: cgroups left"
	podman_cleanup
	unset CONTAINERS_CONF
	ran=$((ran + 1))
}

# -------------------------------------------------------------- containerd
containerd_cleanup() {
	[ -n "$cpid" ] && kill "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
	cpid=
	# containerd 1.6 hard-codes these; nothing else here uses them
	rm -rf /run/containerd/s /run/containerd/fifo
	rmdir "/run/containerd/runc/$N" /run/containerd/runc /run/containerd 2>/dev/null
}
containerd_tests() {
	C="ctr --address $W/ctr/containerd.sock -n $N"
	mkdir -p "$W/ctr"
	containerd_config "$W/ctr"
	containerd --config "$W/ctr/config.toml" > "$W/ctr/log" 2>&1 &
	cpid=$!
	for i in $(seq 50); do [ -S "$W/ctr/containerd.sock" ] && break; sleep 0.1; done
	[ -S "$W/ctr/containerd.sock" ] || { fail "containerd did not start: $(tail -3 "$W/ctr/log")"; return; }
	# ctr 1.6 may report the archive's index digest "not found" after it
	# imported the image: what counts is that the image is there
	out=$($C images import --index-name "localhost/$N:latest" "$W/ctr/image.tar" 2>&1)
	$C images ls -q 2>/dev/null | grep -qx "localhost/$N:latest" || { fail "ctr images import: $out"; return; }
	expect "ctr run --rm" "hello-ctr" "$($C run --rm --runc-binary "$K" "localhost/$N:latest" "${N}a" echo hello-ctr 2>&1)"
	$C run -d --runc-binary "$K" "localhost/$N:latest" "${N}b" sleep 1000 >/dev/null 2>&1 || fail "ctr run -d"
	expect "ctr task ls" "RUNNING" "$($C task ls 2>&1)"
	expect "ctr task exec" "exec-in-ctr" "$($C task exec --exec-id e1 "${N}b" echo exec-in-ctr 2>&1)"
	$C task kill -s SIGKILL "${N}b" >/dev/null 2>&1 || fail "ctr task kill"
	for i in $(seq 50); do $C task ls 2>&1 | grep -q STOPPED && break; sleep 0.1; done
	expect "ctr task stopped" "STOPPED" "$($C task ls 2>&1)"
	$C task rm "${N}b" >/dev/null 2>&1 || fail "ctr task rm"
	$C c rm "${N}b" >/dev/null 2>&1 || fail "ctr c rm"
	[ -z "$($C c ls -q 2>&1)" ] && ok "ctr: no container left" || fail "ctr: containers left"
	[ -z "$(ls -A "/run/containerd/runc/$N" 2>/dev/null)" ] && ok "ctr: no keelrt state left" \
		|| fail "ctr: keelrt state left"
	[ -z "$(ls -d "$CG2/$N"/*/ 2>/dev/null)" ] && ok "ctr: no cgroup left" || fail "ctr: cgroups left"
	rmdir "$CG2/$N" 2>/dev/null
	$C images rm "localhost/$N:latest" >/dev/null 2>&1
	containerd_cleanup
	ran=$((ran + 1))
}

# Mounts under the scratch directory, deepest first.
mounts_under_w() {
	awk -v w="$W" 'index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}
# Processes of ours still running: a shim, conmon, containerd (each with
# a path under the scratch directory on its command line). A case, not a
# grep, which would find itself.
procs_left() {
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")
		case "$cmd" in *"$W"*) echo "${p#/proc/}";; esac
	done
}
# What the clients must not leave once they have removed their containers.
leftovers() {
	i=0
	while [ -n "$(procs_left)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	left=$(procs_left)
	[ -z "$left" ] && ok "no process left" || fail "processes left: $(for p in $left; do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline"; echo; done)"
	left=$(mounts_under_w)
	[ -z "$left" ] && ok "no mount left" || fail "mounts left: $left"
	[ ! -e "$CG2/$N" ] && ok "no cgroup $N left" || fail "cgroup $CG2/$N left"
	[ -z "$(grep -l "$W" /run/keelrt/*/keelrt-bundle 2>/dev/null)" ] && ok "no keelrt state left" \
		|| fail "keelrt state of our bundles left under /run/keelrt"
	if [ $had_run_containerd = 0 ]; then
		[ ! -e /run/containerd ] && ok "no /run/containerd left" || fail "/run/containerd left: $(ls -A /run/containerd)"
	else
		[ ! -e /run/containerd/s ] && [ ! -e /run/containerd/fifo ] && [ ! -e "/run/containerd/runc/$N" ] &&
			ok "no /run/containerd/{s,fifo,runc/$N} left" || fail "/run/containerd/{s,fifo,runc/$N} left"
	fi
}

cleanup() {
	[ -n "${CONTAINERS_CONF:-}" ] && podman_cleanup
	containerd_cleanup
	# never rm -rf across a mount a client left (a bind of a host path)
	for m in $(mounts_under_w); do umount -l "$m"; done
	[ -z "$(mounts_under_w)" ] && rm -rf "$W"
	cg_parents_drop
}
trap cleanup EXIT

if command -v podman >/dev/null && command -v conmon >/dev/null; then
	podman_tests
else
	echo "SKIP: check-oci-clients/podman: podman or conmon is not installed"
fi
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
	echo "SKIP: check-oci-clients/containerd: containerd or ctr is not installed"
elif ! command -v podman >/dev/null; then
	echo "SKIP: check-oci-clients/containerd: the image archive is made with podman save, not installed"
else
	# the image containerd imports: the same rootfs, as an OCI archive
	mkdir -p "$W/pod2" "$W/ctr"
	P2="podman --root $W/pod2/storage --runroot $W/pod2/run --storage-driver vfs --tmpdir $W/pod2/tmp"
	tar -C "$ROOTFS" -cf "$W/pod2/rootfs.tar" . && $P2 import "$W/pod2/rootfs.tar" "localhost/$N:latest" >/dev/null 2>&1 \
		&& $P2 save --format oci-archive -o "$W/ctr/image.tar" "localhost/$N:latest" >/dev/null 2>&1 \
		&& containerd_tests || fail "containerd: make the image archive"
	$P2 rmi -af >/dev/null 2>&1
fi
[ $ran -gt 0 ] && leftovers
[ $ran = 0 ] && [ $fails = 0 ] && exit 77
[ $fails = 0 ]
