#!/bin/sh
# Images across tools: what podman, buildah, skopeo and umoci make from the
# busybox rootfs imports and runs in libkeel (keel-image, keel-run), and
# what libkeel saves loads in podman and passes skopeo, umoci and the
# image-spec's JSON schemas. Every tool gets a private store under a
# scratch directory: the host's own image stores are never touched.
#
# A part whose tool is missing or cannot run here prints
# "SKIP: image-interop/<part>: <why>"; with no tool at all the script exits 77.
set -u

B=${KEEL_TOP_BUILDDIR:-$(pwd)}
SRC=${KEEL_TOP_SRCDIR:-$(dirname "$0")/..}
ROOTFS=${KEEL_TEST_ROOTFS:-$B/tests/rootfs}
KI="$B/examples/keel-image"
KR="$B/examples/keel-run"
SCHEMAS=/usr/share/gocode/src/github.com/opencontainers/image-spec/schema
D=$(mktemp -d /tmp/keel-interop-XXXXXX)
fails=0 passes=0 skips=0

. "$SRC/tests/cgroup-parents.sh"
cg_parents_note keel libpod_parent
cleanup() {
	[ -n "${PODMAN:-}" ] && $PODMAN rm -af >/dev/null 2>&1
	[ -n "${BUILDAH:-}" ] && $BUILDAH rm -a >/dev/null 2>&1
	# vfs layers can hold read-only dirs; the store is ours alone
	chmod -R u+w "$D" 2>/dev/null
	rm -rf "$D"
	cg_parents_drop
}
trap cleanup EXIT

skip() { echo "SKIP: image-interop/$1: $2"; skips=$((skips + 1)); }
pass() { echo "PASS: $1"; passes=$((passes + 1)); }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { name=$1; shift; if "$@" >"$D/last.log" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/    /' "$D/last.log"; fi; }

export KEEL_IMAGE_STORE="$D/keel" KEEL_STATE_ROOT="$D/state"
K() { "$KI" "$@"; }
have() { command -v "$1" >/dev/null 2>&1; }

STORE_OPTS="--root $D/c/root --runroot $D/c/run --storage-driver vfs"
have podman && PODMAN="podman $STORE_OPTS --cgroup-manager cgroupfs --events-backend none --tmpdir $D/c/tmp"
have buildah && BUILDAH="buildah $STORE_OPTS"
if [ -z "${PODMAN:-}" ] && [ -z "${BUILDAH:-}" ] && ! have umoci; then
	echo "SKIP: image-interop: none of podman, buildah, umoci is installed"
	exit 77
fi
mkdir -p "$D/c/tmp" "$D/state"
tar -C "$ROOTFS" -cf "$D/rootfs.tar" . || exit 1

# The id a keel image has (its config digest), from keel-image inspect.
keel_id() { K inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])'; }

# ---------------------------------------------------------- podman -> keel
if [ -n "${PODMAN:-}" ] && $PODMAN import --change 'CMD ["/bin/sh","-c","echo from-podman"]' \
		"$D/rootfs.tar" localhost/bb:1 >"$D/pid" 2>"$D/err"; then
	pid=$(tail -1 "$D/pid")
	$PODMAN save --format oci-archive -o "$D/bb-oci.tar" localhost/bb:1 >/dev/null 2>&1
	$PODMAN save --format docker-archive -o "$D/bb-docker.tar" localhost/bb:1 >/dev/null 2>&1
	check "podman oci-archive imports" K import --name bb:oci "$D/bb-oci.tar"
	check "podman docker-archive (legacy <id>/layer.tar) imports under its RepoTags" K import "$D/bb-docker.tar"
	check "the image id is podman's" sh -c "test \"\$(K() { \"$KI\" \"\$@\"; }; $KI inspect bb:oci | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"Id\"])')\" = '$pid'"
	check "keel-run runs the podman image's Cmd" sh -c "'$KR' --rm bb:oci | grep -qx from-podman"
	check "keel-run IMAGE CMD replaces the Cmd" sh -c "'$KR' --rm localhost/bb:1 sh -c 'echo over' | grep -qx over"
else
	skip podman "podman cannot import here: $(head -c 200 "$D/err" 2>/dev/null)"
fi

# ------------------------------------- buildah: a layer that deletes things
if [ -n "${BUILDAH:-}" ] && [ -n "${PODMAN:-}" ] && ctr=$($BUILDAH from localhost/bb:1 2>"$D/err") &&
		mnt=$($BUILDAH mount "$ctr" 2>>"$D/err"); then
	rm -f "$mnt/etc/passwd" && rm -rf "$mnt/home" && echo upper > "$mnt/etc/added"
	$BUILDAH config --cmd '["/bin/sh","-c","test ! -e /etc/passwd && test ! -e /home && cat /etc/added"]' "$ctr"
	$BUILDAH commit -q "$ctr" localhost/bb:del >/dev/null 2>&1
	$BUILDAH push -q localhost/bb:del "oci-archive:$D/del.tar:localhost/bb:del" >/dev/null 2>&1
	check "buildah's two-layer image (whiteouts of a file and a directory) imports" K import --name del "$D/del.tar"
	check "it runs with the file and the directory gone" sh -c "'$KR' --rm del | grep -qx upper"
	# a multi-arch index: the same image named for two other platforms
	$BUILDAH manifest create localhost/multi >/dev/null 2>&1
	$BUILDAH manifest add --arch arm64 --os linux localhost/multi localhost/bb:1 >/dev/null 2>&1
	$BUILDAH manifest add --arch arm --variant v7 --os linux localhost/multi localhost/bb:del >/dev/null 2>&1
	if $BUILDAH manifest push --all localhost/multi "oci:$D/multi" >/dev/null 2>"$D/err"; then
		K import --name multi "$D/multi" >"$D/out" 2>&1
		host=$(uname -m)
		if [ "$host" = x86_64 ]; then
			check "an index without this host's platform says what it has" \
				grep -q "has linux/arm64, linux/arm/v7; this host is linux/amd64" "$D/out"
		fi
		check "--platform linux/arm/v7 picks that entry" K import --platform linux/arm/v7 --name multi:v7 "$D/multi"
		check "the v7 entry is the image with the deletions" sh -c "'$KR' --rm multi:v7 | grep -qx upper"
		check "--platform linux/arm/v6 finds nothing (a v6 CPU cannot run v7)" sh -c "! '$KI' import --platform linux/arm/v6 '$D/multi'"
	else
		skip buildah-manifest "buildah manifest push: $(head -c 200 "$D/err")"
	fi
else
	skip buildah "buildah cannot make a working container here: $(head -c 200 "$D/err" 2>/dev/null)"
fi

# ------------------------------------------------------ umoci -> keel, compare
if have umoci && have skopeo && [ -f "$D/bb-oci.tar" ]; then
	skopeo copy -q "oci-archive:$D/bb-oci.tar" "oci:$D/ol:bb" >/dev/null 2>&1
	if umoci unpack --image "$D/ol:bb" "$D/bundle" >/dev/null 2>"$D/err"; then
		K import --name fromumoci "$D/ol" >/dev/null 2>&1
		layer=$(K inspect fromumoci | python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"][0])')
		( cd "$D/bundle/rootfs" && find . -printf '%p %y %m %U %G %s %l\n' | sort ) > "$D/umoci.list"
		( cd "$layer" && find . -printf '%p %y %m %U %G %s %l\n' | sort ) > "$D/keel.list"
		check "the unpacked tree is umoci's (names, types, modes, owners, sizes, link targets)" \
			diff -u "$D/umoci.list" "$D/keel.list"
		check "and so is every file's content" diff -r --no-dereference "$D/bundle/rootfs" "$layer"
	else
		skip umoci "umoci unpack: $(head -c 200 "$D/err")"
	fi
	# umoci's own image: a layout made with umoci new + repack of the rootfs
	umoci init --layout "$D/um" >/dev/null 2>&1 && umoci new --image "$D/um:base" >/dev/null 2>&1 &&
		umoci unpack --image "$D/um:base" "$D/umb" >/dev/null 2>&1 &&
		cp -a "$ROOTFS/." "$D/umb/rootfs/" && umoci repack --image "$D/um:base" "$D/umb" >/dev/null 2>&1 &&
		umoci config --image "$D/um:base" --config.cmd /bin/echo --config.cmd from-umoci >/dev/null 2>&1
	check "umoci's layout imports" K import --name umoci:base "$D/um"
	check "and runs" sh -c "'$KR' --rm umoci:base | grep -qx from-umoci"
else
	skip umoci "umoci or skopeo missing, or no podman image to compare with"
fi

# ----------------------------------------------------------- keel -> podman
if K import --format rootfs --name keel/saved:1 "$D/rootfs.tar" >/dev/null 2>&1; then
	K save --format oci keel/saved:1 "$D/saved-layout" >/dev/null 2>&1
	K save --format oci-archive keel/saved:1 "$D/saved-oci.tar" >/dev/null 2>&1
	K save --format docker-archive keel/saved:1 "$D/saved-docker.tar" >/dev/null 2>&1
	if have python3 && [ -d "$SCHEMAS" ] && python3 -c 'import jsonschema' 2>/dev/null; then
		check "libkeel's index, manifest and config pass the image-spec schemas" \
			python3 "$SRC/tests/image-schema-check.py" "$SCHEMAS" "$D/saved-layout"
	else
		skip schemas "python3-jsonschema or the image-spec schemas are missing"
	fi
	if have skopeo; then
		check "skopeo inspects libkeel's oci-archive" skopeo inspect "oci-archive:$D/saved-oci.tar"
		check "skopeo inspects libkeel's docker-archive" skopeo inspect "docker-archive:$D/saved-docker.tar"
	else
		skip skopeo "skopeo is not installed"
	fi
	if [ -n "${PODMAN:-}" ]; then
		check "podman loads libkeel's docker-archive" $PODMAN load -i "$D/saved-docker.tar"
		check "podman loads libkeel's oci-archive" $PODMAN load -i "$D/saved-oci.tar"
		# podman's default rlimits are above this host's hard limits, and
		# without CAP_SYS_RESOURCE no runtime may raise them (EPERM):
		# ask for limits below them, as tests/oci/clients.sh does. crun
		# (podman's runtime) refuses a hybrid host whose cgroup2 tree
		# lists a controller: in a private mount namespace, an empty file
		# over that list (the container has no cgroup: --cgroups=disabled)
		cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
		: >"$D/no-controllers"
		if unshare -m --propagation private sh -c '
				[ -z "$(cat "$1/cgroup.controllers" 2>/dev/null)" ] || [ ! -d /sys/fs/cgroup/memory ] ||
					mount --bind "$2" "$1/cgroup.controllers" || exit 1
				shift 2; exec "$@"' sh "$cg2" "$D/no-controllers" \
				$PODMAN run --rm --cgroups=disabled --network none --ulimit nofile=1024:1024 \
				--ulimit nproc=1024:1024 keel/saved:1 /bin/sh -c 'echo in-podman' \
				>"$D/run.out" 2>"$D/err"; then
			check "podman runs it" grep -qx in-podman "$D/run.out"
		else
			skip podman-run "podman run cannot run here: $(tail -c 200 "$D/err")"
		fi
	fi
else
	fail "keel-image import of the rootfs tar"
fi

echo "image-interop: $passes passed, $fails failed, $skips skipped"
[ "$fails" -eq 0 ]
