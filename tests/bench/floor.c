/*
 * The plain-C floor: a container start with no library in the way.
 *
 * floor_spawn() does what any container runtime must do at the least:
 * clone3() into new pid, mount, uts, ipc and net namespaces (and, with
 * CLONE_INTO_CGROUP, straight into a cgroup, so there is no separate
 * cgroup.procs write), then in the child make / private, bind the rootfs
 * onto itself, pivot_root into it with the pivot_root(".", ".") trick,
 * detach the old root and exec. FLOOR_FULL adds what the OCI default
 * config asks of crun and runc (see floor.h), so that the comparison with
 * them is like for like; FLOOR_KEEL adds what libkeel's defaults do beyond
 * that, so that the comparison with libkeel is too.
 *
 * The child is made fork-style (no CLONE_VM), or with share_vm as libkeel
 * makes it where it can (CLONE_VM | CLONE_VFORK on a stack of its own, no
 * page-table copy); either way, until execve, it only makes system calls
 * on memory the parent prepared: the same rule libkeel's spawn follows. A failing step writes {step, errno} into a close-on-exec
 * pipe; end-of-file on that pipe means execve succeeded. The bench
 * candidates built on it are in floor-bench.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#include "floor.h"
#include "util/vfork.h"

#define FLOOR_NS_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

/* ------------------------------------------------------------ the child --- */

/* Each step the child can fail at; the parent turns it into a message. */
enum floor_step {
	ST_PRIVATE, ST_BIND, ST_CHDIR, ST_PROC, ST_DEV, ST_DEVNODE, ST_DEVLINK,
	ST_DEVPTS, ST_SHM, ST_MQUEUE, ST_PIVOT, ST_UMOUNT, ST_HOSTNAME, ST_RLIMIT,
	ST_CAPBSET, ST_CAPSET, ST_NNP, ST_SECCOMP, ST_SYSFS, ST_MASK, ST_RO, ST_LO, ST_EXEC,
};

static const char *const step_names[] = {
	[ST_PRIVATE] = "make / rprivate", [ST_BIND] = "bind the rootfs onto itself",
	[ST_CHDIR] = "chdir into the rootfs", [ST_PROC] = "mount /proc",
	[ST_DEV] = "mount tmpfs on /dev", [ST_DEVNODE] = "mknod in /dev",
	[ST_DEVLINK] = "symlink in /dev", [ST_DEVPTS] = "mount /dev/pts",
	[ST_SHM] = "mount /dev/shm", [ST_MQUEUE] = "mount /dev/mqueue",
	[ST_PIVOT] = "pivot_root", [ST_UMOUNT] = "detach the old root",
	[ST_HOSTNAME] = "sethostname", [ST_RLIMIT] = "setrlimit NOFILE",
	[ST_CAPBSET] = "drop the capability bounding set", [ST_CAPSET] = "capset",
	[ST_NNP] = "set no_new_privs", [ST_SECCOMP] = "load the seccomp filter",
	[ST_SYSFS] = "mount /sys", [ST_MASK] = "mask a path", [ST_RO] = "make a path read-only",
	[ST_LO] = "bring lo up", [ST_EXEC] = "execve",
};

struct floor_fail {
	int step;
	int err;
};

static _Noreturn void child_fail(int fd, int step)
{
	struct floor_fail f = { step, errno };

	if (write(fd, &f, sizeof(f)) < 0) {
		/* nothing more a child can do; the exit code still says it failed */
	}
	_exit(127);
}

/* The default /dev of an OCI runtime, made in the new root before pivoting. */
static const struct { const char *path; unsigned maj, min; } dev_nodes[] = {
	{ "dev/null", 1, 3 }, { "dev/zero", 1, 5 }, { "dev/full", 1, 7 },
	{ "dev/random", 1, 8 }, { "dev/urandom", 1, 9 }, { "dev/tty", 5, 0 },
};
static const struct { const char *target, *path; } dev_links[] = {
	{ "/proc/self/fd", "dev/fd" }, { "/proc/self/fd/0", "dev/stdin" },
	{ "/proc/self/fd/1", "dev/stdout" }, { "/proc/self/fd/2", "dev/stderr" },
	{ "pts/ptmx", "dev/ptmx" },
};

static void child_mount_full(int fd)
{
	const unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	size_t i;

	if (mount("proc", "proc", "proc", nsd, NULL))
		child_fail(fd, ST_PROC);
	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"))
		child_fail(fd, ST_DEV);
	for (i = 0; i < BENCH_ARRAY_SIZE(dev_nodes); i++)
		if (mknod(dev_nodes[i].path, S_IFCHR | 0666,
			  makedev(dev_nodes[i].maj, dev_nodes[i].min)))
			child_fail(fd, ST_DEVNODE);
	for (i = 0; i < BENCH_ARRAY_SIZE(dev_links); i++)
		if (symlink(dev_links[i].target, dev_links[i].path))
			child_fail(fd, ST_DEVLINK);
	if (mkdir("dev/pts", 0755) || mkdir("dev/shm", 01777) || mkdir("dev/mqueue", 0755))
		child_fail(fd, ST_DEV);
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620,gid=5"))
		child_fail(fd, ST_DEVPTS);
	if (mount("shm", "dev/shm", "tmpfs", nsd, "mode=1777,size=65536k"))
		child_fail(fd, ST_SHM);
	if (mount("mqueue", "dev/mqueue", "mqueue", nsd, NULL))
		child_fail(fd, ST_MQUEUE);
}

/* What libkeel's defaults add (src/mount.c: default_masked, default_readonly),
 * relative to the rootfs, before pivot_root. */
static const char *const keel_masked[] = {
	"proc/acpi", "proc/asound", "proc/kcore", "proc/keys", "proc/latency_stats",
	"proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
	"sys/firmware", "sys/devices/virtual/powercap",
};
static const char *const keel_readonly[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

static void child_mount_keel(int fd)
{
	const unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	struct stat st;
	size_t i;

	if (mount("sysfs", "sys", "sysfs", nsd | MS_RDONLY, NULL))
		child_fail(fd, ST_SYSFS);
	for (i = 0; i < BENCH_ARRAY_SIZE(keel_masked); i++) {
		if (stat(keel_masked[i], &st))
			continue;
		if (S_ISDIR(st.st_mode) ?
		    mount("tmpfs", keel_masked[i], "tmpfs", nsd | MS_RDONLY, "size=0,mode=555") :
		    mount("/dev/null", keel_masked[i], NULL, MS_BIND, NULL))
			child_fail(fd, ST_MASK);
	}
	for (i = 0; i < BENCH_ARRAY_SIZE(keel_readonly); i++) {
		if (stat(keel_readonly[i], &st))
			continue;
		if (mount(keel_readonly[i], keel_readonly[i], NULL, MS_BIND | MS_REC, NULL) ||
		    mount(NULL, keel_readonly[i], NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
			child_fail(fd, ST_RO);
	}
}

static void child_lo_up(int fd)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr))
		child_fail(fd, ST_LO);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		child_fail(fd, ST_LO);
	close(s);
}

/* The capabilities the OCI default config (runc spec) keeps. */
#define KEEP_CAPS ((1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_KILL) | (1ULL << CAP_NET_BIND_SERVICE))

static void child_security(int fd, const struct sock_fprog *prog)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct rlimit nofile = { 1024, 1024 };
	int cap;

	if (sethostname("floor", 5))
		child_fail(fd, ST_HOSTNAME);
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		child_fail(fd, ST_RLIMIT);
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (!(KEEP_CAPS & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			child_fail(fd, ST_CAPBSET);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		child_fail(fd, ST_NNP);
	/* seccomp before capset: with no_new_privs it needs no capability */
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0))
		child_fail(fd, ST_SECCOMP);
	data[0].effective = data[0].permitted = data[0].inheritable = (uint32_t)KEEP_CAPS;
	data[1].effective = data[1].permitted = data[1].inheritable = (uint32_t)(KEEP_CAPS >> 32);
	if (syscall(SYS_capset, &hdr, data))
		child_fail(fd, ST_CAPSET);
}

static _Noreturn void floor_child(const struct floor_plan *p, const struct sock_fprog *prog, int fd)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		child_fail(fd, ST_PRIVATE);
	if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL))
		child_fail(fd, ST_BIND);
	if (chdir(p->rootfs))
		child_fail(fd, ST_CHDIR);
	if (p->level >= FLOOR_FULL)
		child_mount_full(fd);
	if (p->level >= FLOOR_KEEL)
		child_mount_keel(fd);
	/* pivot_root(".", "."): the old root ends up stacked on the new one and
	 * is detached at once; no directory for it inside the rootfs. */
	if (syscall(SYS_pivot_root, ".", "."))
		child_fail(fd, ST_PIVOT);
	if (umount2(".", MNT_DETACH))
		child_fail(fd, ST_UMOUNT);
	if (chdir("/"))
		child_fail(fd, ST_CHDIR);
	if (p->level >= FLOOR_KEEL && !p->no_net)
		child_lo_up(fd);
	if (p->level >= FLOOR_FULL)
		child_security(fd, prog);
	execve(p->argv[0], p->argv, (char *const[]){ "PATH=/bin:/sbin:/usr/bin:/usr/sbin", NULL });
	child_fail(fd, ST_EXEC);
}

/* ------------------------------------------------------ seccomp filter --- */

#if defined(__x86_64__)
#define FLOOR_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FLOOR_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "the floor's seccomp filter knows x86_64 and aarch64"
#endif

/* A small deny list, the same one oci.c gives crun and runc. */
const char *const floor_seccomp_denied[] = {
	"kexec_load", "open_by_handle_at", "init_module", "finit_module",
	"delete_module", "swapon", "swapoff", "acct", "syslog", "reboot", NULL,
};
static const long denied_nrs[] = {
	SYS_kexec_load, SYS_open_by_handle_at, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_swapon, SYS_swapoff, SYS_acct, SYS_syslog, SYS_reboot,
};
#define N_DENIED BENCH_ARRAY_SIZE(denied_nrs)

/* arch check, load nr, one compare per denied syscall, allow, EPERM, kill */
static struct sock_filter filter[4 + N_DENIED + 2];

static const struct sock_fprog *floor_filter(void)
{
	static struct sock_fprog prog;
	size_t n = 0, i;

	if (prog.len)
		return &prog;
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FLOOR_AUDIT_ARCH, 1, 0);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	for (i = 0; i < N_DENIED; i++)	/* match: jump over the rest to the EPERM */
		filter[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
				(unsigned)denied_nrs[i], (unsigned char)(N_DENIED - i), 0);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	prog.filter = filter;
	prog.len = (unsigned short)n;
	return &prog;
}

/* ----------------------------------------------------------- the parent --- */

/* The child of a shared-memory clone: floor_child on the stack that
 * keel_clone3_vfork switched to. */
struct floor_vm_args {
	const struct floor_plan *plan;
	const struct sock_fprog *prog;
	int pfd[2];
};

static int floor_vm_child(void *arg)
{
	struct floor_vm_args *a = arg;

	close(a->pfd[0]);
	floor_child(a->plan, a->prog, a->pfd[1]);
}

/* clone3 as args says, fork-like or (share_vm) sharing our memory. */
static long floor_clone(const struct floor_plan *p, struct clone_args *args, struct floor_vm_args *vm)
{
	void *stack;
	long pid;

	if (!p->share_vm)
		return syscall(SYS_clone3, args, sizeof(*args));
	stack = keel_vfork_stack_new();
	if (!stack)
		return -1;
	args->flags |= CLONE_VM | CLONE_VFORK;
	args->stack = (uint64_t)(uintptr_t)stack;
	args->stack_size = KEEL_VFORK_STACK_SIZE;
	pid = keel_clone3_vfork(args, sizeof(*args), floor_vm_child, vm);
	keel_vfork_stack_free(stack);
	if (pid < 0) {
		errno = (int)-pid;
		return -1;
	}
	return pid;
}

pid_t floor_spawn(const struct floor_plan *p, char *why, size_t len)
{
	const struct sock_fprog *prog = p->seccomp ? p->seccomp : floor_filter();
	struct floor_vm_args vm;
	struct clone_args args;
	struct floor_fail f;
	int pfd[2], status;
	ssize_t n;
	long pid;

	if (pipe2(pfd, O_CLOEXEC))
		return snprintf(why, len, "pipe: %s", strerror(errno)), -errno;
	memset(&args, 0, sizeof(args));
	args.flags = FLOOR_NS_FLAGS;
	if (p->no_net)
		args.flags &= ~(unsigned long long)CLONE_NEWNET;
	args.exit_signal = SIGCHLD;
	if (p->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (unsigned)p->cgroup_fd;
	}
	vm.plan = p;
	vm.prog = prog;
	vm.pfd[0] = pfd[0];
	vm.pfd[1] = pfd[1];
	pid = floor_clone(p, &args, &vm);
	if (pid < 0) {
		int e = errno;

		snprintf(why, len, "clone3: %s", strerror(e));
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		close(pfd[0]);
		floor_child(p, prog, pfd[1]);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == 0)
		return (pid_t)pid;
	if (n == (ssize_t)sizeof(f) && f.step >= 0 && f.step <= ST_EXEC)
		snprintf(why, len, "container on %s: %s: %s", p->rootfs,
			 step_names[f.step], strerror(f.err));
	else
		snprintf(why, len, "container on %s: the child failed before exec", p->rootfs);
	waitpid((pid_t)pid, &status, 0);
	return n == (ssize_t)sizeof(f) && f.err ? -f.err : -EIO;
}

