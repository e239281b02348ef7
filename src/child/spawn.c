/*
 * The child side of a spawn: everything the new process runs between the
 * clone and its execve, and the two calls both sides make (the messages
 * of the sync socket, the clone itself).
 *
 * This file is built into libkeel-child.la with the other files of
 * src/child/, and tests/check-child-alloc.sh fails the build's check if
 * any of them calls anything but system calls and async-signal-safe
 * helpers: no malloc, no stdio, no locks (docs/architecture.md). The
 * protocol these functions speak is drawn at the top of src/spawn.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <net/if.h>

#include <keel/error.h>

#include "child/spawn-plan.h"
#include "mount.h"
#include "ns.h"
#include "security.h"
#include "util/child.h"
#include "util/syscall.h"

/* The order joined namespaces are entered in: the user namespace first,
 * which grants the rights over the others, the mount namespace last. */
static const unsigned join_order[KEEL_NS_NTYPES] = {
	KEEL_NS_USER, KEEL_NS_CGROUP, KEEL_NS_IPC, KEEL_NS_UTS,
	KEEL_NS_NET, KEEL_NS_PID, KEEL_NS_TIME, KEEL_NS_MOUNT,
};

/* ------------------------------------------------------------------ */
/* Both sides: the sync socket and the clone call (async-signal-safe). */

int send_msg(int sock, const struct spawn_msg *m, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* Receive one message: 1 with *m (and *fd, or -1), 0 on EOF, -errno on error. */
int recv_msg(int sock, struct spawn_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd && *fd < 0)
				*fd = got;
			else
				close(got);
		}
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*m)) {
		if (fd && *fd >= 0)
			close(*fd);
		return -EPROTO;
	}
	m->rep.msg[sizeof(m->rep.msg) - 1] = '\0';
	return 1;
}

/*
 * clone3 (or clone(2) where it is missing, or when forced) without a new
 * stack: fork-like, the child returns 0 here on a copy of our stack.
 * *pidfd gets a pidfd or -1; *used_clone3 says which call made the child.
 */
pid_t do_clone(unsigned long flags, int cgroup_fd, int legacy, int *pidfd, int *used_clone3)
{
	int sig = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
	long pid;

	*pidfd = -1;
	*used_clone3 = 0;
	if (!legacy) {
		struct clone_args args;

		memset(&args, 0, sizeof(args));
		args.flags = flags | CLONE_PIDFD;
		args.pidfd = (uint64_t)(uintptr_t)pidfd;
		args.exit_signal = (uint64_t)sig;
		if (cgroup_fd >= 0) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)cgroup_fd;
		}
		pid = keel_sys_clone3(&args, sizeof(args));
		if (pid >= 0 || errno != ENOSYS) {
			*used_clone3 = 1;
			return (pid_t)pid;
		}
	}
	/* clone(2) cannot put the child into a cgroup: the parent writes its
	 * pid into cgroup.procs after STAGE1, and a cgroup namespace made now
	 * would be rooted at our cgroup. The child makes it after GO instead
	 * (see cgroupns_late in child_main). */
	if (cgroup_fd >= 0)
		flags &= ~(unsigned long)CLONE_NEWCGROUP;
	/* clone(2) writes the pidfd where the parent tid would go. */
	pid = syscall(SYS_clone, flags | CLONE_PIDFD | (unsigned long)sig, NULL, pidfd, NULL, 0);
	if (pid < 0 && errno == EINVAL) {
		*pidfd = -1; /* a kernel before 5.2: no pidfds at all */
		pid = syscall(SYS_clone, flags | (unsigned long)sig, NULL, NULL, NULL, 0);
	}
	return (pid_t)pid;
}

/* ------------------------------------------------------------------ */
/* The child. Nothing below allocates, locks or uses stdio.            */

static int child_fail(struct keel_child_report *rep, int errnum, const char *step, const char *object)
{
	return keel_report_fail(rep, KEEL_ERROR_CHILD, errnum, step, object);
}

/* The caller's signal handlers must never run in the child: back to
 * default dispositions, then an empty mask (all signals were blocked
 * by the parent around the clone). */
static void child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < _NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and libc's own */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Enter joined namespaces, then make the ones clone could not (because
 * they must belong to a joined user namespace), then fork into the pid
 * namespace if one was joined or made. *grandchild is set in the
 * intermediate that must hand it over; 0 in the process that goes on.
 */
static int child_enter_namespaces(const struct plan *pl, int cgroupns_late, struct keel_child_report *rep,
				  pid_t *grandchild, int *gc_pidfd)
{
	unsigned long unshare_ns = pl->unshare_ns & ~(cgroupns_late ? (unsigned long)CLONE_NEWCGROUP : 0);
	int i, idx, used_clone3;
	pid_t pid;

	*grandchild = 0;
	for (i = 0; i < KEEL_NS_NTYPES; i++) {
		idx = keel_ns_index(join_order[i]);
		if (pl->join_fd[idx] >= 0 && setns(pl->join_fd[idx], 0) < 0)
			return child_fail(rep, errno, "join namespace", keel_ns_type_name(join_order[i]));
	}
	if (unshare_ns && unshare((int)unshare_ns) < 0)
		return child_fail(rep, errno, "unshare", "namespaces");
	if (!pl->double_fork)
		return 0;
	pid = do_clone(CLONE_PARENT, -1, pl->legacy_clone, gc_pidfd, &used_clone3);
	if (pid < 0)
		return child_fail(rep, errno, "fork into", "pid namespace");
	*grandchild = pid;
	return 0;
}

int write_all_fd(int fd, const char *s)
{
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);

	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

/* A new time namespace only applies to children of the process that makes
 * it, and its offsets can only be set before anyone is in it: unshare,
 * write the offsets, then enter it through time_for_children. */
static int child_time_ns(const struct plan *pl, struct keel_child_report *rep)
{
	int fd, ret;

	if (unshare(CLONE_NEWTIME) < 0)
		return child_fail(rep, errno, "unshare", "time namespace");
	if (pl->time_offsets[0]) {
		fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return child_fail(rep, errno, "open", "/proc/self/timens_offsets");
		ret = write_all_fd(fd, pl->time_offsets);
		close(fd);
		if (ret < 0)
			return child_fail(rep, -ret, "write", "/proc/self/timens_offsets");
	}
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return child_fail(rep, errno, "open", "/proc/self/ns/time_for_children");
	ret = setns(fd, CLONE_NEWTIME);
	close(fd);
	if (ret < 0)
		return child_fail(rep, errno, "enter", "time namespace");
	return 0;
}

static int child_stdio(const struct plan *pl, struct keel_child_report *rep)
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };
	int copies[3], i;

	if (pl->tty_slave >= 0) {
		if (ioctl(pl->tty_slave, TIOCSCTTY, 0) < 0)
			return child_fail(rep, errno, "set controlling terminal", NULL);
		for (i = 0; i < 3; i++)
			if (dup2(pl->tty_slave, i) < 0)
				return child_fail(rep, errno, "dup terminal to", names[i]);
		return 0;
	}
	/* Copy the sources above 2 first, so that a source that is itself
	 * 0, 1 or 2 is not overwritten before it is used. */
	for (i = 0; i < 3; i++) {
		copies[i] = -1;
		if (pl->stdio[i] >= 0 && (copies[i] = fcntl(pl->stdio[i], F_DUPFD_CLOEXEC, 3)) < 0)
			return child_fail(rep, errno, "duplicate fd for", names[i]);
	}
	for (i = 0; i < 3; i++)
		if (copies[i] >= 0 && dup2(copies[i], i) < 0)
			return child_fail(rep, errno, "dup2", names[i]);
	return 0;
}

/* Keep a new fd of the child off 0, 1 and 2, which the terminal will
 * take over (the caller may have started us with its stdio closed). */
static int child_fd_above_stdio(int fd)
{
	int copy;

	if (fd < 0 || fd > 2)
		return fd;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return copy;
}

/* The peer of a pty master: TIOCGPTPEER (4.13) opens it through the
 * master's own devpts instance; before that, by its number in /dev/pts. */
static int child_open_peer(int master, struct keel_child_report *rep)
{
	char path[48], num[24];
	unsigned n;
	int peer;

	peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer >= 0 || (errno != EINVAL && errno != ENOTTY))
		return peer >= 0 ? peer : child_fail(rep, errno, "open the peer of", "/dev/ptmx");
	if (ioctl(master, TIOCGPTN, &n) < 0)
		return child_fail(rep, errno, "get the number of", "/dev/ptmx");
	keel_strlcpy(path, "/dev/pts/", sizeof(path));
	keel_strlcat(path, keel_utoa(n, num), sizeof(path));
	peer = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		return child_fail(rep, errno, "open", path);
	return peer;
}

/*
 * Open the terminal in the devpts this process sees (its container's),
 * make it the controlling terminal (setsid was done) and stdio, and send
 * the master to the parent. A process that will switch user gets its
 * terminal chowned to that user, so that it can reopen it (as runc does
 * for stdio); the group stays devpts's.
 */
static int child_tty(const struct plan *pl, int sock, struct keel_child_report *rep)
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };
	struct spawn_msg m;
	int master, peer = -1, unlock = 0, ret = -1, i;
	char num[24];

	master = child_fd_above_stdio(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
	if (master < 0)
		return child_fail(rep, errno, "open", "/dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
		child_fail(rep, errno, "unlock", "/dev/ptmx");
		goto out;
	}
	if ((peer = child_open_peer(master, rep)) < 0)
		goto out;
	if ((peer = child_fd_above_stdio(peer)) < 0) {
		child_fail(rep, errno, "duplicate fd of", "the terminal");
		goto out;
	}
	if (pl->has_user && fchown(peer, pl->uid, (gid_t)-1) < 0) {
		child_fail(rep, errno, "chown the terminal to uid", keel_utoa(pl->uid, num));
		goto out;
	}
	if (ioctl(peer, TIOCSCTTY, 0) < 0) {
		child_fail(rep, errno, "set controlling terminal", NULL);
		goto out;
	}
	for (i = 0; i < 3; i++)
		if (dup2(peer, i) < 0) {
			child_fail(rep, errno, "dup terminal to", names[i]);
			goto out;
		}
	memset(&m, 0, sizeof(m));
	m.kind = MSG_TTY_FD;
	if (send_msg(sock, &m, master) < 0) {
		child_fail(rep, errno, "send", "the terminal");
		goto out;
	}
	ret = 0;
out:
	if (peer >= 0)
		close(peer);
	close(master);
	return ret;
}

static int child_ids(const struct plan *pl, struct keel_child_report *rep)
{
	char num[24];

	/* Raw system calls: libc's set*id() wrappers signal every thread the
	 * process had before the clone and take a lock to do so. */
	if (pl->set_groups && syscall(SYS_setgroups, pl->n_groups, pl->groups) < 0)
		return child_fail(rep, errno, "setgroups", NULL);
	if (!pl->has_user)
		return 0;
	if (syscall(SYS_setresgid, pl->gid, pl->gid, pl->gid) < 0)
		return child_fail(rep, errno, "setresgid", keel_utoa(pl->gid, num));
	if (syscall(SYS_setresuid, pl->uid, pl->uid, pl->uid) < 0)
		return child_fail(rep, errno, "setresuid", keel_utoa(pl->uid, num));
	return 0;
}

/* close_range (5.9), or one close per fd below the fd limit before it. */
static void close_fds_between(unsigned lo, unsigned hi)
{
	struct rlimit rl;
	unsigned fd, limit;

	if (lo > hi)
		return;
	if (keel_sys_close_range(lo, hi, 0) == 0)
		return;
	limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576 ? (unsigned)rl.rlim_cur : 1048576;
	for (fd = lo; fd <= hi && fd < limit; fd++)
		close((int)fd);
}

/* Close every fd but 0-2, the preserved ones, the sync socket and the
 * start FIFO (neither a directory), so that the program gets none of the
 * caller's fds, no path the caller chose is resolved while one of them is
 * open (see child_chdir()), and a process waiting on its FIFO holds no
 * copy of another spawn's socket (which would delay that spawn's EOF).
 * The preserved fds (keel_process_set_preserve_fds()) lose their
 * close-on-exec flag. */
static void child_close_fds(const struct plan *pl, int sock)
{
	unsigned a, b, t, lo = 3 + pl->preserve_fds, fd;

	for (fd = 3; fd < lo; fd++)
		if ((int)fd != sock && (int)fd != pl->fifo_fd)
			fcntl((int)fd, F_SETFD, 0);

	if (sock < 0) /* a shared-memory child with nothing to send (no FIFO either) */
		sock = pl->fifo_fd >= 0 ? pl->fifo_fd : 2;
	a = (unsigned)sock;
	b = pl->fifo_fd >= 0 ? (unsigned)pl->fifo_fd : a;

	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	close_fds_between(lo, a - 1);
	close_fds_between(a + 1 > lo ? a + 1 : lo, b - 1);
	close_fds_between(b + 1 > lo ? b + 1 : lo, UINT_MAX);
}

/* Did this process change its root: a rootfs of its own, or a joined
 * mount namespace (whose root setns() makes ours)? */
static int child_changed_root(const struct plan *pl)
{
	return pl->mnt || pl->join_fd[keel_ns_index(KEEL_NS_MOUNT)] >= 0;
}

/*
 * The working directory, entered once no fd of the caller is left open
 * (child_close_fds()): a cwd of /proc/self/fd/N would otherwise follow a
 * host directory fd (a state directory, a cgroup) out of the container,
 * as in runc's CVE-2024-21626. An absolute cwd is resolved from our root,
 * the container's. Then the result is checked: getcwd(2) gives a path
 * that does not start with '/' ("(unreachable)/...") for a directory
 * outside the root, however it was reached.
 */
static int child_chdir(const struct plan *pl, struct keel_child_report *rep)
{
	const char *shown = pl->cwd ? pl->cwd : "/";
	char buf[PATH_MAX];
	long n;

	if (pl->cwd && chdir(pl->cwd) < 0)
		return child_fail(rep, errno, "chdir", pl->cwd);
	if (!pl->cwd && !child_changed_root(pl))
		return 0;
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n < 0)
		return child_fail(rep, errno, "check the working directory", shown);
	if (n == 0 || buf[0] != '/') {
		child_fail(rep, EPERM, "chdir", shown);
		keel_report_append(rep, ": the directory is outside the root of the new process");
		return -EPERM;
	}
	return 0;
}

/* lo of the new network namespace, up: what `ip link set lo up` does,
 * without netlink. Runs after GO, so with CAP_NET_ADMIN over a network
 * namespace that our new user namespace owns, and after the parent hook
 * has moved a veth in (which does not touch lo). */
static int child_loopback_up(struct keel_child_report *rep)
{
	struct ifreq ifr;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return child_fail(rep, errno, "bring up lo: socket", NULL);
	memset(&ifr, 0, sizeof(ifr));
	keel_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		ret = child_fail(rep, errno, "bring up lo: get flags", NULL);
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			ret = child_fail(rep, errno, "bring up lo: set flags", NULL);
	}
	close(fd);
	return ret;
}

/* After GO: every step between the namespaces and the exec, in order. */
static int child_setup(const struct plan *pl, int sock, struct keel_child_report *rep)
{
	struct spawn_msg m;
	int notify_fd = -1;
	ssize_t n;
	char c;

	/* In a new user namespace, become its root when the maps give it one:
	 * until then our ids are the caller's (host root's are not mapped),
	 * and a filesystem the namespace mounts refuses files of unmapped ids
	 * (EOVERFLOW). As runc does; without a mapped 0 this fails, harmlessly. */
	if (pl->new_user) {
		syscall(SYS_setresgid, 0, 0, 0);
		syscall(SYS_setresuid, 0, 0, 0);
	}
	if (pl->loopback_up && child_loopback_up(rep) < 0)
		return -1;
	if (pl->new_time && child_time_ns(pl, rep) < 0)
		return -1;
	if (setsid() < 0)
		return child_fail(rep, errno, "setsid", NULL);
	if (child_stdio(pl, rep) < 0)
		return -1;
	if (pl->sec && keel_security_plan_apply_early(pl->sec, rep) < 0)
		return -1;
	if (pl->mnt && keel_mount_plan_apply(pl->mnt, rep) < 0)
		return -1;
	if (pl->tty_inside && child_tty(pl, sock, rep) < 0)
		return -1;
	/* No fd of the caller's may outlive this point: the working
	 * directory is a path the caller chose, resolved next. */
	child_close_fds(pl, sock);
	if (child_chdir(pl, rep) < 0)
		return -1;
	if (pl->has_umask)
		umask(pl->umask);
	if (pl->sec && keel_security_plan_apply_pre_user(pl->sec, rep) < 0)
		return -1;
	if (child_ids(pl, rep) < 0)
		return -1;
	if (pl->sec && keel_security_plan_apply_late(pl->sec, &notify_fd, rep) < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	if (notify_fd >= 0) {
		m.kind = MSG_NOTIFY_FD;
		if (send_msg(sock, &m, notify_fd) < 0)
			return child_fail(rep, errno, "send", "seccomp notify fd");
		close(notify_fd);
	}
	if (pl->fifo_fd < 0)
		return 0;
	m.kind = MSG_READY;
	if (send_msg(sock, &m, -1) < 0)
		return child_fail(rep, errno, "report", "ready");
	do
		n = read(pl->fifo_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return child_fail(rep, n < 0 ? errno : EPIPE, "wait on start fifo", pl->attr->start_fifo);
	close(pl->fifo_fd);
	return 0;
}

/* execve each candidate; like execvp, a missing candidate lets the search
 * go on and EACCES is reported only if nothing else was found. Returns
 * only on failure, with the report filled. */
static void child_exec(const struct plan *pl, struct keel_child_report *rep)
{
	const char *denied = NULL;
	int i, e;

	for (i = 0; pl->exec_paths[i]; i++) {
		execve(pl->exec_paths[i], pl->argv, pl->envp);
		e = errno;
		if (!pl->path_search) {
			keel_report_fail(rep, KEEL_ERROR_EXEC, e, "exec", pl->exec_paths[i]);
			return;
		}
		if (e == EACCES) {
			if (!denied)
				denied = pl->exec_paths[i];
		} else if (e != ENOENT && e != ENOTDIR) {
			keel_report_fail(rep, KEEL_ERROR_EXEC, e, "exec", pl->exec_paths[i]);
			return;
		}
	}
	if (denied)
		keel_report_fail(rep, KEEL_ERROR_EXEC, EACCES, "exec", denied);
	else
		keel_report_fail(rep, KEEL_ERROR_EXEC, ENOENT, "exec", pl->argv[0]);
}

/* Does the new process join namespaces that exist already (a
 * keel_container_exec(), a keel_ns_join_*())? */
int child_joins(const struct plan *pl)
{
	int i;

	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (pl->join_fd[i] >= 0)
			return 1;
	return 0;
}

/*
 * STAGE1 and GO: tell the parent we are in our namespaces, and wait until
 * it has done its part (id maps, cgroup, hook). An intermediate hands its
 * grandchild over and leaves here. Returns once GO has come.
 */
static void child_handshake(const struct plan *pl, int sock, pid_t gc, int gc_pidfd)
{
	struct spawn_msg m;
	int dumpable;

	/* The parent writes our id maps through /proc/PID, which needs us
	 * dumpable; a caller that changed its ids (setuid) is not, and we
	 * inherited that. Restored after GO; execve resets it anyway. */
	dumpable = (int)prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (pl->new_user && dumpable != 1 && !child_joins(pl))
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	memset(&m, 0, sizeof(m));
	if (gc > 0 || !pl->double_fork) {
		/* The intermediate hands over the grandchild and leaves; a
		 * single child says it is in its namespaces. */
		m.kind = MSG_STAGE1;
		m.pid = gc;
		if (send_msg(sock, &m, gc_pidfd) < 0)
			_exit(127);
		if (gc > 0)
			_exit(0);
	}
	if (recv_msg(sock, &m, NULL) != 1 || m.kind != MSG_GO)
		_exit(127); /* the parent failed, or went away: it reaps us */
	if (pl->new_user && dumpable == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * The whole life of the new process up to execve; never returns. A child
 * that shares the caller's memory (share_vm) has no handshake: the parent
 * sleeps until it execs or exits, then reads what it sent.
 * cgroup_by_parent: the clone did not put us into the cgroup, the parent
 * writes our pid into it before GO; so a new cgroup namespace is made only
 * after GO, to be rooted there ("0::/" inside), not in the caller's cgroup.
 */
__attribute__((noreturn)) void child_main(const struct plan *pl, int cgroup_by_parent)
{
	int sock = pl->sock[1], gc_pidfd = -1;
	int cgroupns_late = cgroup_by_parent && ((pl->clone_ns | pl->unshare_ns) & CLONE_NEWCGROUP);
	struct spawn_msg m;
	pid_t gc;

	memset(&m, 0, sizeof(m));
	child_reset_signals();
	if (pl->sock[0] >= 0)
		close(pl->sock[0]);
	/* Once in the namespaces of a running container, the processes in
	 * it can see us, and until our execve our /proc/PID/exe is the
	 * caller's program on the host: a container process that opened it
	 * could later write to it (CVE-2019-5736). Not dumpable, /proc/PID
	 * (exe, fd, map_files, mem, cwd, root) is closed to anyone without
	 * CAP_SYS_PTRACE over the caller's user namespace. The execve of an
	 * ordinary program makes the process dumpable again. Set before the
	 * first setns(), and inherited by the grandchild of a pid namespace;
	 * such a child never shares the caller's memory (can_share_vm()),
	 * where dumpability lives. */
	if (child_joins(pl) && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		child_fail(&m.rep, errno, "make the process non-dumpable", NULL);
		goto fail;
	}
	if (child_enter_namespaces(pl, cgroupns_late, &m.rep, &gc, &gc_pidfd) < 0)
		goto fail;
	if (!pl->share_vm)
		child_handshake(pl, sock, gc, gc_pidfd);
	if (cgroupns_late && unshare(CLONE_NEWCGROUP) < 0) {
		child_fail(&m.rep, errno, "unshare", "cgroup namespace");
		goto fail;
	}
	if (child_setup(pl, sock, &m.rep) == 0)
		child_exec(pl, &m.rep);
fail:
	m.kind = MSG_FAIL;
	if (pl->vm_msg)
		*pl->vm_msg = m;
	else
		send_msg(sock, &m, -1);
	_exit(127);
}

/* The entry of a child cloned onto its own stack (keel_clone3_vfork). */
int child_entry(void *arg)
{
	child_main(arg, 0); /* clone3 with CLONE_INTO_CGROUP: already in the cgroup */
}
