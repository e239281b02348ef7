/*
 * spawn: start a process in new or joined namespaces, and hear back from it.
 *
 * The caller may be any thread of any program (Go, Python, a server), so
 * the new process runs only system calls on memory prepared before the
 * clone: no malloc, no stdio, no locks (DESIGN.md, "Safe to embed").
 * Everything it needs (argv, envp, the exec candidates of a PATH search,
 * id-map strings, mount and security plans) is computed first, in
 * plan_prepare(), into a struct plan that the child reads from its copy
 * of the address space.
 *
 * The protocol, over a SOCK_SEQPACKET socketpair that is close-on-exec
 * (so a successful execve closes the child's end: EOF means "exec'd"):
 *
 *   parent                                child (then grandchild, see below)
 *   clone3(CLONE_PIDFD, CLONE_NEW*,
 *          CLONE_INTO_CGROUP) ---------->  reset signals
 *                                          setns into joined namespaces,
 *                                          unshare the new ones, and fork
 *                                          again into a pid namespace if needed
 *                        <---------------  STAGE1 (pid + pidfd of the grandchild)
 *   write uid/gid maps, join the cgroup
 *   (clone fallback), run the parent hook
 *   GO ----------------------------------> lo up (if asked), time namespace,
 *                                          setsid, stdio/tty,
 *                                          security early, mounts,
 *                        <---------------  TTY_FD (pty master), if the
 *                                          terminal is made inside, see below
 *                                          close the caller's fds, chdir
 *                                          (checked to be under the root),
 *                                          umask, security pre-user,
 *                                          ids, security late (seccomp last)
 *                        <---------------  NOTIFY_FD (seccomp listener), if any
 *                        <---------------  READY, if there is a start FIFO,
 *                                          then read() on the FIFO
 *                        <---------------  FAIL + report, at any failing step
 *   EOF <--------------------------------  execve
 *
 * When the parent has nothing to do between STAGE1 and GO (no id maps, no
 * grandchild, no hook, no start FIFO, the cgroup joined by clone3 itself:
 * a plain container start), there is no handshake at all: the child is
 * cloned with CLONE_VM | CLONE_VFORK onto a stack of its own, so nothing
 * of the caller's memory is copied, the calling thread sleeps until the
 * child has exec'd or exited, and then reads what it sent (a FAIL report,
 * a pty master, a seccomp listener) before the EOF. See util/vfork.h for
 * the rules that child lives by and where the path is not taken.
 *
 * Joining a pid namespace (or making one after joining others) only
 * affects children, so the first child forks a grandchild with
 * CLONE_PARENT: the caller is its real parent and reaps it, and the
 * intermediate exits once it has handed the grandchild over.
 *
 * A terminal (keel_process_set_tty) must come from the devpts the process
 * will see, or ttyname() fails and programs that reopen their terminal
 * break. Without a mount namespace of its own that is the caller's: the
 * parent opens the pty before the clone. When the process ends up in
 * another mount namespace (a new one, maybe with a rootfs that mounts a
 * devpts instance of its own, or the joined one of a container), the child
 * opens /dev/ptmx itself once its mounts are in place, makes the peer its
 * controlling terminal and stdio, and sends the master back (TTY_FD), as
 * runc and crun do.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <net/if.h>

#include "error.h"
#include "mount.h"
#include "ns.h"
#include "process.h"
#include "security.h"
#include "spawn-internal.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/vfork.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

struct keel_spawn_attr {
	const keel_ns *ns;            /* borrowed */
	const keel_rootfs *rootfs;    /* borrowed */
	int cgroup_fd;                /* borrowed, or == owned_cgroup_fd */
	int owned_cgroup_fd;
	keel_spawn_hook hook;
	void *hook_data;
	char *start_fifo;
	char *label;
	int legacy_clone;
	int loopback_up;
};

struct keel_child {
	pid_t pid;
	int pidfd;
	int tty_fd;
	int seccomp_fd;
	int reaped;
	int exit_code;
	int term_signal;
	int shared_vm;                /* started by run_shared_vm() */
};

enum msg_kind {
	MSG_STAGE1 = 1,  /* child -> parent: namespaces entered; pid of the grandchild, if any */
	MSG_GO = 2,      /* parent -> child: maps written, hook done, go on */
	MSG_FAIL = 3,    /* child -> parent: a step failed, see rep */
	MSG_NOTIFY_FD = 4, /* child -> parent: the seccomp listener, as SCM_RIGHTS */
	MSG_READY = 5,   /* child -> parent: waiting on the start FIFO */
	MSG_TTY_FD = 6   /* child -> parent: the pty master it opened, as SCM_RIGHTS */
};

struct spawn_msg {
	int kind;
	pid_t pid;
	struct keel_child_report rep;
};

/* Everything the child needs, prepared by the parent before the clone. */
struct plan {
	/* what to run */
	char *const *argv;            /* borrowed from the keel_process */
	char **envp;
	char **exec_paths;            /* candidates for execve, NULL-terminated */
	int path_search;              /* argv[0] is a name searched in PATH */
	const char *cwd;
	int has_user;
	uid_t uid;
	gid_t gid;
	int set_groups;               /* call setgroups(n_groups, groups) */
	const gid_t *groups;
	size_t n_groups;
	int has_umask;
	mode_t umask;
	int stdio[3];                 /* fds for 0, 1, 2; -1 keeps the caller's */
	int devnull_fd;
	int tty_master, tty_slave;    /* opened by the parent, or -1 */
	int tty_inside;               /* the child opens the pty (after the mounts) */
	struct keel_security_plan *sec;
	struct keel_mount_plan *mnt;

	/* namespaces */
	unsigned long clone_ns;       /* CLONE_NEW* given to clone */
	unsigned long unshare_ns;     /* CLONE_NEW* unshared after the joins */
	int join_fd[KEEL_NS_NTYPES];  /* borrowed from the keel_ns */
	int double_fork;
	int new_time;
	char time_offsets[160];
	int new_user;
	char *uid_map, *gid_map;      /* "inside outside count\n" lines */
	int uid_helper, gid_helper;   /* write them with newuidmap/newgidmap */
	int deny_setgroups;

	/* the protocol */
	int sock[2];                  /* [0] the parent's end, [1] the child's */
	int fifo_fd;
	int cgroup_fd;                /* borrowed */
	int legacy_clone;
	int share_vm;                 /* cloned with CLONE_VM | CLONE_VFORK: no STAGE1/GO */
	struct spawn_msg *vm_msg;     /* share_vm without a socket: where the child leaves
				       * its FAIL report, in the sleeping parent's memory */
	int loopback_up;              /* bring lo up in the new network namespace */
	const char *label;
	const keel_spawn_attr *attr;
};

/* The order joined namespaces are entered in: the user namespace first,
 * which grants the rights over the others, the mount namespace last. */
static const unsigned join_order[KEEL_NS_NTYPES] = {
	KEEL_NS_USER, KEEL_NS_CGROUP, KEEL_NS_IPC, KEEL_NS_UTS,
	KEEL_NS_NET, KEEL_NS_PID, KEEL_NS_TIME, KEEL_NS_MOUNT,
};

/* ------------------------------------------------------------------ */
/* Both sides: the sync socket and the clone call (async-signal-safe). */

static int send_msg(int sock, const struct spawn_msg *m, int fd)
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
static int recv_msg(int sock, struct spawn_msg *m, int *fd)
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
static pid_t do_clone(unsigned long flags, int cgroup_fd, int legacy, int *pidfd, int *used_clone3)
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
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0 || errno != ENOSYS) {
			*used_clone3 = 1;
			return (pid_t)pid;
		}
	}
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
static int child_enter_namespaces(const struct plan *pl, struct keel_child_report *rep,
				  pid_t *grandchild, int *gc_pidfd)
{
	int i, idx, used_clone3;
	pid_t pid;

	*grandchild = 0;
	for (i = 0; i < KEEL_NS_NTYPES; i++) {
		idx = keel_ns_index(join_order[i]);
		if (pl->join_fd[idx] >= 0 && setns(pl->join_fd[idx], 0) < 0)
			return child_fail(rep, errno, "join namespace", keel_ns_type_name(join_order[i]));
	}
	if (pl->unshare_ns && unshare((int)pl->unshare_ns) < 0)
		return child_fail(rep, errno, "unshare", "namespaces");
	if (!pl->double_fork)
		return 0;
	pid = do_clone(CLONE_PARENT, -1, pl->legacy_clone, gc_pidfd, &used_clone3);
	if (pid < 0)
		return child_fail(rep, errno, "fork into", "pid namespace");
	*grandchild = pid;
	return 0;
}

static int write_all_fd(int fd, const char *s)
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
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
	limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576 ? (unsigned)rl.rlim_cur : 1048576;
	for (fd = lo; fd <= hi && fd < limit; fd++)
		close((int)fd);
}

/* Close every fd but 0-2, the sync socket and the start FIFO (neither
 * a directory), so that the program gets none of the caller's fds, no
 * path the caller chose is resolved while one of them is open (see
 * child_chdir()), and a process waiting on its FIFO holds no copy of
 * another spawn's socket (which would delay that spawn's EOF). */
static void child_close_fds(const struct plan *pl, int sock)
{
	unsigned a, b, t;

	if (sock < 0) /* a shared-memory child with nothing to send (no FIFO either) */
		sock = pl->fifo_fd >= 0 ? pl->fifo_fd : 2;
	a = (unsigned)sock;
	b = pl->fifo_fd >= 0 ? (unsigned)pl->fifo_fd : a;

	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	close_fds_between(3, a - 1);
	close_fds_between(a + 1, b - 1);
	close_fds_between(b + 1, UINT_MAX);
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
static int child_joins(const struct plan *pl)
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

/* The whole life of the new process up to execve; never returns. A child
 * that shares the caller's memory (share_vm) has no handshake: the parent
 * sleeps until it execs or exits, then reads what it sent. */
static __attribute__((noreturn)) void child_main(const struct plan *pl)
{
	int sock = pl->sock[1], gc_pidfd = -1;
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
	if (child_enter_namespaces(pl, &m.rep, &gc, &gc_pidfd) < 0)
		goto fail;
	if (!pl->share_vm)
		child_handshake(pl, sock, gc, gc_pidfd);
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
static int child_entry(void *arg)
{
	child_main(arg);
}

/* ------------------------------------------------------------------ */
/* The parent: prepare the plan.                                        */

static void plan_init(struct plan *pl)
{
	int i;

	memset(pl, 0, sizeof(*pl));
	pl->stdio[0] = pl->stdio[1] = pl->stdio[2] = -1;
	pl->devnull_fd = pl->tty_master = pl->tty_slave = -1;
	pl->sock[0] = pl->sock[1] = pl->fifo_fd = pl->cgroup_fd = -1;
	for (i = 0; i < KEEL_NS_NTYPES; i++)
		pl->join_fd[i] = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Free what the parent made for the child; keeps tty_master if taken. */
static void plan_release(struct plan *pl)
{
	keel_strv_free(pl->envp);
	keel_strv_free(pl->exec_paths);
	free(pl->uid_map);
	free(pl->gid_map);
	close_fd(&pl->devnull_fd);
	close_fd(&pl->tty_master);
	close_fd(&pl->tty_slave);
	close_fd(&pl->sock[0]);
	close_fd(&pl->sock[1]);
	close_fd(&pl->fifo_fd);
	keel_security_plan_free(pl->sec);
	keel_mount_plan_free(pl->mnt);
}

/* The execve candidates: argv[0] itself, or each PATH entry + "/" + argv[0]. */
static int prepare_exec_paths(struct plan *pl, keel_error **err)
{
	const char *prog = pl->argv[0], *path = NULL, *p;
	size_t n = 1, i = 0, len;
	char **v;

	if (strchr(prog, '/')) {
		/* owned by the plan at once, so plan_free() frees it on failure too */
		if (!(pl->exec_paths = v = calloc(2, sizeof(*v))) || !(v[0] = strdup(prog)))
			goto oom;
		return 0;
	}
	pl->path_search = 1;
	for (i = 0; pl->envp[i]; i++)
		if (!strncmp(pl->envp[i], "PATH=", 5)) {
			path = pl->envp[i] + 5;
			break;
		}
	if (!path)
		path = DEFAULT_PATH;
	for (p = path; *p; p++)
		n += *p == ':';
	if (!(v = calloc(n + 1, sizeof(*v))))
		goto oom;
	pl->exec_paths = v;
	for (i = 0, p = path; i < n; i++) {
		len = strcspn(p, ":");
		/* an empty entry is the current directory, as in execvp */
		if (asprintf(&v[i], "%.*s/%s", (int)(len ? len : 1), len ? p : ".", prog) < 0) {
			v[i] = NULL;
			goto oom;
		}
		p += len + (p[len] == ':');
	}
	return 0;
oom:
	return keel_error_sys(err, ENOMEM, "spawn %s: exec paths", prog);
}

static int prepare_tty(struct plan *pl, keel_error **err)
{
	char name[128];
	int ret;

	pl->tty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pl->tty_master < 0)
		return keel_error_sys(err, errno, "tty: open /dev/ptmx");
	if (grantpt(pl->tty_master) < 0 || unlockpt(pl->tty_master) < 0)
		return keel_error_sys(err, errno, "tty: unlock pseudo-terminal");
	if ((ret = ptsname_r(pl->tty_master, name, sizeof(name))) != 0)
		return keel_error_sys(err, ret, "tty: name of pseudo-terminal");
	pl->tty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pl->tty_slave < 0)
		return keel_error_sys(err, errno, "tty: open %s", name);
	return 0;
}

/* Will the process see other mounts than ours (a mount namespace made or
 * joined, maybe a rootfs)? Then its terminal must come from its own
 * /dev/ptmx, opened by the child; ours would have no name there. */
static int in_other_mount_ns(const struct plan *pl, const keel_spawn_attr *attr)
{
	return (attr && attr->rootfs) || ((pl->clone_ns | pl->unshare_ns) & CLONE_NEWNS) ||
	       pl->join_fd[keel_ns_index(KEEL_NS_MOUNT)] >= 0;
}

/* Runs after prepare_ns(), which says which mount namespace the child ends in. */
static int prepare_stdio(struct plan *pl, const keel_process *p, const keel_spawn_attr *attr, keel_error **err)
{
	static const char *const names[3] = { "stdin", "stdout", "stderr" };
	int i;

	if (p->tty) {
		pl->tty_inside = in_other_mount_ns(pl, attr);
		return pl->tty_inside ? 0 : prepare_tty(pl, err);
	}
	if (!p->has_stdio)
		return 0;
	for (i = 0; i < 3; i++) {
		if (p->stdio[i] >= 0) {
			if (fcntl(p->stdio[i], F_GETFD) < 0)
				return keel_error_sys(err, errno, "stdio: fd %d for %s", p->stdio[i], names[i]);
			pl->stdio[i] = p->stdio[i];
			continue;
		}
		if (pl->devnull_fd < 0 && (pl->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			return keel_error_sys(err, errno, "stdio: open /dev/null");
		pl->stdio[i] = pl->devnull_fd;
	}
	return 0;
}

/* "a b c\n" lines of a map, or the caller's own id mapped to 0. */
static int format_map(const struct keel_idmap *maps, size_t n, unsigned own, char **out)
{
	size_t cap = (n ? n : 1) * 36 + 1, used = 0, i;
	char *s = malloc(cap);

	if (!s)
		return -ENOMEM;
	if (!n)
		snprintf(s, cap, "0 %u 1\n", own);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, cap - used, "%u %u %u\n",
					 maps[i].inside, maps[i].outside, maps[i].count);
	*out = s;
	return 0;
}

/* Can the caller write this map itself, or must newuidmap/newgidmap? */
static int needs_helper(const struct keel_idmap *maps, size_t n, unsigned own)
{
	if (geteuid() == 0 || n == 0)
		return 0;
	return !(n == 1 && maps[0].count == 1 && maps[0].outside == own);
}

static int prepare_user_ns(struct plan *pl, const keel_ns *ns, keel_error **err)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (format_map(ns->uid_maps, ns->n_uid_maps, uid, &pl->uid_map) < 0 ||
	    format_map(ns->gid_maps, ns->n_gid_maps, gid, &pl->gid_map) < 0)
		return keel_error_sys(err, ENOMEM, "user namespace: id maps");
	pl->uid_helper = needs_helper(ns->uid_maps, ns->n_uid_maps, uid);
	pl->gid_helper = needs_helper(ns->gid_maps, ns->n_gid_maps, gid);
	/* The kernel lets an unprivileged writer set a gid map only once
	 * setgroups is denied; newgidmap decides that for itself. */
	pl->deny_setgroups = geteuid() != 0 && !pl->gid_helper;
	return 0;
}

static int prepare_ns(struct plan *pl, const keel_ns *ns, keel_error **err)
{
	unsigned joined = 0, both;
	unsigned long create;
	int i;

	if (!ns)
		return 0;
	for (i = 0; i < KEEL_NS_NTYPES; i++) {
		pl->join_fd[i] = ns->join_fd[i];
		if (ns->join_fd[i] >= 0)
			joined |= 1u << i;
	}
	if ((both = joined & ns->create))
		return keel_error_invalid(err, "namespaces: %s is both created and joined",
					  keel_ns_type_name((keel_ns_type)(both & -both)));
	if (ns->has_time_offsets && !(ns->create & KEEL_NS_TIME))
		return keel_error_invalid(err, "namespaces: time offsets need a new time namespace (KEEL_NS_TIME)");
	if ((ns->n_uid_maps || ns->n_gid_maps) && !(ns->create & KEEL_NS_USER))
		return keel_error_invalid(err, "namespaces: uid/gid maps need a new user namespace (KEEL_NS_USER)");
	/* The time namespace is made in the child (see child_time_ns). When
	 * namespaces are joined, new ones must be made after the joins (to
	 * belong to a joined user namespace), so by unshare, not by clone. */
	create = keel_ns_clone_flags(ns->create & ~(unsigned)KEEL_NS_TIME);
	if (joined) {
		pl->unshare_ns = create;
		pl->double_fork = (ns->create & KEEL_NS_PID) || (joined & KEEL_NS_PID);
	} else {
		pl->clone_ns = create;
	}
	pl->new_time = !!(ns->create & KEEL_NS_TIME);
	if (ns->has_time_offsets)
		snprintf(pl->time_offsets, sizeof(pl->time_offsets), "monotonic %lld %ld\nboottime %lld %ld\n",
			 ns->mono_sec, ns->mono_nsec, ns->boot_sec, ns->boot_nsec);
	pl->new_user = !!(ns->create & KEEL_NS_USER);
	if (pl->new_user)
		return prepare_user_ns(pl, ns, err);
	return 0;
}

static int prepare_fifo(struct plan *pl, const char *path, keel_error **err)
{
	struct stat st;

	/* O_RDWR never blocks on a FIFO, and keeps it open for writers. */
	pl->fifo_fd = open(path, O_RDWR | O_CLOEXEC);
	if (pl->fifo_fd < 0)
		return keel_error_sys(err, errno, "start fifo %s", path);
	if (fstat(pl->fifo_fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return keel_error_invalid(err, "start fifo %s: not a FIFO", path);
	return 0;
}

/* The child's own fds must not be 0, 1 or 2 (a caller may have closed
 * its stdio), or setting up stdio would overwrite them. */
static int fd_above_stdio(int *fd)
{
	int copy;

	if (*fd < 0 || *fd > 2)
		return 0;
	if ((copy = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return -1;
	close(*fd);
	*fd = copy;
	return 0;
}

static int plan_prepare(struct plan *pl, const keel_process *p, const keel_spawn_attr *attr,
			keel_error **err)
{
	int ret;

	pl->attr = attr;
	pl->label = attr && attr->label ? attr->label : "init";
	pl->argv = p->argv;
	pl->cwd = p->cwd;
	pl->has_user = p->has_user;
	pl->uid = p->uid;
	pl->gid = p->gid;
	pl->has_umask = p->has_umask;
	pl->umask = p->umask;
	pl->groups = p->groups;
	pl->n_groups = p->n_groups;
	pl->cgroup_fd = attr ? attr->cgroup_fd : -1;
	pl->legacy_clone = attr ? attr->legacy_clone : 0;
	pl->loopback_up = attr ? attr->loopback_up : 0;
	if ((ret = keel_process_build_env(p, &pl->envp, err)) < 0 ||
	    (ret = prepare_exec_paths(pl, err)) < 0 ||
	    (ret = prepare_ns(pl, attr ? attr->ns : NULL, err)) < 0 ||
	    (ret = prepare_stdio(pl, p, attr, err)) < 0)
		return ret;
	/* Supplementary groups: as asked, else cleared when switching user,
	 * unless setgroups is denied in this user namespace. */
	pl->set_groups = p->has_groups || (p->has_user && !pl->deny_setgroups);
	if (attr && attr->start_fifo && (ret = prepare_fifo(pl, attr->start_fifo, err)) < 0)
		return ret;
	if (attr && attr->rootfs && (ret = keel_mount_plan_prepare(attr->rootfs, &pl->mnt, err)) < 0)
		return ret;
	if (p->security && (ret = keel_security_plan_prepare(p->security, &pl->sec, err)) < 0)
		return ret;
	if (fd_above_stdio(&pl->fifo_fd) < 0)
		return keel_error_sys(err, errno, "spawn: duplicate fd");
	return 0;
}

/* The protocol's socketpair (see the top of this file). */
static int open_sync_socket(struct plan *pl, keel_error **err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pl->sock) < 0)
		return keel_error_sys(err, errno, "spawn: socketpair");
	if (fd_above_stdio(&pl->sock[1]) < 0)
		return keel_error_sys(err, errno, "spawn: duplicate fd");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The parent: run the protocol.                                        */

/* One process the parent started: the child, or the grandchild. */
struct proc_ref {
	pid_t pid;
	int pidfd;
};

static void kill_and_reap(struct proc_ref *r)
{
	if (r->pid <= 0)
		return;
	if (r->pidfd < 0 || syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0) < 0)
		kill(r->pid, SIGKILL);
	while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close_fd(&r->pidfd);
	r->pid = 0;
}

/* The child ended without a report: say how, from its wait status. */
static int died_error(struct plan *pl, struct proc_ref *r, keel_error **err)
{
	int status = 0;
	pid_t got;

	do
		got = waitpid(r->pid, &status, 0);
	while (got < 0 && errno == EINTR);
	close_fd(&r->pidfd);
	r->pid = 0;
	if (got > 0 && WIFSIGNALED(status))
		return keel_error_set(err, KEEL_ERROR_CHILD, EINTR, "%s: the new process was killed by signal %d during setup",
				      pl->label, WTERMSIG(status));
	return keel_error_set(err, KEEL_ERROR_CHILD, EPIPE, "%s: the new process exited with status %d during setup",
			      pl->label, got > 0 ? WEXITSTATUS(status) : -1);
}

static int report_error(struct plan *pl, const struct keel_child_report *rep, keel_error **err)
{
	int code = rep->code ? rep->code : KEEL_ERROR_CHILD;

	if (code == KEEL_ERROR_EXEC)
		return keel_error_set(err, code, rep->errnum, "%s", rep->msg);
	return keel_error_set(err, code, rep->errnum, "%s: %s", pl->label, rep->msg);
}

static int write_proc_file(pid_t pid, const char *name, const char *data, keel_error **err)
{
	char path[64], shown[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "user namespace: open %s", path);
	ret = write_all_fd(fd, data);
	close(fd);
	if (ret < 0) {
		snprintf(shown, sizeof(shown), "%s", data);
		shown[strcspn(shown, "\n")] = '\0';
		return keel_error_sys(err, -ret, "user namespace: write \"%s%s\" to %s", shown,
				      strchr(data, '\n') && strchr(data, '\n')[1] ? " ..." : "", path);
	}
	return 0;
}

/* Run newuidmap/newgidmap PID inside outside count ... and wait for it;
 * its stderr becomes part of the error. */
static int run_map_helper(const char *tool, pid_t pid, const char *map, keel_error **err)
{
	char pidbuf[24], *copy, *tok, *save = NULL, *argv[3 + 3 * KEEL_NS_MAX_MAPS + 1], out[512];
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = 0, ret, n = 0;
	size_t used = 0;
	ssize_t got;
	pid_t hp;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	if (!(copy = strdup(map)))
		return keel_error_sys(err, ENOMEM, "user namespace: %s", tool);
	argv[n++] = (char *)tool;
	argv[n++] = pidbuf;
	for (tok = strtok_r(copy, " \n", &save); tok && n < (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	     tok = strtok_r(NULL, " \n", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(copy);
		return keel_error_sys(err, errno, "user namespace: %s: pipe", tool);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	ret = posix_spawnp(&hp, tool, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret != 0) {
		close(pipefd[0]);
		free(copy);
		return keel_error_sys(err, ret, "user namespace: run %s (from the uidmap package)", tool);
	}
	while (used < sizeof(out) - 1 && ((got = read(pipefd[0], out + used, sizeof(out) - 1 - used)) > 0 ||
					  (got < 0 && errno == EINTR)))
		used += got > 0 ? (size_t)got : 0;
	out[used] = '\0';
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
		out[--used] = '\0';
	close(pipefd[0]);
	while (waitpid(hp, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ret = 0;
	else /* argv[2] points into copy: free it only after the message is made */
		ret = keel_error_set(err, KEEL_ERROR_SYSTEM, EPERM, "user namespace: %s %d %s: failed (%s)", tool,
				     (int)pid, argv[2] ? argv[2] : "", used ? out : "no output");
	free(copy);
	return ret;
}

static int write_id_maps(struct plan *pl, pid_t pid, keel_error **err)
{
	int ret;

	if (pl->uid_helper)
		ret = run_map_helper("newuidmap", pid, pl->uid_map, err);
	else
		ret = write_proc_file(pid, "uid_map", pl->uid_map, err);
	if (ret < 0)
		return ret;
	if (pl->deny_setgroups && (ret = write_proc_file(pid, "setgroups", "deny", err)) < 0)
		return ret;
	if (pl->gid_helper)
		return run_map_helper("newgidmap", pid, pl->gid_map, err);
	return write_proc_file(pid, "gid_map", pl->gid_map, err);
}

static int join_cgroup_by_write(struct plan *pl, pid_t pid, keel_error **err)
{
	char num[24];
	int fd, ret;

	fd = openat(pl->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "spawn: open cgroup.procs of the target cgroup");
	ret = write_all_fd(fd, keel_utoa((unsigned long long)pid, num));
	close(fd);
	if (ret < 0)
		return keel_error_sys(err, -ret, "spawn: move process %d into the target cgroup", (int)pid);
	return 0;
}

static void describe_ns(unsigned long flags, char *buf, size_t size)
{
	unsigned t;

	buf[0] = '\0';
	for (t = 1; t <= KEEL_NS_TIME; t <<= 1)
		if (flags & keel_ns_clone_flags(t)) {
			keel_strlcat(buf, buf[0] ? "," : " (new ", size);
			keel_strlcat(buf, keel_ns_type_name((keel_ns_type)t), size);
		}
	if (buf[0])
		keel_strlcat(buf, " namespaces)", size);
}

static int clone_error(struct plan *pl, int e, keel_error **err)
{
	char what[96];

	describe_ns(pl->clone_ns, what, sizeof(what));
	if (e == EBUSY || (e == EOPNOTSUPP && pl->cgroup_fd >= 0))
		return keel_error_sys(err, e, "spawn %s: clone into cgroup", pl->argv[0]);
	return keel_error_sys(err, e, "spawn %s: clone%s", pl->argv[0], what);
}

/* Wait for the first message: the child is in its namespaces. */
static int await_stage1(struct plan *pl, struct proc_ref *first, struct proc_ref *final, keel_error **err)
{
	struct spawn_msg m;
	int fd, r;

	r = recv_msg(pl->sock[0], &m, &fd);
	if (r < 0)
		return keel_error_sys(err, -r, "spawn %s: read from the new process", pl->argv[0]);
	if (r == 0)
		return died_error(pl, first, err);
	if (m.kind == MSG_FAIL) {
		close_fd(&fd);
		return report_error(pl, &m.rep, err);
	}
	if (m.kind != MSG_STAGE1) {
		close_fd(&fd);
		return keel_error_sys(err, EPROTO, "spawn %s: unexpected message %d", pl->argv[0], m.kind);
	}
	if (m.pid <= 0) {
		close_fd(&fd);
		*final = *first;
		first->pid = 0;
		first->pidfd = -1;
		return 0;
	}
	/* The intermediate's grandchild is our child too (CLONE_PARENT). */
	final->pid = m.pid;
	final->pidfd = fd >= 0 ? fd : (int)syscall(SYS_pidfd_open, m.pid, 0);
	while (waitpid(first->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close_fd(&first->pidfd);
	first->pid = 0;
	return 0;
}

/* After GO: collect the pty master and the seccomp fd, wait for exec
 * (EOF) or READY. So with a start FIFO both are ours before we return. */
static int await_exec(struct plan *pl, struct proc_ref *final, keel_child *child, keel_error **err)
{
	struct spawn_msg m;
	int fd, r;

	for (;;) {
		r = recv_msg(pl->sock[0], &m, &fd);
		if (r < 0)
			return keel_error_sys(err, -r, "spawn %s: read from the new process", pl->argv[0]);
		if (r == 0) {
			if (pl->fifo_fd >= 0) /* it cannot exec before READY */
				return died_error(pl, final, err);
			return 0;
		}
		switch (m.kind) {
		case MSG_FAIL:
			close_fd(&fd);
			return report_error(pl, &m.rep, err);
		case MSG_NOTIFY_FD:
			close_fd(&child->seccomp_fd);
			child->seccomp_fd = fd;
			break;
		case MSG_TTY_FD:
			if (fd < 0)
				return keel_error_sys(err, EPROTO, "spawn %s: the terminal came without its fd",
						      pl->argv[0]);
			close_fd(&child->tty_fd);
			child->tty_fd = fd;
			break;
		case MSG_READY:
			close_fd(&fd);
			return 0;
		default:
			close_fd(&fd);
			return keel_error_sys(err, EPROTO, "spawn %s: unexpected message %d", pl->argv[0], m.kind);
		}
	}
}

/*
 * May the child share our memory (util/vfork.h)? Only when the parent has
 * nothing to do between the clone and the exec, since it sleeps through
 * them: no id maps to write, no grandchild to take over, no hook, no start
 * FIFO to wait on, and the cgroup joined by the clone itself. Not for a
 * process that joins namespaces: it makes itself non-dumpable (see
 * child_main()), and dumpability belongs to the memory. And not for
 * a user or time namespace: the kernel lets only a process whose memory
 * no other process shares make or join those (EINVAL, EUSERS).
 */
static int can_share_vm(const struct plan *pl)
{
	const keel_spawn_attr *attr = pl->attr;

	return KEEL_HAVE_VFORK_CLONE && !pl->legacy_clone && !pl->double_fork && pl->fifo_fd < 0 &&
	       !child_joins(pl) &&
	       !(attr && attr->hook) && !pl->new_user && !(pl->unshare_ns & CLONE_NEWUSER) &&
	       pl->join_fd[keel_ns_index(KEEL_NS_USER)] < 0 && !pl->new_time &&
	       pl->join_fd[keel_ns_index(KEEL_NS_TIME)] < 0;
}

/* Must a shared-memory child hand us an fd (a pty master it opened, a
 * seccomp listener)? Only a socket carries fds; else the child writes its
 * report into our memory, and no socket is made at all. */
static int shared_vm_needs_socket(const struct plan *pl)
{
	return pl->tty_inside || (pl->sec && keel_security_plan_has_listener(pl->sec));
}

/* After a shared-memory child without a socket: its report, if it left one. */
static int shared_vm_result(struct plan *pl, struct spawn_msg *m, keel_error **err)
{
	if (m->kind != MSG_FAIL)
		return 0; /* exec'd, as EOF on the socket would say */
	m->rep.msg[sizeof(m->rep.msg) - 1] = '\0';
	return report_error(pl, &m->rep, err);
}

/*
 * The child shares our memory and this thread sleeps until it has exec'd
 * or exited. Then its messages (a FAIL report, a pty master, a seccomp
 * listener: at most three, well below the socket's queue limit of ten, so
 * the child never blocks on a parent that cannot read yet) wait in the
 * socket, followed by EOF; or, without a socket, its report is in msg.
 * Returns -ENOSYS, with no error set and nothing started, where clone3 is
 * missing: the caller takes the fork-like path.
 */
static int run_shared_vm(struct plan *pl, keel_child *child, keel_error **err)
{
	struct proc_ref final = { 0, -1 };
	struct clone_args args;
	struct spawn_msg msg;
	sigset_t all, old;
	void *stack;
	long pid;
	int ret;

	stack = keel_vfork_stack_new();
	if (!stack)
		return keel_error_sys(err, errno, "spawn %s: a stack for the new process", pl->argv[0]);
	memset(&args, 0, sizeof(args));
	args.flags = pl->clone_ns | CLONE_VM | CLONE_VFORK | CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)&final.pidfd;
	args.exit_signal = SIGCHLD;
	args.stack = (uint64_t)(uintptr_t)stack;
	args.stack_size = KEEL_VFORK_STACK_SIZE;
	if (pl->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)pl->cgroup_fd;
	}
	pl->share_vm = 1;
	memset(&msg, 0, sizeof(msg));
	pl->vm_msg = pl->sock[1] < 0 ? &msg : NULL;
	/* As on the fork-like path: no handler of ours may run in the child
	 * (here it would run on our memory) before it has reset them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = keel_clone3_vfork(&args, sizeof(args), child_entry, pl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	keel_vfork_stack_free(stack);
	pl->share_vm = 0;
	pl->vm_msg = NULL;
	if (pid == -ENOSYS)
		return -ENOSYS;
	if (pid < 0)
		return clone_error(pl, (int)-pid, err);
	final.pid = (pid_t)pid;
	if (pl->sock[0] >= 0) {
		close_fd(&pl->sock[1]);
		ret = await_exec(pl, &final, child, err);
	} else {
		ret = shared_vm_result(pl, &msg, err);
	}
	if (ret < 0) {
		kill_and_reap(&final);
		close_fd(&child->seccomp_fd);
		close_fd(&child->tty_fd);
		return ret;
	}
	child->pid = final.pid;
	child->pidfd = final.pidfd;
	child->shared_vm = 1;
	return 0;
}

static int run(struct plan *pl, keel_child *child, keel_error **err)
{
	struct proc_ref first = { 0, -1 }, final = { 0, -1 };
	const keel_spawn_attr *attr = pl->attr;
	sigset_t all, old;
	struct spawn_msg go;
	int used_clone3, e, ret;

	if (can_share_vm(pl)) {
		if (shared_vm_needs_socket(pl) && (ret = open_sync_socket(pl, err)) < 0)
			return ret;
		if ((ret = run_shared_vm(pl, child, err)) != -ENOSYS)
			return ret;
	}
	if (pl->sock[0] < 0 && (ret = open_sync_socket(pl, err)) < 0)
		return ret;

	/* No signal handler of the caller may run in the child before it
	 * has reset them all: block everything around the clone. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	first.pid = do_clone(pl->clone_ns, pl->cgroup_fd, pl->legacy_clone, &first.pidfd, &used_clone3);
	if (first.pid == 0)
		child_main(pl);
	e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close_fd(&pl->sock[1]);
	if (first.pid < 0) {
		first.pid = 0;
		return clone_error(pl, e, err);
	}
	if ((ret = await_stage1(pl, &first, &final, err)) < 0)
		goto fail;
	if (pl->new_user && (ret = write_id_maps(pl, final.pid, err)) < 0)
		goto fail;
	if (pl->cgroup_fd >= 0 && !used_clone3 && (ret = join_cgroup_by_write(pl, final.pid, err)) < 0)
		goto fail;
	if (attr && attr->hook && (ret = attr->hook(final.pid, final.pidfd, attr->hook_data, err)) < 0) {
		if (err && *err)
			ret = keel_error_wrap(err, ret, "parent hook");
		else /* a hook that said only its errno */
			ret = keel_error_sys(err, -ret, "parent hook");
		goto fail;
	}
	memset(&go, 0, sizeof(go));
	go.kind = MSG_GO;
	if (send_msg(pl->sock[0], &go, -1) < 0) {
		ret = died_error(pl, &final, err);
		goto fail;
	}
	if ((ret = await_exec(pl, &final, child, err)) < 0)
		goto fail;
	child->pid = final.pid;
	child->pidfd = final.pidfd;
	return 0;
fail:
	kill_and_reap(&final);
	kill_and_reap(&first);
	close_fd(&child->seccomp_fd);
	close_fd(&child->tty_fd);
	return ret;
}

KEEL_PUBLIC int keel_spawn(const keel_process *proc, const keel_spawn_attr *attr, keel_child **out,
			   keel_error **err)
{
	keel_child *child;
	struct plan pl;
	int ret;

	if (!proc || !out)
		return keel_error_invalid(err, "spawn: process and out must not be NULL");
	if (!proc->argv)
		return keel_error_invalid(err, "spawn: no program to run (keel_process_set_args was not called)");
	child = calloc(1, sizeof(*child));
	if (!child)
		return keel_error_sys(err, ENOMEM, "spawn %s", proc->argv[0]);
	child->pidfd = child->tty_fd = child->seccomp_fd = -1;
	plan_init(&pl);
	ret = plan_prepare(&pl, proc, attr, err);
	if (ret == 0)
		ret = run(&pl, child, err);
	if (ret == 0 && pl.tty_master >= 0) { /* opened here, not by the child */
		child->tty_fd = pl.tty_master;
		pl.tty_master = -1;
	}
	plan_release(&pl);
	if (ret < 0) {
		free(child);
		return ret;
	}
	*out = child;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Attributes.                                                          */

KEEL_PUBLIC int keel_spawn_attr_new(keel_spawn_attr **out, keel_error **err)
{
	keel_spawn_attr *a;

	if (!out)
		return keel_error_invalid(err, "spawn attributes: out is NULL");
	if (!(a = calloc(1, sizeof(*a))))
		return keel_error_sys(err, ENOMEM, "spawn attributes");
	a->cgroup_fd = a->owned_cgroup_fd = -1;
	*out = a;
	return 0;
}

KEEL_PUBLIC void keel_spawn_attr_free(keel_spawn_attr *attr)
{
	if (!attr)
		return;
	close_fd(&attr->owned_cgroup_fd);
	free(attr->start_fifo);
	free(attr->label);
	free(attr);
}

KEEL_PUBLIC void keel_spawn_attr_set_ns(keel_spawn_attr *attr, const keel_ns *ns)
{
	if (attr)
		attr->ns = ns;
}

KEEL_PUBLIC void keel_spawn_attr_set_rootfs(keel_spawn_attr *attr, const keel_rootfs *rootfs)
{
	if (attr)
		attr->rootfs = rootfs;
}

KEEL_PUBLIC void keel_spawn_attr_set_cgroup_fd(keel_spawn_attr *attr, int dirfd)
{
	if (!attr)
		return;
	close_fd(&attr->owned_cgroup_fd);
	attr->cgroup_fd = dirfd < 0 ? -1 : dirfd;
}

KEEL_PUBLIC int keel_spawn_attr_join_cgroup_pid(keel_spawn_attr *attr, pid_t pid, keel_error **err)
{
	char path[64], *text = NULL, *line, *mnt = NULL, *dir = NULL;
	int ret, fd;

	if (!attr || pid <= 0)
		return keel_error_invalid(err, "spawn attributes: join cgroup of pid %d: not a process id", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if ((ret = keel_read_file_at(AT_FDCWD, path, &text, NULL, err)) < 0)
		return keel_error_wrap(err, ret == -ENOENT ? -ESRCH : ret, "join cgroup of pid %d", (int)pid);
	/* the cgroup2 line is "0::/path" */
	line = !strncmp(text, "0::", 3) ? text : strstr(text, "\n0::");
	if (line && *line == '\n')
		line++;
	if (!line) {
		free(text);
		return keel_error_sys(err, ENOENT, "join cgroup of pid %d: it is in no cgroup2 cgroup (%s)", (int)pid, path);
	}
	line += 3;
	line[strcspn(line, "\n")] = '\0';
	if ((ret = keel_find_mount("cgroup2", &mnt, err)) < 0) {
		free(text);
		return keel_error_wrap(err, ret, "join cgroup of pid %d", (int)pid);
	}
	ret = asprintf(&dir, "%s%s", mnt, strcmp(line, "/") ? line : "");
	free(mnt);
	free(text);
	if (ret < 0)
		return keel_error_sys(err, ENOMEM, "join cgroup of pid %d", (int)pid);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = keel_error_sys(err, errno, "join cgroup of pid %d: open %s", (int)pid, dir);
		free(dir);
		return ret;
	}
	free(dir);
	close_fd(&attr->owned_cgroup_fd);
	attr->owned_cgroup_fd = attr->cgroup_fd = fd;
	return 0;
}

KEEL_PUBLIC void keel_spawn_attr_set_parent_hook(keel_spawn_attr *attr, keel_spawn_hook hook, void *userdata)
{
	if (!attr)
		return;
	attr->hook = hook;
	attr->hook_data = userdata;
}

static int replace_string(char **slot, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

KEEL_PUBLIC int keel_spawn_attr_set_start_fifo(keel_spawn_attr *attr, const char *path, keel_error **err)
{
	if (!attr || (path && path[0] != '/'))
		return keel_error_invalid(err, "spawn attributes: start fifo '%s': must be an absolute path",
					  path ? path : "(null)");
	if (replace_string(&attr->start_fifo, path) < 0)
		return keel_error_sys(err, ENOMEM, "spawn attributes: start fifo");
	return 0;
}

KEEL_PUBLIC int keel_spawn_attr_set_label(keel_spawn_attr *attr, const char *label, keel_error **err)
{
	if (!attr || !label || !label[0])
		return keel_error_invalid(err, "spawn attributes: label must not be empty");
	if (replace_string(&attr->label, label) < 0)
		return keel_error_sys(err, ENOMEM, "spawn attributes: label");
	return 0;
}

void keel_spawn_attr_force_legacy_clone(keel_spawn_attr *attr, int on)
{
	if (attr)
		attr->legacy_clone = on;
}

void keel_spawn_attr_set_loopback_up(keel_spawn_attr *attr, int on)
{
	if (attr)
		attr->loopback_up = on ? 1 : 0;
}

int keel_child_shared_memory(const keel_child *child)
{
	return child ? child->shared_vm : 0;
}

/* ------------------------------------------------------------------ */
/* The child handle.                                                    */

KEEL_PUBLIC pid_t keel_child_pid(const keel_child *child)
{
	return child ? child->pid : -1;
}

KEEL_PUBLIC int keel_child_pidfd(const keel_child *child)
{
	return child ? child->pidfd : -1;
}

KEEL_PUBLIC int keel_child_tty_fd(const keel_child *child)
{
	return child ? child->tty_fd : -1;
}

KEEL_PUBLIC int keel_child_seccomp_notify_fd(const keel_child *child)
{
	return child ? child->seccomp_fd : -1;
}

static void give_status(const keel_child *c, int *exit_code, int *term_signal)
{
	if (exit_code)
		*exit_code = c->exit_code;
	if (term_signal)
		*term_signal = c->term_signal;
}

KEEL_PUBLIC int keel_child_wait(keel_child *child, int flags, int *exit_code, int *term_signal, keel_error **err)
{
	int options = WEXITED, r;
	siginfo_t info;

	if (!child || (flags & ~KEEL_WAIT_NOHANG))
		return keel_error_invalid(err, "wait: NULL child or unknown flags 0x%x", (unsigned)flags);
	if (child->reaped) {
		give_status(child, exit_code, term_signal);
		return 1;
	}
	if (flags & KEEL_WAIT_NOHANG)
		options |= WNOHANG;
	memset(&info, 0, sizeof(info));
	do {
		if (child->pidfd >= 0)
			r = waitid((idtype_t)P_PIDFD, (id_t)child->pidfd, &info, options);
		else
			r = waitid(P_PID, (id_t)child->pid, &info, options);
		if (r < 0 && errno == EINVAL && child->pidfd >= 0) /* before 5.4: no P_PIDFD */
			r = waitid(P_PID, (id_t)child->pid, &info, options);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return keel_error_sys(err, errno, "wait for process %d", (int)child->pid);
	if (info.si_pid == 0)
		return 0;
	child->reaped = 1;
	if (info.si_code == CLD_EXITED) {
		child->exit_code = info.si_status;
		child->term_signal = 0;
	} else {
		child->exit_code = -1;
		child->term_signal = info.si_status;
	}
	give_status(child, exit_code, term_signal);
	return 1;
}

KEEL_PUBLIC int keel_child_kill(keel_child *child, int sig, keel_error **err)
{
	long r;

	if (!child)
		return keel_error_invalid(err, "kill: NULL child");
	if (child->reaped)
		return keel_error_sys(err, ESRCH, "kill process %d with signal %d: it has ended and was reaped",
				      (int)child->pid, sig);
	if (child->pidfd >= 0)
		r = syscall(SYS_pidfd_send_signal, child->pidfd, sig, NULL, 0);
	else
		r = kill(child->pid, sig);
	if (r < 0)
		return keel_error_sys(err, errno, "kill process %d with signal %d", (int)child->pid, sig);
	return 0;
}

KEEL_PUBLIC void keel_child_free(keel_child *child)
{
	if (!child)
		return;
	close_fd(&child->pidfd);
	close_fd(&child->tty_fd);
	close_fd(&child->seccomp_fd);
	free(child);
}
