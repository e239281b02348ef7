#!/bin/sh
# check-in-vm.sh: run test suites inside a qemu VM that boots Debian's cloud
# kernel with a pure cgroup-v2 hierarchy (cgroup_no_v1=all, every controller
# enabled in the root), and exit with their status. make check runs it, so
# the limits that this machine's hybrid cgroup tree cannot offer (memory,
# cpu, pids, io) are tested on every run, and the other suites run on a
# pure v2 host too.
#
# Suites: $KEEL_VM_SUITES (set by Makefile.am), paths relative to the build
# directory; each is a Check binary (linked statically against the library,
# so it is a real ELF file) and is run in the guest with the busybox rootfs
# (tests/rootfs) next to it. Their output goes to this script's stdout, so
# it lands in check-in-vm.log.
#
# The kernel comes from tests/vm/fetch-kernel.sh (in $KEEL_VM_DIR, default
# /var/cache/keel-vm). Without it this test FAILS, saying how to get it:
# a missing VM must never look like a pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${KEEL_TOP_BUILDDIR:-$(pwd)}
suites=${KEEL_VM_SUITES:-tests/test-cgroup}
vmdir=${KEEL_VM_DIR:-/var/cache/keel-vm}

fail() { echo "check-in-vm: FAIL: $*"; exit 1; }

if [ -z "${VM_KERNEL:-}" ] && ! ls "$vmdir"/current/boot/vmlinuz-* >/dev/null 2>&1; then
	fail "no VM kernel in $vmdir/current; fetch it with: $here/fetch-kernel.sh (as root; apt-get download + dpkg -x, nothing is installed)"
fi
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"
[ -f "$build/tests/rootfs/.stamp" ] || fail "no test rootfs at $build/tests/rootfs (make check builds it)"

pack=$(mktemp -d "${TMPDIR:-/tmp}/keel-vm.XXXXXX") || fail "mktemp"
trap 'rm -rf "$pack"' EXIT INT TERM
# suites run programs as other users (65534, 1000): they must reach the pack
chmod 755 "$pack"
mkdir -p "$pack/tests"
list=
for t in $suites; do
	bin=$build/$t
	# a libtool wrapper script would point back at the build tree
	[ -f "$build/$(dirname "$t")/.libs/$(basename "$t")" ] && bin=$build/$(dirname "$t")/.libs/$(basename "$t")
	[ -x "$bin" ] || fail "suite $t is not built ($bin)"
	head -c 4 "$bin" | grep -q ELF || fail "suite $t is not an ELF binary ($bin)"
	cp "$bin" "$pack/tests/" || fail "copy $bin"
	list="$list tests/$(basename "$t")"
done
cp -a "$build/tests/rootfs" "$pack/tests/rootfs" || fail "copy the rootfs"
# helper programs the suites exec (KEEL_VM_HELPERS, relative to the build dir)
for h in ${KEEL_VM_HELPERS:-}; do
	[ -x "$build/$h" ] || fail "helper $h is not built"
	mkdir -p "$pack/$(dirname "$h")" && cp "$build/$h" "$pack/$h" || fail "copy $h"
done

# The guest's side: run every suite, say which failed, exit 1 if any did.
# TCG emulation is several times slower than the host: stretch Check's
# per-test timeouts rather than shorten the tests.
cat > "$pack/run-suites.sh" <<GUEST
#!/bin/sh
export KEEL_TEST_ROOTFS=$pack/tests/rootfs CK_TIMEOUT_MULTIPLIER=\${CK_TIMEOUT_MULTIPLIER:-4}
export KEEL_TOP_BUILDDIR=$pack KEEL_TOP_SRCDIR=$pack
echo "check-in-vm: guest kernel \$(uname -r), cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.controllers)"
echo "check-in-vm: LSMs: \$(cat /sys/kernel/security/lsm 2>/dev/null || echo unknown), AppArmor enabled: \$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo no)"
failed=
for t in$list; do
	echo "check-in-vm: ---- \$t"
	./\$t; rc=\$?
	echo "check-in-vm: ---- \$t exited \$rc"
	[ \$rc = 0 ] || failed="\$failed \$t"
done
if [ -n "\$failed" ]; then echo "check-in-vm: failed in the VM:\$failed"; exit 1; fi
echo "check-in-vm: every suite passed in the VM"
GUEST
chmod +x "$pack/run-suites.sh"

# the libraries libkeel dlopen()s at first use ($KEEL_VM_DLOPEN, sonames):
# ldd cannot see them, so name their host paths to run-in-vm.sh
extra_libs=
for so in ${KEEL_VM_DLOPEN:-}; do
	lib=$(/sbin/ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
	[ -n "$lib" ] || fail "library $so (dlopen()ed by libkeel) not found by ldconfig -p"
	extra_libs="$extra_libs $lib"
done

start=$(date +%s.%N)
# the host tools the suites run: the uidmap helpers, util-linux's unshare
# and nsenter (busybox's lack options), and apparmor_parser, which loads
# test-security's profiles (it needs only libc; without it those tests are
# named skips in the VM too)
VM_EXTRA_BINS=${VM_EXTRA_BINS:-$(for b in newuidmap newgidmap unshare nsenter apparmor_parser; do command -v $b; done | tr '\n' ' ')} \
VM_EXTRA_LIBS="${VM_EXTRA_LIBS:-}$extra_libs" \
VM_APPEND="apparmor=1 security=apparmor ${VM_APPEND:-}" \
VM_MEM=${VM_MEM:-1024} VM_TIMEOUT=${VM_TIMEOUT:-900} \
	bash "$here/run-in-vm.sh" "$pack" ./run-suites.sh
rc=$?
end=$(date +%s.%N)
echo "check-in-vm: the VM run (pack, boot, suites, power off) took $(echo "$end - $start" | bc 2>/dev/null || awk "BEGIN{print $end - $start}") s, status $rc"
case $rc in
124) echo "check-in-vm: FAIL: the VM timed out" ;;
125) echo "check-in-vm: FAIL: the VM could not start or died (see the console log above)" ;;
esac
[ $rc = 0 ] || exit 1
exit 0
