#!/bin/sh
# mkrootfs.sh BUSYBOX DIR: make a tiny root filesystem from Debian's
# busybox-static for the container tests and the demo; needs no network.
set -eu
busybox=${1:-}
dir=${2:?usage: mkrootfs.sh BUSYBOX DIR}
[ -n "$busybox" ] || busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || [ ! -x "$busybox" ]; then
	echo "mkrootfs: busybox not found; on Debian: apt-get install busybox-static" >&2
	exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkrootfs: $busybox is dynamically linked; on Debian: apt-get install busybox-static" >&2
	exit 1
fi
tmp="$dir.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home run var/tmp srv; do
	mkdir -p "$tmp/$d"
done
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
cp "$busybox" "$tmp/bin/busybox"
# one symlink per applet, at the path busybox wants it (bin/sh, sbin/ip ...)
"$busybox" --list-full | while read -r applet; do
	[ -e "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
done
cat > "$tmp/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$tmp/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$tmp/etc/hosts"
echo keel > "$tmp/etc/hostname"
# A file the tests check stays byte-for-byte unchanged in a layer.
echo "from the image" > "$tmp/etc/image-release"
rm -rf "$dir"
mv "$tmp" "$dir"
touch "$dir/.stamp"
