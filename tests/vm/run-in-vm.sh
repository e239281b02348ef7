#!/bin/bash
# libkeel's copy of the VM recipe proven on the development machines (see
# tests/vm/README.md); the project depends on nothing outside its tree.
#
# run-in-vm.sh - run a command inside a throw-away QEMU VM whose kernel uses a
# pure cgroup-v2 hierarchy (all controllers: cpu, cpuset, io, memory, pids,
# hugetlb, misc, rdma), then exit with that command's exit status.
#
# Usage:
#   run-in-vm.sh DIR CMD [ARG...]
#
#   DIR  is packed into the guest's initramfs at the SAME absolute path it has
#        on the host, and CMD runs with DIR as its working directory, as root,
#        with stdin=/dev/null.  CMD's stdout+stderr (a pipe, not a tty) are
#        streamed live to this script's stdout through a virtio console.
#        Every dynamically linked ELF file in DIR gets its shared libraries
#        (found with ldd) copied into the guest too; dlopen()ed ones are not
#        found that way (add them to DIR or to VM_EXTRA_LIBS).  Symlinks in
#        DIR are copied as symlinks.  CMD is looked up in the guest's PATH, or
#        give a path (./t/foo).  Shell syntax needs an explicit shell:
#          run-in-vm.sh DIR sh -c 'make check && ./t/cgroup-tests'
#
# Exit status: CMD's exit status; 124 if the VM timed out; 125 if the VM died
# or could not be started (the kernel console log is then shown on stderr).
#
# Requirements (Debian bookworm):
#   apt-get install qemu-system-x86 busybox-static
#   tests/vm/fetch-kernel.sh   (Debian's cloud kernel, unpacked, not installed)
# The cloud kernel is preferred: it has every cgroup v2 controller, namespaces,
# overlay/veth/bridge/virtio as modules, and boots in ~4.5 s under TCG (the
# generic linux-image-amd64 takes about twice as long; it also works).
# A full cycle (pack + boot + run "true" + poweroff) takes ~6 s with TCG.
# Nothing is installed or written outside a temporary work directory; root is
# not required as long as the kernel image is readable.
#
# Inside the guest:
#   * /sys/fs/cgroup is cgroup2 (nsdelegate,memory_recursiveprot, like
#     systemd), cgroup v1 is disabled (cgroup_no_v1=all), and every available
#     controller is enabled in the root's cgroup.subtree_control.  CMD runs in
#     the root cgroup, so it may create and configure any child cgroup.
#   * / is a bind mount (not the bare initramfs rootfs), so pivot_root works.
#   * /proc /sys /dev /dev/pts /dev/shm /dev/mqueue /tmp /run are mounted,
#     securityfs is at /sys/kernel/security (for AppArmor: see VM_APPEND),
#     lo is up, modules overlay/veth/bridge/loop/brd/tun/dummy are loaded
#     (brd gives /dev/ram0..15, handy for io.max tests), busybox provides the
#     usual userland (sh, ip, mount, unshare, nsenter, setpriv, ...).
#
# Tunables (environment variables):
#   VM_KERNEL    kernel image (default: the one tests/vm/fetch-kernel.sh
#                unpacked in ${KEEL_VM_DIR:-/var/cache/keel-vm}/current, else
#                the newest /boot/vmlinuz-*-cloud-amd64, else /boot/vmlinuz-*).  Modules are taken from
#                $(dirname VM_KERNEL)/../lib/modules/VER if that exists (for a
#                kernel .deb unpacked with dpkg -x), else /lib/modules/VER.
#   VM_MODULES   modules to load, deps are added automatically
#                (default: "overlay veth bridge loop brd tun dummy")
#   VM_MODULES_EXTRA  more modules to load on top of VM_MODULES
#   VM_EXTRA_BINS host programs to copy in with their libraries, by name or
#                path, e.g. "ip unshare strace" (they shadow busybox applets)
#   VM_EXTRA_LIBS host shared libraries to copy in with theirs, by absolute
#                path, at the same path: the ones a program dlopen()s
#   VM_MEM       guest RAM in MiB (default 2048)
#   VM_CPUS      guest CPUs (default: host CPUs, at most 4)
#   VM_TIMEOUT   seconds before the VM is killed (default 600)
#   VM_ACCEL     kvm or tcg (default: kvm only if /dev/kvm is usable AND the
#                CPU advertises vmx/svm, else tcg)
#   VM_DISK_MB   if set, attach an empty sparse disk of that size as /dev/vda
#   VM_APPEND    extra kernel command-line arguments
#   VM_QEMU_ARGS extra qemu arguments (word-split), e.g. "-virtfs ..."
#   VM_CONSOLE=1 stream the kernel console to stderr too
#   VM_KEEP=1    keep the work directory (initramfs, console log)
set -euo pipefail

die() { echo "run-in-vm: $*" >&2; exit 125; }
[ $# -ge 2 ] || { sed -n '2,/^# Requirements/p' "$0" >&2; exit 125; }
DIR=$(realpath -e -- "$1") || die "no such directory: $1"
[ -d "$DIR" ] || die "not a directory: $1"
case $DIR in /|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*) die "refusing to pack $DIR" ;; esac
shift

BUSYBOX=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
file_is_static() { ! LC_ALL=C ldd "$1" >/dev/null 2>&1; }
file_is_static "$BUSYBOX" || die "$BUSYBOX is not static; install busybox-static"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

# --- kernel and its modules -------------------------------------------------
KERNEL=${VM_KERNEL:-}
if [ -z "$KERNEL" ]; then
  KERNEL=$(ls -1 "${KEEL_VM_DIR:-/var/cache/keel-vm}"/current/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1) || true
fi
if [ -z "$KERNEL" ]; then
  KERNEL=$(ls -1 /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1) || true
  [ -n "$KERNEL" ] || KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1) || true
fi
[ -r "$KERNEL" ] || die "no readable kernel image (${KERNEL:-none}); run tests/vm/fetch-kernel.sh or set VM_KERNEL"
KVER=${KERNEL##*/vmlinuz-}
MODDIR=$(dirname "$KERNEL")/../lib/modules/$KVER
[ -d "$MODDIR" ] || MODDIR=/lib/modules/$KVER
[ -d "$MODDIR" ] || die "no module directory for kernel $KVER"

MEM=${VM_MEM:-2048}
CPUS=${VM_CPUS:-$(n=$(nproc); echo $(( n > 4 ? 4 : n )))}
TIMEOUT=${VM_TIMEOUT:-600}
# virtio_console carries the command's output (/dev/hvc0): several MB/s under
# TCG, versus ~60-170 KB/s through an emulated 16550 UART
MODULES="virtio_pci virtio_console ${VM_MODULES-overlay veth bridge loop brd tun dummy} ${VM_MODULES_EXTRA:-}"
[ -n "${VM_DISK_MB:-}" ] && MODULES="$MODULES virtio_blk"

ACCEL=${VM_ACCEL:-}
if [ -z "$ACCEL" ]; then
  # A /dev/kvm alone is not enough: nested "PVM" KVM (e.g. inside a
  # Firecracker VM) exposes /dev/kvm but cannot run an unmodified kernel at
  # any useful speed.  Real hardware virtualization shows vmx/svm flags.
  if [ ! -e /dev/kvm ]; then ACCEL=tcg WHY="no /dev/kvm on this host"
  elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then ACCEL=tcg WHY="/dev/kvm is not usable by $(id -un)"
  elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=tcg WHY="the CPU shows no vmx/svm (nested KVM would crawl)"
  else ACCEL=kvm WHY="/dev/kvm is usable and the CPU has vmx/svm"; fi
fi
# Said in the log, so a slow TCG run is never a mystery (.ci/summary lists it).
echo "run-in-vm: accelerator: $ACCEL (${WHY:-VM_ACCEL=$ACCEL})" >&2
case $ACCEL in
  kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
  tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) ;;
  *) die "VM_ACCEL must be kvm or tcg" ;;
esac

# --- work directory ---------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/run-in-vm.XXXXXX")
QPID=
cleanup() {
  [ -n "$QPID" ] && kill "$QPID" 2>/dev/null || true
  if [ "${VM_KEEP:-0}" = 1 ]; then echo "run-in-vm: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
ROOT=$WORK/root            # staging tree for the base initramfs
mkdir -p "$ROOT"/{usr,dev,proc,sys,tmp,run,root,etc,.vm}
# mirror the host's merged-/usr layout (/bin -> usr/bin, ...) so that both
# /bin/bash and /usr/bin/bash style paths (shebangs, ldd output) resolve
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$ROOT/$d"; mkdir -p "$ROOT/usr/$d"
  elif [ "$d" = bin ] || [ "$d" = sbin ] || [ "$d" = lib ]; then mkdir -p "$ROOT/$d"; fi
done
mkdir -p "$ROOT/lib/modules"

# copy FILE to the same path under $ROOT (dereferencing symlinks)
stage() { [ -e "$ROOT$1" ] || { mkdir -p "$ROOT$(dirname "$1")"; cp -L "$1" "$ROOT$1"; }; }
# stage the shared libraries (and ELF interpreter) of one ELF file
stage_libs() {
  local lib
  for lib in $(LC_ALL=C ldd "$1" 2>/dev/null | awk -v f="$1" '
      /=> not found/ { print "run-in-vm: warning: " f ": " $1 " not found" > "/dev/stderr" }
      /=> \// { print $3 }  /^\t\// { print $1 }'); do
    stage "$lib"
    # glibc dlopen()s libgcc_s for pthread_cancel/pthread_exit unwinding
    case $lib in */libc.so.6) [ -e "$(dirname "$lib")/libgcc_s.so.1" ] && stage "$(dirname "$lib")/libgcc_s.so.1" ;; esac
  done
}

# busybox + applet symlinks at the paths busybox wants (bin/sh, sbin/ip, ...).
# Not "busybox --install -s": it links to /proc/self/exe, which breaks when a
# non-busybox program exec()s them.  perl (Essential in Debian) avoids ~400 forks.
cp "$BUSYBOX" "$ROOT/bin/busybox"
mkdir -p "$ROOT"/{usr/bin,usr/sbin}
"$BUSYBOX" --list-full | (cd "$ROOT" && perl -nle 'symlink("/bin/busybox", $_) unless -e $_')

# extra host programs (replace busybox applets of the same name; but note that
# busybox sh runs its built-in applet for a bare name like "ip" regardless of
# PATH, so scripts should use bash or absolute paths to get the host tool)
for b in ${VM_EXTRA_BINS:-}; do
  p=$(command -v "$b") || die "VM_EXTRA_BINS: $b not found on host"
  p=$(realpath -s "$p"); rm -f "$ROOT$p"; stage "$p"; stage_libs "$p"
done

# dlopen()ed libraries, which ldd cannot see
for l in ${VM_EXTRA_LIBS:-}; do
  [ -e "$l" ] || die "VM_EXTRA_LIBS: $l not found on host"
  stage "$l"; stage_libs "$l"
done

# shared libraries of every ELF file in DIR
while IFS= read -r -d '' f; do
  magic=; LC_ALL=C IFS= read -r -n 4 -d '' magic < "$f" 2>/dev/null || true
  [ "$magic" = $'\x7fELF' ] && stage_libs "$f"
done < <(find "$DIR" -type f -print0)

# kernel modules: resolve "depends=" from each .ko's .modinfo, load deps first
declare -A KO=() SEEN=()
while IFS= read -r -d '' f; do
  n=${f##*/}; n=${n%%.ko*}; KO[${n//-/_}]=$f
done < <(find "$MODDIR" -name '*.ko*' -print0)
ko_cat() { case $1 in *.xz) xz -dc "$1" ;; *.zst) zstd -dc "$1" ;; *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac; }
: > "$ROOT/.vm/modules"
add_module() {
  local n=${1//-/_} d
  [ -n "${SEEN[$n]:-}" ] && return; SEEN[$n]=1
  if [ -z "${KO[$n]:-}" ]; then
    grep -qE "/${n//_/[-_]}\.ko" "$MODDIR/modules.builtin" 2>/dev/null ||
      echo "run-in-vm: warning: module $n not found for $KVER" >&2
    return
  fi
  for d in $(ko_cat "${KO[$n]}" | tr '\0' '\n' | sed -n 's/^depends=//p' | tr , ' '); do add_module "$d"; done
  ko_cat "${KO[$n]}" > "$ROOT/lib/modules/$n.ko"
  echo "$n" >> "$ROOT/.vm/modules"
}
for m in $MODULES; do add_module "$m"; done

# minimal /etc
printf '%s\n' root:x:0:0:root:/root:/bin/sh user:x:1000:1000:user:/tmp:/bin/sh \
  nobody:x:65534:65534:nobody:/nonexistent:/bin/false > "$ROOT/etc/passwd"
printf '%s\n' root:x:0: user:x:1000: nogroup:x:65534: > "$ROOT/etc/group"
printf '127.0.0.1 localhost vm\n::1 localhost\n' > "$ROOT/etc/hosts"
echo vm > "$ROOT/etc/hostname"

# the command, each argument single-quoted for the guest's /bin/sh
cmd=; for a in "$@"; do cmd+=" '${a//\'/\'\\\'\'}'"; done
{ echo 'echo 0 > /proc/self/oom_score_adj'   # init is -1000; the command must be killable
  printf 'cd %s || exit 125\nexec%s\n' "'${DIR//\'/\'\\\'\'}'" "$cmd"; } > "$ROOT/.vm/cmd"

# --- guest /init --------------------------------------------------------------
cat > "$ROOT/init" <<'EOF'
#!/bin/sh
# Guest PID 1.  ttyS0 = kernel console, hvc0 = command output, ttyS1 = exit
# status for the host.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
if [ "$1" != stage2 ]; then
  # Stage 1: the initramfs "rootfs" cannot be pivot_root()ed (it has no parent
  # mount), which breaks container-style tests.  Bind-mount it onto itself and
  # chroot into the bind mount, like switch_root does but without copying.
  mkdir -p /.vm/newroot && mount --bind / /.vm/newroot && cd /.vm/newroot &&
    mount -o move . / && exec chroot . /init stage2
  echo "run-in-vm: stage 1 failed, continuing on rootfs" > /dev/console
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
# / is already RAM (tmpfs); a separate /tmp would hide DIR if DIR is under /tmp
[ -z "$(ls -A /tmp)" ] && mount -t tmpfs -o mode=1777 tmpfs /tmp
[ -z "$(ls -A /run)" ] && mount -t tmpfs -o mode=755 tmpfs /run
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "run-in-vm: cannot enable $c" > /dev/console
done
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# where an LSM shows its policy (AppArmor's profiles, what apparmor_parser loads into)
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
echo -1000 > /proc/self/oom_score_adj        # never OOM-kill init
while read -r m; do insmod "/lib/modules/$m.ko" || echo "run-in-vm: insmod $m failed" > /dev/console; done < /.vm/modules
hostname vm; ip link set lo up
# Keep hvc0 open on fd 3: hvc resets termios on last close, and raw mode is
# needed to avoid \n -> \r\n.  The command writes into a pipe and cat copies
# it to hvc0 in large chunks (one small write per line on hvc0 is very slow).
rc=125; i=0    # virtio_console creates its ports asynchronously
while [ ! -c /dev/hvc0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
if [ -c /dev/hvc0 ] && exec 3<>/dev/hvc0 && stty raw -echo <&3; then
  { sh /.vm/cmd 3>&-; echo $? > /.vm/rc; } < /dev/null 2>&1 | cat >&3
  rc=$(cat /.vm/rc)
else
  echo "run-in-vm: no /dev/hvc0 (virtio_console missing?)" > /dev/console
fi
# virtio_console hands hvc data to qemu synchronously, so nothing is lost here;
# stty on ttyS1 waits (TCSADRAIN) until the status byte has left the UART
stty -F /dev/ttyS1 raw -echo; echo "$rc" > /dev/ttyS1; stty -F /dev/ttyS1 raw -echo
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"

# --- initramfs: base archive + DIR archive (concatenated, uncompressed) -----
# Uncompressed is fastest under TCG: the guest would decompress in emulation.
# The base is owned by root in the guest (-R 0:0); DIR keeps its host owners.
(cd "$ROOT" && find . | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) > "$WORK/initrd"
rel=${DIR#/}
{ d=$rel; parents=; while [ "$d" != "${d%/*}" ]; do d=${d%/*}; parents="$d
$parents"; done
  printf '%s' "$parents"; cd / && find "$rel"; } | (cd / && "$BUSYBOX" cpio -o -H newc 2>/dev/null) >> "$WORK/initrd"

# --- boot -----------------------------------------------------------------------
DISK_ARGS=()
if [ -n "${VM_DISK_MB:-}" ]; then
  truncate -s "${VM_DISK_MB}M" "$WORK/disk.img"
  DISK_ARGS=(-drive "file=$WORK/disk.img,format=raw,if=virtio,cache=unsafe")
fi
: > "$WORK/console.log"; : > "$WORK/status"
if [ "${VM_CONSOLE:-0}" = 1 ]; then tail -n +1 -f "$WORK/console.log" >&2 & TAILPID=$!; fi
# hvc0 -> qemu's own stdout (fd 1, shared with this script; stdin is /dev/null)
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 \
  "${ACCEL_ARGS[@]}" -m "$MEM" -smp "$CPUS" \
  -nodefaults -no-user-config -display none -no-reboot -nic none \
  -kernel "$KERNEL" -initrd "$WORK/initrd" \
  -append "console=ttyS0 cgroup_no_v1=all panic=-1 oops=panic quiet rdinit=/init random.trust_cpu=on ${VM_APPEND:-}" \
  -serial "file:$WORK/console.log" \
  -serial "file:$WORK/status" \
  -device virtio-serial-pci -chardev stdio,id=out,signal=off -device virtconsole,chardev=out \
  "${DISK_ARGS[@]}" ${VM_QEMU_ARGS:-} </dev/null &
QPID=$!
set +e; wait "$QPID"; qrc=$?; set -e; QPID=
[ -n "${TAILPID:-}" ] && { sleep 0.2; kill "$TAILPID" 2>/dev/null; }

status=$(tr -dc 0-9 < "$WORK/status")
if [ -n "$status" ]; then exit "$status"; fi
if [ "$qrc" = 124 ]; then echo "run-in-vm: timed out after ${TIMEOUT}s; console log tail:" >&2; rc=124
else echo "run-in-vm: VM ended without an exit status (qemu rc=$qrc); console log tail:" >&2; rc=125; fi
tail -n 40 "$WORK/console.log" >&2
exit "$rc"
