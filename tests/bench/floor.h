/*
 * The plain-C floor: the least code that starts a container with the same
 * isolation libkeel gives, so the bench can say how far libkeel is from the
 * limit. Used in-process by keel-bench (floor.c's candidates) and as the
 * small keel-floor program (floor-main.c), the floor for the keel-run CLI.
 */
#ifndef KEEL_BENCH_FLOOR_H
#define KEEL_BENCH_FLOOR_H

#include <sys/types.h>

enum floor_level {
	/* clone3 into new pid, mount, uts, ipc and net namespaces; / rprivate,
	 * bind the rootfs onto itself, pivot_root, detach the old root, exec. */
	FLOOR_MIN = 0,
	/* FLOOR_MIN, plus what the OCI default config asks of crun and runc:
	 * /proc, a tmpfs /dev with null zero full random urandom tty, devpts,
	 * /dev/shm, mqueue, the /dev symlinks, a hostname, RLIMIT_NOFILE 1024,
	 * the capability bounding set cut to AUDIT_WRITE KILL NET_BIND_SERVICE,
	 * no_new_privs and a small deny-list seccomp filter. */
	FLOOR_FULL = 1,
	/* FLOOR_FULL, plus what libkeel's defaults do beyond it: a read-only
	 * sysfs, the masked paths (a read-only empty tmpfs on a directory,
	 * /dev/null on a file) and the read-only /proc paths of
	 * keel_rootfs_add_defaults(), lo up, and the seccomp program the plan
	 * gives (libkeel's default profile): the same work as keel's, in
	 * plain C. */
	FLOOR_KEEL = 2,
};

struct floor_plan {
	const char *rootfs;	/* absolute path */
	enum floor_level level;
	int cgroup_fd;		/* cgroup2 directory for CLONE_INTO_CGROUP, or -1 */
	char *const *argv;	/* argv[0] is the path inside the rootfs */
	int no_net;		/* 1: no network namespace (the floor of keel-nonet) */
	const void *seccomp;	/* a struct sock_fprog for FLOOR_KEEL; NULL: the deny-list */
	int share_vm;		/* 1: clone3(CLONE_VM | CLONE_VFORK) on a stack of its own,
				 * as libkeel does where it can (src/util/vfork.h) */
};

/* Start a container as the plan says and return once its process has
 * exec'd argv (or failed). Returns the host pid, or -errno with a reason in
 * why (a failure inside the child names the step that failed). The caller
 * reaps the pid. */
pid_t floor_spawn(const struct floor_plan *plan, char *why, size_t len);

/* The seccomp filter's syscalls, for the README and the OCI profile. */
extern const char *const floor_seccomp_denied[];

#endif
