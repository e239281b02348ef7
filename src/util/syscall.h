/*
 * util/syscall: the one home of the raw system calls libkeel makes without
 * a libc wrapper, or around a libc wrapper it must not use.
 *
 * Some of these have no wrapper in the glibc libkeel supports (pidfd_open
 * arrived in glibc 2.36, openat2 and clone3 have none); others have one
 * that is not safe between clone and execve. Each is a static inline
 * around syscall(2), which only sets errno: callable in the child
 * (src/child/), like the system call itself. Where a build's headers are
 * older than the kernel it runs on, the fallback numbers and flags below
 * fill in: every system call numbered 424 and above has the same number
 * on every architecture but alpha (and mips, whose numbers are offset:
 * its headers are recent enough to define them).
 *
 * Nothing else in src/ should call syscall(SYS_...) for these: add a
 * wrapper here.
 */
#ifndef KEEL_UTIL_SYSCALL_H
#define KEEL_UTIL_SYSCALL_H

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif

struct clone_args;

/* pidfd_open(2), 5.3: a pidfd for pid. */
static inline int keel_sys_pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* pidfd_send_signal(2), 5.1: sig 0 checks the process is still alive. */
static inline int keel_sys_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

/* openat2(2), 5.6: openat with RESOLVE_* restrictions on the lookup. */
static inline int keel_sys_openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return (int)syscall(SYS_openat2, dirfd, path, how, size);
}

/* clone3(2), 5.3 (CLONE_INTO_CGROUP 5.7): fork-like without a new stack. */
static inline long keel_sys_clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/* close_range(2), 5.9. */
static inline int keel_sys_close_range(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

/* The new mount API, 5.2 (mount_setattr 5.12). */
static inline int keel_sys_open_tree(int dirfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static inline int keel_sys_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
				      unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static inline int keel_sys_mount_setattr(int dirfd, const char *path, unsigned flags, struct mount_attr *attr,
					 size_t size)
{
	return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}

static inline int keel_sys_fsopen(const char *fsname, unsigned flags)
{
	return (int)syscall(SYS_fsopen, fsname, flags);
}

#endif
