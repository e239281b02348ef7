/*
 * ns: the description of a new process's namespaces.
 *
 * A keel_ns records which namespaces to create, which existing ones to
 * join (as open fds, so what is joined cannot change between the call and
 * the spawn), the id maps of a new user namespace and the clock offsets
 * of a new time namespace. It does nothing to the calling process: the
 * namespaces are made by clone3/unshare and entered by setns in the new
 * process (src/spawn.c), because a thread of a multithreaded program may
 * not setns into a mount or user namespace.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "ns.h"
#include "util/syscall.h"


/* In the order of the keel_ns_type bits. */
static const struct {
	const char *name;
	unsigned long clone_flag;
} ns_types[KEEL_NS_NTYPES] = {
	{ "mnt", CLONE_NEWNS },
	{ "pid", CLONE_NEWPID },
	{ "net", CLONE_NEWNET },
	{ "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS },
	{ "user", CLONE_NEWUSER },
	{ "cgroup", CLONE_NEWCGROUP },
	{ "time", CLONE_NEWTIME },
};

int keel_ns_index(unsigned type)
{
	int i;

	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (type == 1u << i)
			return i;
	return -1;
}

unsigned long keel_ns_clone_flags(unsigned flags)
{
	unsigned long out = 0;
	int i;

	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (flags & (1u << i))
			out |= ns_types[i].clone_flag;
	return out;
}

KEEL_PUBLIC const char *keel_ns_type_name(keel_ns_type type)
{
	int i = keel_ns_index((unsigned)type);

	return i < 0 ? NULL : ns_types[i].name;
}

KEEL_PUBLIC int keel_ns_new(keel_ns **out, keel_error **err)
{
	keel_ns *ns;
	int i;

	if (!out)
		return keel_error_invalid(err, "namespaces: out is NULL");
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return keel_error_sys(err, ENOMEM, "namespaces");
	for (i = 0; i < KEEL_NS_NTYPES; i++)
		ns->join_fd[i] = -1;
	*out = ns;
	return 0;
}

KEEL_PUBLIC void keel_ns_free(keel_ns *ns)
{
	int i;

	if (!ns)
		return;
	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (ns->join_fd[i] >= 0)
			close(ns->join_fd[i]);
	free(ns->uid_maps);
	free(ns->gid_maps);
	free(ns);
}

static int check_flags(keel_ns *ns, unsigned flags, const char *what, keel_error **err)
{
	if (!ns)
		return keel_error_invalid(err, "namespaces: %s: NULL handle", what);
	if (!flags || (flags & ~(unsigned)KEEL_NS_ALL))
		return keel_error_invalid(err, "namespaces: %s: flags 0x%x are not a set of KEEL_NS_* types",
					  what, flags);
	return 0;
}

KEEL_PUBLIC int keel_ns_create(keel_ns *ns, unsigned flags, keel_error **err)
{
	int ret = check_flags(ns, flags, "create", err);

	if (ret < 0)
		return ret;
	ns->create |= flags;
	return 0;
}

/* Replace the joined fd of type index i by fd (taking ownership). */
static void set_join(keel_ns *ns, int i, int fd)
{
	if (ns->join_fd[i] >= 0)
		close(ns->join_fd[i]);
	ns->join_fd[i] = fd;
}

KEEL_PUBLIC int keel_ns_join_fd(keel_ns *ns, keel_ns_type type, int fd, keel_error **err)
{
	int i = keel_ns_index((unsigned)type), kind, copy;

	if (!ns || i < 0)
		return keel_error_invalid(err, "namespaces: join fd %d: type %d is not one KEEL_NS_* type",
					  fd, (int)type);
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0)
		return keel_error_sys(err, errno, "namespaces: join %s namespace fd %d", ns_types[i].name, fd);
	/* NS_GET_NSTYPE answers with the CLONE_NEW* value of a namespace fd. */
	kind = ioctl(copy, NS_GET_NSTYPE);
	if (kind < 0 || (unsigned long)kind != ns_types[i].clone_flag) {
		close(copy);
		return keel_error_set(err, KEEL_ERROR_INVALID, EINVAL,
				      "namespaces: join %s namespace fd %d: the fd is not a %s namespace",
				      ns_types[i].name, fd, ns_types[i].name);
	}
	set_join(ns, i, copy);
	return 0;
}

/* The pid a pidfd refers to, from the "Pid:" line of its fdinfo. */
static int pidfd_to_pid(int pidfd, pid_t *pid, keel_error **err)
{
	char path[64], line[256];
	FILE *f;
	long v = -2;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return keel_error_sys(err, errno == ENOENT ? EBADF : errno,
				      "namespaces: join pidfd %d: read %s", pidfd, path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %ld", &v) == 1)
			break;
	fclose(f);
	if (v == -2)
		return keel_error_invalid(err, "namespaces: join pidfd %d: the fd is not a pidfd", pidfd);
	if (v <= 0)
		return keel_error_sys(err, ESRCH, "namespaces: join pidfd %d: the process has exited", pidfd);
	*pid = (pid_t)v;
	return 0;
}

static int same_user_ns_as_self(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

KEEL_PUBLIC int keel_ns_join_pidfd(keel_ns *ns, unsigned flags, int pidfd, keel_error **err)
{
	int fds[KEEL_NS_NTYPES], i, ret;
	char path[64];
	pid_t pid = 0;

	if ((ret = check_flags(ns, flags, "join pidfd", err)) < 0)
		return ret;
	if ((ret = pidfd_to_pid(pidfd, &pid, err)) < 0)
		return ret;
	for (i = 0; i < KEEL_NS_NTYPES; i++)
		fds[i] = -1;
	for (i = 0; i < KEEL_NS_NTYPES; i++) {
		if (!(flags & (1u << i)))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns_types[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			ret = keel_error_sys(err, errno == ENOENT ? ESRCH : errno,
					     "namespaces: join pid %d: open %s", (int)pid, path);
			goto fail;
		}
	}
	/* The fds belong to the process of the pidfd only if it still runs
	 * now: otherwise its pid may have been reused in between. */
	if (keel_sys_pidfd_send_signal(pidfd, 0, NULL, 0) < 0) {
		ret = keel_error_sys(err, errno, "namespaces: join pid %d", (int)pid);
		goto fail;
	}
	for (i = 0; i < KEEL_NS_NTYPES; i++) {
		if (fds[i] < 0)
			continue;
		/* Joining one's own user namespace is EINVAL in setns(2);
		 * sharing it is what the caller means. */
		if ((1u << i) == KEEL_NS_USER && same_user_ns_as_self(fds[i])) {
			close(fds[i]);
			continue;
		}
		set_join(ns, i, fds[i]);
	}
	return 0;
fail:
	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

KEEL_PUBLIC int keel_ns_join_pid(keel_ns *ns, unsigned flags, pid_t pid, keel_error **err)
{
	int pidfd, ret;

	if ((ret = check_flags(ns, flags, "join pid", err)) < 0)
		return ret;
	if (pid <= 0)
		return keel_error_invalid(err, "namespaces: join pid %d: not a process id", (int)pid);
	pidfd = keel_sys_pidfd_open(pid, 0);
	if (pidfd < 0)
		return keel_error_sys(err, errno, "namespaces: join pid %d", (int)pid);
	ret = keel_ns_join_pidfd(ns, flags, pidfd, err);
	close(pidfd);
	return ret;
}

static int add_map(struct keel_idmap **maps, size_t *n, const char *what, unsigned inside,
		   unsigned outside, unsigned count, keel_error **err)
{
	struct keel_idmap *grown;

	if (!count || inside + (unsigned long long)count > 4294967295ULL ||
	    outside + (unsigned long long)count > 4294967295ULL)
		return keel_error_invalid(err, "namespaces: %s map %u %u %u: the range is empty or overflows",
					  what, inside, outside, count);
	if (*n >= KEEL_NS_MAX_MAPS)
		return keel_error_invalid(err, "namespaces: %s map: at most %d ranges", what, KEEL_NS_MAX_MAPS);
	grown = realloc(*maps, (*n + 1) * sizeof(**maps));
	if (!grown)
		return keel_error_sys(err, ENOMEM, "namespaces: %s map", what);
	grown[*n] = (struct keel_idmap){ inside, outside, count };
	(*n)++;
	*maps = grown;
	return 0;
}

KEEL_PUBLIC int keel_ns_add_uid_map(keel_ns *ns, unsigned inside, unsigned outside, unsigned count,
				    keel_error **err)
{
	if (!ns)
		return keel_error_invalid(err, "namespaces: uid map: NULL handle");
	return add_map(&ns->uid_maps, &ns->n_uid_maps, "uid", inside, outside, count, err);
}

KEEL_PUBLIC int keel_ns_add_gid_map(keel_ns *ns, unsigned inside, unsigned outside, unsigned count,
				    keel_error **err)
{
	if (!ns)
		return keel_error_invalid(err, "namespaces: gid map: NULL handle");
	return add_map(&ns->gid_maps, &ns->n_gid_maps, "gid", inside, outside, count, err);
}

KEEL_PUBLIC int keel_ns_set_time_offset(keel_ns *ns, int clockid, long long sec, long nsec,
					keel_error **err)
{
	if (!ns)
		return keel_error_invalid(err, "namespaces: time offset: NULL handle");
	if (nsec < 0 || nsec > 999999999)
		return keel_error_invalid(err, "namespaces: time offset: nanoseconds %ld out of 0..999999999", nsec);
	if (clockid == CLOCK_MONOTONIC) {
		ns->mono_sec = sec;
		ns->mono_nsec = nsec;
	} else if (clockid == CLOCK_BOOTTIME) {
		ns->boot_sec = sec;
		ns->boot_nsec = nsec;
	} else {
		return keel_error_invalid(err, "namespaces: time offset: clock %d is not CLOCK_MONOTONIC or CLOCK_BOOTTIME",
					  clockid);
	}
	ns->has_time_offsets = 1;
	return 0;
}
