#!/bin/sh
# fetch-kernel.sh [DIR]: get Debian's cloud kernel for the test VM without
# installing it. The package that linux-image-cloud-amd64 depends on today is
# downloaded with apt-get and unpacked with dpkg -x into DIR/<package>
# (DIR defaults to $KEEL_VM_DIR, else /var/cache/keel-vm); DIR/current points
# at it. Nothing goes into /boot or /lib/modules, and nothing is configured.
#
# The cloud kernel is the one to use: every cgroup v2 controller is built in,
# it boots in a few seconds under qemu's TCG, and overlay, veth, bridge and
# brd come as modules in the same package (tests/vm/run-in-vm.sh loads them).
#
# Idempotent: a kernel already unpacked is kept. Needs root only for apt.
set -eu
dir=${1:-${KEEL_VM_DIR:-/var/cache/keel-vm}}
meta=${KEEL_VM_KERNEL_META:-linux-image-cloud-amd64}

resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}
pkg=$(resolve)
if [ -z "$pkg" ]; then
	echo "fetch-kernel: $meta is unknown to apt-cache; running apt-get update" >&2
	apt-get update -qq
	pkg=$(resolve)
fi
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve the package behind $meta" >&2; exit 1; }

if ls "$dir/$pkg"/boot/vmlinuz-* >/dev/null 2>&1; then
	ln -sfn "$pkg" "$dir/current"
	echo "fetch-kernel: $pkg is already in $dir"
	exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download drops privileges to _apt, which must be able to write here
chmod 755 "$tmp"
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg") || {
	echo "fetch-kernel: apt-get download $pkg failed (try apt-get update)" >&2
	exit 1
}
dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root"
ls "$tmp"/root/boot/vmlinuz-* >/dev/null 2>&1 || {
	echo "fetch-kernel: $pkg has no /boot/vmlinuz-*" >&2
	exit 1
}
rm -rf "$dir/$pkg"
mv "$tmp/root" "$dir/$pkg"
ln -sfn "$pkg" "$dir/current"
echo "fetch-kernel: unpacked $pkg into $dir/$pkg"
