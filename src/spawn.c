/*
 * spawn: start a process in new or joined namespaces, and hear back from it.
 *
 * The caller may be any thread of any program (Go, Python, a server), so
 * the new process runs only system calls on memory prepared before the
 * clone: no malloc, no stdio, no locks (docs/architecture.md, "The child
 * side is its own library"). That code is src/child/spawn.c; this file is
 * the parent's side.
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

#include "child/spawn-plan.h"
#include "error.h"
#include "mount.h"
#include "ns.h"
#include "process.h"
#include "security.h"
#include "spawn-internal.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/syscall.h"
#include "util/vfork.h"


#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

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
	 * a user namespace is joined or made next to joined ones, the new
	 * namespaces must be made after the joins (to belong to the joined
	 * user namespace, or so that the joins still happen with the
	 * caller's privileges), so by unshare, not by clone; a joined pid
	 * namespace takes a second fork. Any other join (a network namespace
	 * the caller made and wired, say) is a setns() in the child after a
	 * clone that made the rest: no unshare, no second fork, and the
	 * child may still share our memory. */
	create = keel_ns_clone_flags(ns->create & ~(unsigned)KEEL_NS_TIME);
	if (joined & (KEEL_NS_USER | KEEL_NS_PID) || (joined && (ns->create & KEEL_NS_USER))) {
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
	pl->preserve_fds = p->preserve_fds;
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
	if (r->pidfd < 0 || keel_sys_pidfd_send_signal(r->pidfd, SIGKILL, NULL, 0) < 0)
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
	/* CLONE_INTO_CGROUP is a migration: cgroups(7)'s permission rule */
	if (e == EACCES && pl->cgroup_fd >= 0)
		return keel_error_sys(err, e, "spawn %s: clone into cgroup (moving a process needs write access to "
				      "cgroup.procs of the closest cgroup above both the caller's and the target)",
				      pl->argv[0]);
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
	final->pidfd = fd >= 0 ? fd : keel_sys_pidfd_open(m.pid, 0);
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
		child_main(pl, pl->cgroup_fd >= 0 && !used_clone3);
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
		r = keel_sys_pidfd_send_signal(child->pidfd, sig, NULL, 0);
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
