/*
 * The container: the lifecycle that composes every other subsystem, and
 * its persisted state (src/state.c). Its network (setters, wiring, name
 * files) is in src/container-net.c, its devices in src/container-device.c,
 * its log in src/container-log.c.
 *
 * A keel_container holds the configuration handles the caller fills (a
 * keel_rootfs, the init keel_process, a keel_security) and a few settings
 * of its own (namespaces, cgroup limits, network). keel_container_create()
 * turns them into kernel objects in this order, undoing all of it when a
 * step fails:
 *
 *   1. mkdir <root>/<id>          the arbiter: of two creates, one gets EEXIST
 *   2. lock                       other processes wait on the lock
 *   3. the cgroup, with limits    keel_cgroup_create() + setters; then
 *                                 state "creating", which records it
 *   4. keel_spawn() of the init   in new namespaces, into the cgroup; while it
 *                                 waits, our parent hook wires the network
 *                                 and runs the CREATE_* hooks; then the init
 *                                 mounts its rootfs, drops privileges and
 *                                 waits on <root>/<id>/start (a FIFO)
 *   5. state "created"            with the init's pid and start time
 *
 * keel_container_start() writes a byte to the FIFO and the init execs.
 * keel_container_run() does both in one go, without the FIFO, so that an
 * exec failure ("exec /bin/nosuch: No such file or directory") comes back
 * to the caller with its errno instead of as an exit status 127.
 *
 * Every operation, in any process, holds the flock of <root>/<id>,
 * re-reads the state file and checks it against the kernel (refresh()):
 * the init counts as alive only if /proc/PID/stat shows the recorded start
 * time (or, in the process that created it, if its pidfd says so: a pidfd
 * names one process, whatever becomes of its pid), and a running container
 * whose cgroup is frozen is paused. So the state file is a record, never
 * trusted blindly. A handle keeps <root>/<id> and its state file open
 * between operations (struct keel_state_hold), so an operation is a flock,
 * an fstat and a pread, not two opens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <keel/ns.h>
#include <keel/net.h>

#include "cgroup.h"
#include "container.h"
#include "container-log.h"
#include "container-device.h"
#include "error.h"
#include "mount.h"
#include "net.h"
#include "ns.h"
#include "process.h"
#include "resources.h"
#include "security.h"
#include "spawn-internal.h"
#include "state.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/str.h"
#include "util/syscall.h"

#define DEFAULT_NS (KEEL_NS_MOUNT | KEEL_NS_PID | KEEL_NS_UTS | KEEL_NS_IPC | KEEL_NS_NET | KEEL_NS_CGROUP)
#define FREEZE_TIMEOUT_MS 10000
/* The marker in a writable layer outside the state directory (mark_upper()) */
#define UPPER_MARK ".keel-container"

static const char *const state_names[] = {
	[KEEL_STATE_CREATING] = "creating",
	[KEEL_STATE_CREATED] = "created",
	[KEEL_STATE_RUNNING] = "running",
	[KEEL_STATE_PAUSED] = "paused",
	[KEEL_STATE_STOPPED] = "stopped",
};

KEEL_PUBLIC const char *keel_container_state_name(int state)
{
	if (state < KEEL_STATE_CREATING || state > KEEL_STATE_STOPPED)
		return "unknown";
	return state_names[state];
}

KEEL_PUBLIC void keel_container_strv_free(char **strv)
{
	char **s;

	for (s = strv; s && *s; s++)
		free(*s);
	free(strv);
}

/* "container web: start: container is running (only a created container
 * can be started)"; errnum 0 gives EINVAL without a strerror suffix. */
static int state_error(keel_container *c, keel_error **err, int errnum, const char *op, const char *why)
{
	return keel_error_set(err, KEEL_ERROR_STATE, errnum, "container %s: %s: container is %s (%s)", c->id, op,
			      keel_container_state_name(c->st.status), why);
}

int container_only_before_create(keel_container *c, const char *what, keel_error **err)
{
	if (!c)
		return keel_error_invalid(err, "%s: no container", what);
	if (c->loaded || c->created)
		return keel_error_set(err, KEEL_ERROR_STATE, 0, "container %s: %s: only possible before create", c->id,
				      what);
	return 0;
}

static int sys_pidfd_open(pid_t pid)
{
	return keel_sys_pidfd_open(pid, 0);
}

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return keel_sys_pidfd_send_signal(pidfd, sig, NULL, 0);
}

/* The time in seconds, as time() says it. Not time(): it is an IFUNC on
 * x86-64, and with libkeel bound at load (-z now) merely importing it
 * runs its resolver in every program, touching a 64 KiB window of libc
 * text and one of .rodata that nothing else needs. Nor clock_gettime():
 * its page of libc shares a window with what a start touches anyway in
 * only some ASLR placements, and the peak RSS is the worst placement's.
 * The system call costs well under a microsecond, twice per start. */
static int64_t now(void)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec;
}

static void decode_wstatus(struct keel_cstate *st, int wstatus)
{
	st->has_exit = 1;
	if (WIFEXITED(wstatus)) {
		st->exit_code = WEXITSTATUS(wstatus);
		st->term_signal = 0;
	} else {
		st->exit_code = -1;
		st->term_signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
	}
}

int container_dup_str(char **dst, const char *src, const char *what, keel_error **err)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return keel_error_sys(err, ENOMEM, "%s", what);
	free(*dst);
	*dst = copy;
	return 0;
}

/* A path that goes into the state file: absolute, one line. */
int container_check_path(const char *path, const char *what, keel_error **err)
{
	if (!path || path[0] != '/')
		return keel_error_invalid(err, "%s '%s' is not an absolute path", what, path ? path : "(null)");
	if (strchr(path, '\n'))
		return keel_error_invalid(err, "%s: a newline in a path is not supported", what);
	return 0;
}

/* ------------------------------------------------------------- handles -- */

static int load_security(keel_container *c, keel_error **err);

static int alloc_container(keel_container **out, const char *id, const char *state_root, keel_error **err)
{
	keel_container *c;
	int ret;

	if (!out)
		return keel_error_invalid(err, "container: no place for the handle (out is NULL)");
	*out = NULL;
	ret = keel_state_check_id(id, err);
	if (ret < 0)
		return ret;
	if (state_root && (ret = container_check_path(state_root, "state root", err)) < 0)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return keel_error_sys(err, ENOMEM, "container %s", id);
	c->ns_flags = DEFAULT_NS;
	c->hold = (struct keel_state_hold)KEEL_STATE_HOLD_INIT;
	c->id = strdup(id);
	if (state_root)
		c->root = strdup(state_root);
	else if ((ret = keel_state_default_root(&c->root, err)) < 0)
		goto fail;
	if (!c->id || !c->root || !(c->dir = keel_str_join(c->root, "/", id, NULL))) {
		ret = keel_error_sys(err, ENOMEM, "container %s", id);
		goto fail;
	}
	if ((ret = keel_rootfs_new(&c->rootfs, err)) < 0 || (ret = keel_process_new(&c->process, err)) < 0 ||
	    (ret = keel_ns_new(&c->ns, err)) < 0 ||
	    (ret = keel_security_new(&c->security, err)) < 0 ||
	    (ret = keel_process_set_security(c->process, c->security, err)) < 0) {
		keel_error_wrap(err, ret, "container %s", id);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	keel_container_free(c);
	return ret;
}

/* ------------------------------------------- what a state file may name -- */

/*
 * The state file is a record that another process may have rewritten (a
 * bug, a full disk, anyone who can write it), so delete, kill and exec act
 * only on what this library can re-derive or verify, never on a path, a
 * link or a pid just because the file names it:
 *  - the cgroup: only one inside the cgroup2 hierarchy whose real path is
 *    the recorded one and that carries the extended attribute its create
 *    set (mark_cgroup()); named by the id (its last component), unless the
 *    caller named it (keel_container_set_cgroup_path());
 *  - the init: only through a pidfd, with the recorded start time, and a
 *    member of that cgroup (open_init(), init_alive());
 *  - the writable layer: the default one inside <root>/<id>, or one that
 *    holds the marker that this create left in it (remove_upper());
 *  - the host veth: only a name of the form veth creation generates.
 * Numbers are range-checked when the file is read (src/state.c).
 */
static int upper_mark_text(keel_container *c, char *buf, size_t size);

/* The extended attribute a create sets on its cgroup: trusted.* as root
 * (which only CAP_SYS_ADMIN can set, so no user can forge it), user.*
 * for an unprivileged caller, whose cgroups are its own anyway. */
static const char *cgroup_mark_name(void)
{
	return geteuid() == 0 ? "trusted.keel.container" : "user.keel.container";
}

/* Mark the container's new cgroup as ours (its value: upper_mark_text()).
 * Where cgroupfs has no extended attributes (before Linux 5.7 for
 * user.*), the check of its name is all there is. */
static int mark_cgroup(keel_container *c, keel_error **err)
{
	char text[160];
	int ret;

	if (c->st.no_cgroup) /* KEEL_CONTAINER_CGROUP_NONE: nothing to mark */
		return 0;
	if ((ret = upper_mark_text(c, text, sizeof(text))) < 0)
		return keel_error_sys(err, -ret, "state directory %s", c->dir);
	if (lsetxattr(keel_cgroup_path(c->cgroup), cgroup_mark_name(), text, strlen(text), 0) == 0 ||
	    errno == ENOTSUP || errno == EOPNOTSUPP)
		return 0;
	return keel_error_sys(err, errno, "cgroup %s: set %s", keel_cgroup_path(c->cgroup), cgroup_mark_name());
}

/* Does the cgroup at path carry our mark? Where cgroupfs keeps no
 * extended attributes, only a cgroup named by the id is taken on its name
 * (named_by_id); one the caller named (keel_container_set_cgroup_path())
 * must carry the mark. */
static int cgroup_is_ours(keel_container *c, const char *path, int named_by_id)
{
	char text[160], found[160];
	ssize_t n;

	if (upper_mark_text(c, text, sizeof(text)) < 0)
		return 0;
	n = lgetxattr(path, cgroup_mark_name(), found, sizeof(found) - 1);
	if (n < 0)
		return named_by_id && (errno == ENOTSUP || errno == EOPNOTSUPP);
	found[n] = '\0';
	return strcmp(found, text) == 0;
}

/* The cgroup <parent>/<name> (parent NULL: the default one), if it is
 * there, is the path expected (no symlink, "..", "//" on the way), and
 * carries our mark. */
static keel_cgroup *open_marked_cgroup(keel_container *c, const char *name, const char *parent, const char *expect)
{
	keel_cgroup *cg = NULL;

	if (keel_cgroup_open(&cg, name, parent, NULL) < 0)
		return NULL;
	if ((expect && strcmp(keel_cgroup_path(cg), expect) != 0) ||
	    !cgroup_is_ours(c, keel_cgroup_path(cg), strcmp(name, c->id) == 0 || strncmp(name, "keel/", 5) == 0)) {
		keel_cgroup_free(cg);
		return NULL;
	}
	return cg;
}

/* The container's cgroup: the recorded one if it passes the checks above,
 * else the one the id names under the default parent (keel/<id>) if that
 * carries our mark, so that a rewritten cgroup= line cannot hide it from
 * a delete. -ENOENT when neither. */
static int open_recorded_cgroup(keel_container *c)
{
	const char *path = c->st.cgroup, *slash;
	char *parent, name[128];

	/* Named by the id, or by the caller (an OCI cgroupsPath): then only
	 * the mark vouches for it. */
	if (path && path[0] == '/' && (slash = strrchr(path, '/')) && slash[1]) {
		parent = strndup(path, slash == path ? 1 : (size_t)(slash - path));
		if (!parent)
			return -ENOMEM;
		c->cgroup = open_marked_cgroup(c, slash + 1, parent, path);
		free(parent);
	}
	if (!c->cgroup) {
		keel_str_join_buf(name, sizeof(name), "keel/", c->id, NULL);
		c->cgroup = open_marked_cgroup(c, name, NULL, NULL);
	}
	return c->cgroup ? 0 : -ENOENT;
}

/* A container made without a cgroup (KEEL_CONTAINER_CGROUP_NONE): its
 * pid and start time were checked; with its own pid namespace, the pid
 * must also be in another one than ours (not some process of the host). */
static int pid_in_own_pidns(const keel_container *c, pid_t pid)
{
	char path[64], num[KEEL_STR_DEC_SIZE];
	struct stat mine, theirs;

	if (!(c->st.ns_flags & KEEL_NS_PID))
		return 1;
	keel_str_join_buf(path, sizeof(path), "/proc/", keel_str_from_ll(pid, num), "/ns/pid", NULL);
	if (stat(path, &theirs) < 0 || stat("/proc/self/ns/pid", &mine) < 0)
		return 0;
	return theirs.st_ino != mine.st_ino || theirs.st_dev != mine.st_dev;
}

/* Is pid in the container's cgroup, or one below it (/proc/PID/cgroup's
 * cgroup2 line)? Without a cgroup we could verify, no pid is trusted,
 * unless the container was made without one. */
static int pid_in_cgroup(const keel_container *c, pid_t pid)
{
	char path[64], num[KEEL_STR_DEC_SIZE], *buf = NULL, *line, *cur;
	const char *name = keel_cgroup_name(c->cgroup);
	size_t len;
	int in = 0;

	if (c->st.no_cgroup)
		return pid_in_own_pidns(c, pid);
	if (!name)
		return 0;
	len = strlen(name);
	keel_str_join_buf(path, sizeof(path), "/proc/", keel_str_from_ll(pid, num), "/cgroup", NULL);
	if (keel_read_file_at(AT_FDCWD, path, &buf, NULL, NULL) < 0)
		return 0;
	for (cur = buf; (line = keel_str_tok(&cur, "\n"));) {
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		in = strncmp(line + 4, name, len) == 0 && (line[4 + len] == '\0' || line[4 + len] == '/');
		break;
	}
	free(buf);
	return in;
}

KEEL_PUBLIC int keel_container_new(keel_container **out, const char *id, const char *state_root, keel_error **err)
{
	return alloc_container(out, id, state_root, err);
}

KEEL_PUBLIC int keel_container_load(keel_container **out, const char *id, const char *state_root, keel_error **err)
{
	keel_container *c = NULL;
	int ret;

	if (!out)
		return keel_error_invalid(err, "container: no place for the handle (out is NULL)");
	*out = NULL;
	ret = alloc_container(&c, id, state_root, err);
	if (ret < 0)
		return ret;
	c->loaded = 1;
	if ((ret = keel_state_check_root(c->root, err)) < 0) {
		keel_error_wrap(err, ret, "container %s", id);
		keel_container_free(c);
		return ret;
	}
	/* Under the lock: the state file is rewritten in place. */
	ret = keel_state_hold_lock(&c->hold, c->dir, 0, err);
	if (ret == 0) {
		ret = keel_state_hold_read(&c->hold, c->dir, &c->st, err);
		keel_state_hold_unlock(&c->hold);
		/* Its directory is there, its state file is missing, empty
		 * or corrupt: the handle is still made, so that a force
		 * delete can remove what the id names (every other call
		 * fails as the read did). */
		if (ret == -ENOENT || ret == -EIO) {
			keel_error_free(err ? *err : NULL);
			if (err)
				*err = NULL;
			ret = 0;
		}
	}
	if (ret == -ENOENT)
		ret = keel_error_sys(err, ENOENT, "container %s not found in %s", id, c->root);
	else if (ret < 0)
		keel_error_wrap(err, ret, "container %s", id);
	if (ret < 0) {
		keel_container_free(c);
		return ret;
	}
	/* A cgroup that is gone already (a half-deleted container), or one
	 * this library would not have made for this id, is no reason to
	 * refuse the load: delete must still be possible. */
	if (!c->st.no_cgroup)
		open_recorded_cgroup(c);
	c->ns_flags = c->st.ns_flags;
	/* Nor is unreadable security: only an exec needs it (and refuses). */
	c->security_bad = load_security(c, NULL) < 0;
	*out = c;
	return 0;
}

KEEL_PUBLIC void keel_container_free(keel_container *c)
{
	if (!c)
		return;
	keel_state_hold_close(&c->hold);
	keel_child_free(c->child);
	keel_netns_free(c->ctr_net);
	keel_cgroup_free(c->cgroup);
	keel_container_devices_free(c->devices); /* issue 16 */
	keel_process_free(c->process);
	keel_security_free(c->security);
	keel_rootfs_free(c->rootfs);
	keel_cstate_clear(&c->st);
	keel_container_strv_free(c->layers);
	free(c->cgroup_parent);
	free(c->cgroup_path);
	keel_container_strv_free(c->cgroup_values);
	keel_ns_free(c->ns);
	free(c->bridge);
	free(c->addr);
	free(c->gateway);
	free(c->net_host);
	free(c->hostname);
	keel_container_strv_free(c->dns);
	keel_container_strv_free(c->dns_search);
	keel_container_strv_free(c->extra_hosts);
	keel_container_strv_free(c->ports);
	free(c->upper_dir);
	free(c->id);
	free(c->root);
	free(c->dir);
	free(c);
}

KEEL_PUBLIC const char *keel_container_id(const keel_container *c)
{
	return c ? c->id : NULL;
}

KEEL_PUBLIC const char *keel_container_state_root(const keel_container *c)
{
	return c ? c->root : NULL;
}

KEEL_PUBLIC keel_rootfs *keel_container_rootfs(keel_container *c)
{
	return c ? c->rootfs : NULL;
}

KEEL_PUBLIC keel_process *keel_container_process(keel_container *c)
{
	return c ? c->process : NULL;
}

KEEL_PUBLIC keel_security *keel_container_security(keel_container *c)
{
	return c ? c->security : NULL;
}

KEEL_PUBLIC keel_cgroup *keel_container_cgroup(keel_container *c)
{
	return c ? c->cgroup : NULL;
}

KEEL_PUBLIC keel_ns *keel_container_ns(keel_container *c)
{
	return c ? c->ns : NULL;
}

KEEL_PUBLIC pid_t keel_container_pid(const keel_container *c)
{
	return c ? c->st.pid : 0;
}

KEEL_PUBLIC int keel_container_tty_fd(const keel_container *c)
{
	return c && c->child ? keel_child_tty_fd(c->child) : -1;
}

KEEL_PUBLIC int64_t keel_container_created_at(const keel_container *c)
{
	return c ? c->st.created : 0;
}

KEEL_PUBLIC int64_t keel_container_started_at(const keel_container *c)
{
	return c ? c->st.started : 0;
}

/* -------------------------------------------------------- configuration -- */

KEEL_PUBLIC int keel_container_set_namespaces(keel_container *c, unsigned flags, keel_error **err)
{
	int ret = container_only_before_create(c, "set namespaces", err);

	if (ret < 0)
		return ret;
	if (flags & ~(unsigned)KEEL_NS_ALL)
		return keel_error_invalid(err, "container %s: set namespaces: unknown flags 0x%x", c->id,
					  flags & ~(unsigned)KEEL_NS_ALL);
	if (!(flags & KEEL_NS_MOUNT))
		return keel_error_invalid(err, "container %s: set namespaces: a container needs its own mount "
					  "namespace (KEEL_NS_MOUNT) for its rootfs", c->id);
	c->ns_flags = flags;
	return 0;
}

KEEL_PUBLIC int keel_container_set_hostname(keel_container *c, const char *name, keel_error **err)
{
	int ret = container_only_before_create(c, "set hostname", err);

	if (ret < 0)
		return ret;
	ret = keel_security_set_hostname(c->security, name, err);
	if (ret == 0)
		ret = container_dup_str(&c->hostname, name, "set hostname", err);
	return keel_error_wrap(err, ret, "container %s", c->id);
}

/* The range keel_container_kill() takes: 1 to SIGRTMAX (the kernel's _NSIG - 1). */
KEEL_PUBLIC int keel_container_set_stop_signal(keel_container *c, int sig, keel_error **err)
{
	int ret = container_only_before_create(c, "set stop signal", err);

	if (ret < 0)
		return ret;
	if (sig < 1 || sig > KEEL_SIG_MAX)
		return keel_error_invalid(err, "container %s: set stop signal: bad signal %d (a signal number from "
					  "1 to %d)", c->id, sig, KEEL_SIG_MAX);
	c->stop_signal = sig;
	return 0;
}

/* A loaded handle knows it from the state only; a new one from its
 * configuration, which create recorded and nothing changes after. */
KEEL_PUBLIC int keel_container_stop_signal(const keel_container *c)
{
	int sig;

	if (!c)
		return 0;
	sig = c->loaded ? c->st.stop_signal : c->stop_signal;
	return sig ? sig : SIGTERM;
}

int keel_container_has_stop_signal(const keel_container *c)
{
	return c && c->stop_signal != 0;
}

KEEL_PUBLIC int keel_container_set_cgroup_parent(keel_container *c, const char *path, keel_error **err)
{
	int ret = container_only_before_create(c, "set cgroup parent", err);

	if (ret < 0)
		return ret;
	if (path && (ret = container_check_path(path, "cgroup parent", err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	return container_dup_str(&c->cgroup_parent, path, "set cgroup parent", err);
}

KEEL_PUBLIC int keel_container_set_cgroup_path(keel_container *c, const char *path, keel_error **err)
{
	int ret = container_only_before_create(c, "set cgroup path", err);

	if (ret < 0)
		return ret;
	if (path && (!*path || path[0] == '/' || strstr(path, "..") || strchr(path, '\n')))
		return keel_error_invalid(err, "container %s: cgroup path '%s' is not a relative path without '..'",
					  c->id, path);
	return container_dup_str(&c->cgroup_path, path, "set cgroup path", err);
}

/* Replace the value of key in the pairs, or append the pair. */
static int set_pair(char ***pairs, const char *key, const char *value)
{
	char **p;

	for (p = *pairs; p && *p; p += 2)
		if (strcmp(p[0], key) == 0) {
			char *copy = strdup(value);

			if (!copy)
				return -ENOMEM;
			free(p[1]);
			p[1] = copy;
			return 0;
		}
	if (keel_cstrv_push(pairs, key) < 0 || keel_cstrv_push(pairs, value) < 0)
		return -ENOMEM;
	return 0;
}

KEEL_PUBLIC int keel_container_set_cgroup_mode(keel_container *c, int mode, keel_error **err)
{
	int ret = container_only_before_create(c, "set cgroup mode", err);

	if (ret < 0)
		return ret;
	if (mode != KEEL_CONTAINER_CGROUP_OWN && mode != KEEL_CONTAINER_CGROUP_NONE)
		return keel_error_invalid(err, "container %s: set cgroup mode: unknown mode %d", c->id, mode);
	c->no_cgroup = mode == KEEL_CONTAINER_CGROUP_NONE;
	return 0;
}

KEEL_PUBLIC int keel_container_set_cgroup_value(keel_container *c, const char *key, const char *value,
						keel_error **err)
{
	int ret = container_only_before_create(c, "set cgroup value", err);

	if (ret < 0)
		return ret;
	if (!key || !*key || strchr(key, '/') || !value)
		return keel_error_invalid(err, "container %s: set cgroup value: bad key '%s' (a file name, no '/')",
					  c->id, key ? key : "(null)");
	if (set_pair(&c->cgroup_values, key, value) < 0)
		return keel_error_sys(err, ENOMEM, "container %s: set cgroup value %s", c->id, key);
	return 0;
}

KEEL_PUBLIC int keel_container_set_memory_max(keel_container *c, uint64_t bytes, keel_error **err)
{
	int ret = container_only_before_create(c, "set memory.max", err);

	if (ret < 0)
		return ret;
	if (bytes < 4096)
		return keel_error_invalid(err, "container %s: memory limit of %llu bytes is too small (at least 4096)",
					  c->id, (unsigned long long)bytes);
	c->has_memory_max = 1;
	c->memory_max = bytes;
	return 0;
}

KEEL_PUBLIC int keel_container_set_pids_max(keel_container *c, uint64_t n, keel_error **err)
{
	int ret = container_only_before_create(c, "set pids.max", err);

	if (ret < 0)
		return ret;
	if (n < 1)
		return keel_error_invalid(err, "container %s: pids limit must be at least 1", c->id);
	c->has_pids_max = 1;
	c->pids_max = n;
	return 0;
}

KEEL_PUBLIC int keel_container_set_cpu_max(keel_container *c, uint64_t quota_us, uint64_t period_us,
					   keel_error **err)
{
	int ret = container_only_before_create(c, "set cpu.max", err);

	if (ret < 0)
		return ret;
	if (quota_us < 1000 || period_us < 1000 || period_us > 1000000)
		return keel_error_invalid(err, "container %s: cpu limit %llu/%llu us is out of range (quota >= 1000, "
					  "period 1000 to 1000000)", c->id, (unsigned long long)quota_us,
					  (unsigned long long)period_us);
	c->has_cpu_max = 1;
	c->cpu_quota = quota_us;
	c->cpu_period = period_us;
	return 0;
}

KEEL_PUBLIC int keel_container_set_upper_dir(keel_container *c, const char *dir, keel_error **err)
{
	int ret = container_only_before_create(c, "set upper dir", err);
	struct stat sb;

	if (ret < 0)
		return ret;
	if ((ret = container_check_path(dir, "writable layer directory", err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
		return keel_error_invalid(err, "container %s: writable layer directory %s is not a directory", c->id,
					  dir);
	return container_dup_str(&c->upper_dir, dir, "set upper dir", err);
}

KEEL_PUBLIC int keel_container_set_log(keel_container *c, uint64_t max_bytes, keel_error **err)
{
	int ret = container_only_before_create(c, "set log", err);

	if (ret < 0)
		return ret;
	if (max_bytes && max_bytes < 4096)
		return keel_error_invalid(err, "container %s: set log: a cap of %llu bytes is below 4096", c->id,
					  (unsigned long long)max_bytes);
	c->has_log = 1;
	c->log_max = max_bytes ? max_bytes : KEEL_CONTAINER_LOG_DEFAULT_MAX;
	return 0;
}

KEEL_PUBLIC int keel_container_log_path(const keel_container *c, int rotated, char **path, keel_error **err)
{
	if (!c || !path)
		return keel_error_invalid(err, "log path: %s is NULL", c ? "path" : "container");
	*path = keel_str_join(c->dir, "/" KEEL_CONTAINER_LOG_NAME, rotated ? ".1" : "", NULL);
	return *path ? 0 : keel_error_sys(err, ENOMEM, "container %s: log path", c->id);
}

KEEL_PUBLIC void keel_container_set_keep_upper(keel_container *c, int on)
{
	if (c)
		c->keep_upper = on ? 1 : 0;
}

KEEL_PUBLIC int keel_container_add_layer(keel_container *c, const char *dir, keel_error **err)
{
	int ret = container_only_before_create(c, "add layer", err);

	if (ret < 0)
		return ret;
	if ((ret = container_check_path(dir, "layer", err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	ret = keel_rootfs_add_layer(c->rootfs, dir, err);
	if (ret < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	if (keel_cstrv_push(&c->layers, dir) < 0)
		return keel_error_sys(err, ENOMEM, "container %s: add layer", c->id);
	return 0;
}

KEEL_PUBLIC int keel_container_set_hook(keel_container *c, enum keel_hook point, keel_container_hook_fn fn,
					void *userdata, keel_error **err)
{
	if (!c)
		return keel_error_invalid(err, "set hook: no container");
	if ((int)point < KEEL_HOOK_CREATE_RUNTIME || (int)point > KEEL_HOOK_MAX)
		return keel_error_invalid(err, "container %s: set hook: unknown hook point %d", c->id, (int)point);
	c->hooks[point].fn = fn;
	c->hooks[point].userdata = userdata;
	return 0;
}

static const char *hook_name(int point)
{
	static const char *const names[] = { "?", "createRuntime", "createContainer", "startContainer",
					     "poststart", "poststop" };

	return point >= 1 && point <= KEEL_HOOK_MAX ? names[point] : "?";
}

static int run_hook(keel_container *c, int point, keel_error **err)
{
	int ret;

	/* issue 16: the program hooks of CDI devices, then the caller's */
	if ((ret = keel_container_devices_run_hooks(c, point, err)) < 0)
		return keel_error_wrap(err, ret, "%s hook", hook_name(point));
	if (!c->hooks[point].fn)
		return 0;
	ret = c->hooks[point].fn(c, c->hooks[point].userdata, err);
	if (ret >= 0)
		return 0;
	if (err && !*err)
		keel_error_sys(err, -ret, "failed");
	return keel_error_wrap(err, ret, "%s hook", hook_name(point));
}

/* --------------------------------------------------------------- create -- */

/* Runs in the caller while the init waits in its namespaces and cgroup,
 * before it mounts anything (keel_spawn_hook). */
static int create_parent_hook(pid_t pid, int pidfd, void *userdata, keel_error **err)
{
	keel_container *c = userdata;
	int ret;

	c->st.pid = pid;
	if (c->bridge && !c->ctr_net && (ret = container_wire_network(c, pid, pidfd, err)) < 0)
		return ret;
	if ((ret = run_hook(c, KEEL_HOOK_CREATE_RUNTIME, err)) < 0 ||
	    (ret = run_hook(c, KEEL_HOOK_CREATE_CONTAINER, err)) < 0)
		return ret;
	/* keel_container_run(): no FIFO, the init execs as soon as we return,
	 * so startContainer runs here, last thing before the exec. */
	if (c->st.status == KEEL_STATE_RUNNING)
		return run_hook(c, KEEL_HOOK_START_CONTAINER, err);
	return 0;
}

static int needs_parent_hook(const keel_container *c)
{
	return (c->bridge && !c->ctr_net) || c->hooks[KEEL_HOOK_CREATE_RUNTIME].fn || c->hooks[KEEL_HOOK_CREATE_CONTAINER].fn ||
	       c->hooks[KEEL_HOOK_START_CONTAINER].fn || keel_container_devices_has_hooks(c) /* issue 16 */;
}

/* KEEL_CONTAINER_CGROUP_NONE: nothing to make, so nothing may need it;
 * the device nodes are still added (the filter part refuses by itself
 * unless the container is unfiltered). */
static int no_cgroup_setup(keel_container *c, keel_error **err)
{
	const char *what = c->has_memory_max ? "a memory limit" : c->has_pids_max ? "a pids limit"
			 : c->has_cpu_max ? "a cpu limit" : c->cgroup_values ? "a cgroup value"
			 : c->cgroup_parent ? "a cgroup parent" : c->cgroup_path ? "a cgroup path" : NULL;

	if (what)
		return keel_error_invalid(err, "container %s: create: %s needs a cgroup, and the cgroup mode "
					  "is KEEL_CONTAINER_CGROUP_NONE", c->id, what);
	c->st.no_cgroup = 1;
	return keel_container_devices_setup(c, err);
}

static int make_cgroup(keel_container *c, keel_error **err)
{
	char path[128], **v;
	int ret;

	if (c->no_cgroup)
		return no_cgroup_setup(c, err);

	/* Under the default parent: keel/<id>, as docker/<id>. Under one the
	 * caller chose: <id> directly. */
	keel_str_join_buf(path, sizeof(path), c->cgroup_parent ? "" : "keel/", c->id, NULL);
	ret = keel_cgroup_create(&c->cgroup, c->cgroup_path ? c->cgroup_path : path, c->cgroup_parent, err);
	if (ret < 0)
		return ret;
	if (c->has_memory_max && (ret = keel_cgroup_set_memory_max(c->cgroup, c->memory_max, err)) < 0)
		return ret;
	if (c->has_pids_max && (ret = keel_cgroup_set_pids_max(c->cgroup, c->pids_max, err)) < 0)
		return ret;
	if (c->has_cpu_max && (ret = keel_cgroup_set_cpu_max(c->cgroup, c->cpu_quota, c->cpu_period, err)) < 0)
		return ret;
	for (v = c->cgroup_values; v && *v; v += 2)
		if ((ret = keel_cgroup_set_raw(c->cgroup, v[0], v[1], err)) < 0)
			return ret;
	/* issue 16: the device filter, before the init is cloned into the cgroup */
	if ((ret = keel_container_devices_setup(c, err)) < 0)
		return ret;
	return container_dup_str(&c->st.cgroup, keel_cgroup_path(c->cgroup), "cgroup", err);
}

/* The keel_ns_type bits of the namespaces the init joins. */
static unsigned joined_types(const keel_ns *ns)
{
	unsigned t = 0;
	int i;

	for (i = 0; i < KEEL_NS_NTYPES; i++)
		if (ns->join_fd[i] >= 0)
			t |= 1u << i;
	return t;
}

/* The init holds the container's own network namespace once it is
 * spawned: c->ns must not keep a copy of it, which would keep the
 * namespace (and its veth pair) alive past delete, until the handle is
 * freed. */
static void drop_own_net_join(keel_container *c)
{
	int i = keel_ns_index(KEEL_NS_NET);

	if (c->ctr_net && c->ns->join_fd[i] >= 0) {
		close(c->ns->join_fd[i]);
		c->ns->join_fd[i] = -1;
	}
}

/* The namespaces the init makes: not the network one when it gets the
 * container's own (c->ctr_net), which it joins. */
static unsigned own_ns_flags(const keel_container *c)
{
	return c->ctr_net ? c->ns_flags & ~(unsigned)KEEL_NS_NET : c->ns_flags;
}

/* keel_spawn() of the init; with a log, its stdout and stderr are the
 * pipe of a logger started here (src/container-log.c), stdin /dev/null. */
static int spawn_with_log(keel_container *c, keel_spawn_attr *attr, keel_error **err)
{
	int wfd = -1, ret;

	if (!c->has_log)
		return keel_spawn(c->process, attr, &c->child, err);
	if ((ret = keel_container_log_start(c->dir, c->log_max, &wfd, err)) < 0)
		return ret;
	ret = keel_process_set_stdio(c->process, -1, wfd, wfd, err);
	if (ret == 0)
		ret = keel_spawn(c->process, attr, &c->child, err);
	close(wfd); /* the logger ends when the container's last holder does */
	return ret;
}

static int spawn_init(keel_container *c, int with_fifo, keel_error **err)
{
	keel_spawn_attr *attr = NULL;
	char fifo[4096];
	int ret;

	keel_str_join_buf(fifo, sizeof(fifo), c->dir, "/start", NULL);
	if (with_fifo && mkfifo(fifo, 0600) < 0)
		return keel_error_sys(err, errno, "make start fifo %s", fifo);
	/* A namespace joined through keel_container_ns() is not also made. */
	if ((ret = keel_ns_create(c->ns, own_ns_flags(c) & ~joined_types(c->ns), err)) < 0 ||
	    (c->ctr_net && (ret = keel_ns_join_fd(c->ns, KEEL_NS_NET, keel_netns_fd(c->ctr_net), err)) < 0) ||
	    (ret = keel_spawn_attr_new(&attr, err)) < 0)
		goto out;
	keel_spawn_attr_set_ns(attr, c->ns);
	keel_spawn_attr_set_rootfs(attr, c->rootfs);
	if (c->cgroup)
		keel_spawn_attr_set_cgroup_fd(attr, keel_cgroup_fd(c->cgroup));
	/* Only when there is parent work between the clone and the exec:
	 * without a hook, spawn may clone a child that shares our memory,
	 * which costs no page-table copy (src/util/vfork.h). */
	if (needs_parent_hook(c))
		keel_spawn_attr_set_parent_hook(attr, create_parent_hook, c);
	/* A container without --net still has a working lo, as Docker's
	 * does. The init brings it up itself: the caller could not setns()
	 * into a network namespace of the container's user namespace
	 * unless it is root. */
	keel_spawn_attr_set_loopback_up(attr, (c->ns_flags & KEEL_NS_NET) && !c->ctr_net);
	if ((ret = keel_spawn_attr_set_label(attr, "container init", err)) < 0)
		goto out;
	if (with_fifo && (ret = keel_spawn_attr_set_start_fifo(attr, fifo, err)) < 0)
		goto out;
	ret = spawn_with_log(c, attr, err);
out:
	keel_spawn_attr_free(attr);
	drop_own_net_join(c);
	return ret;
}

/* A throwaway keel_rootfs that knows only the writable layer at
 * upper_dir: all that removing or measuring the layer needs, in a process
 * that may not be the one that described the rootfs. */
static int upper_only_rootfs(const char *upper_dir, keel_rootfs **out, keel_error **err)
{
	int ret = keel_rootfs_new(out, err);

	if (ret == 0 && (ret = keel_rootfs_set_upper_base(*out, upper_dir, err)) < 0) {
		keel_rootfs_free(*out);
		*out = NULL;
	}
	return ret;
}

static int remove_upper_dir(const char *upper_dir, keel_error **err)
{
	keel_rootfs *r = NULL;
	int ret = upper_only_rootfs(upper_dir, &r, err);

	if (ret == 0)
		ret = keel_rootfs_remove_upper(r, err);
	keel_rootfs_free(r);
	return ret;
}

/* Undo a failed create: nothing may be left. The init was already killed
 * and reaped by keel_spawn(); its mounts went with its mount namespace. */
static void undo_create(keel_container *c)
{
	char *mark = NULL;

	container_unwire_network(c, c->made_bridge, 1, NULL);
	if (c->cgroup) {
		keel_cgroup_remove(c->cgroup, KEEL_CGROUP_REMOVE_KILL, NULL);
		keel_cgroup_free(c->cgroup);
		c->cgroup = NULL;
	}
	if (c->st.upper_dir) {
		remove_upper_dir(c->st.upper_dir, NULL);
		if (c->upper_dir && c->layers && (mark = keel_str_join(c->upper_dir, "/" UPPER_MARK, NULL)))
			unlink(mark);
		free(mark);
	}
	keel_rm_rf(c->dir, NULL);
	keel_cstate_clear(&c->st);
}

static int fill_initial_state(keel_container *c, keel_error **err)
{
	char **l;
	int ret = 0;

	c->st.status = KEEL_STATE_CREATING;
	c->st.created = now();
	/* exec joins these: the joined ones too (a shared network namespace) */
	c->st.ns_flags = c->ns_flags | joined_types(c->ns);
	c->st.keep_upper = c->keep_upper;
	c->st.stop_signal = keel_container_stop_signal(c);
	if (c->upper_dir)
		ret = container_dup_str(&c->st.upper_dir, c->upper_dir, "upper dir", err);
	else if (!(c->st.upper_dir = keel_str_join(c->dir, "/layer", NULL)))
		ret = keel_error_sys(err, ENOMEM, "upper dir");
	for (l = c->layers; ret == 0 && l && *l; l++)
		if (keel_cstrv_push(&c->st.layers, *l) < 0)
			ret = keel_error_sys(err, ENOMEM, "layers");
	if (ret == 0 && c->bridge)
		ret = container_dup_str(&c->st.bridge, c->bridge, "bridge", err);
	if (ret == 0 && c->net_host)
		ret = container_dup_str(&c->st.net_host, c->net_host, "network host", err);
	return ret;
}

/*
 * The init's security settings, kept next to its state: <id>/seccomp (the
 * seccomp program, the raw struct sock_filter array) and <id>/security
 * (capabilities, no_new_privs, rlimits, LSM labels: see
 * keel_security_profile_format()). A process that loads the container has
 * none of the creator's keel_security, and what it execs must run with the
 * init's, as `docker exec` does: not regain the capabilities dropped from
 * the container, not escape its seccomp filter. Written before the init
 * exists, so no exec can come before them.
 */
#define SECCOMP_FILE "seccomp"
#define SECURITY_FILE "security"

static int write_kept(keel_container *c, const char *name, const void *data, size_t len, keel_error **err)
{
	size_t done = 0;
	ssize_t n = 0;
	int fd, e = 0;

	fd = openat(c->hold.dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return keel_error_sys(err, errno, "keep the init's security settings in %s/%s", c->dir, name);
	while (done < len && ((n = write(fd, (const char *)data + done, len - done)) > 0 || errno == EINTR))
		done += n > 0 ? (size_t)n : 0;
	if (done < len)
		e = n < 0 ? errno : EIO;
	if (close(fd) < 0 && !e)
		e = errno;
	if (e)
		return keel_error_sys(err, e, "keep the init's security settings in %s/%s", c->dir, name);
	return 0;
}

static int save_security(keel_container *c, keel_error **err)
{
	const struct sock_filter *prog;
	char *profile;
	size_t len;
	int ret;

	keel_security_get_bpf(c->security, &prog, &len);
	if (prog && (ret = write_kept(c, SECCOMP_FILE, prog, len * sizeof(*prog), err)) < 0)
		return ret;
	if (!(profile = keel_security_profile_format(c->security)))
		return keel_error_sys(err, ENOMEM, "keep the init's security settings");
	ret = write_kept(c, SECURITY_FILE, profile, strlen(profile), err);
	free(profile);
	return ret;
}

/* Into a loaded handle's keel_security: what save_security() kept (a
 * container made by an older libkeel has neither file: the defaults). */
static int load_security(keel_container *c, keel_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = keel_read_file_at(c->hold.dirfd, SECCOMP_FILE, &buf, &len, NULL);
	if (ret == 0 && (len % sizeof(struct sock_filter) || !len))
		ret = keel_error_sys(err, EIO, "%s/" SECCOMP_FILE ": %zu bytes is not a seccomp program", c->dir, len);
	else if (ret == 0)
		ret = keel_security_set_bpf(c->security, (const struct sock_filter *)buf,
					    len / sizeof(struct sock_filter), err);
	else if (ret != -ENOENT)
		ret = keel_error_sys(err, -ret, "read %s/" SECCOMP_FILE, c->dir);
	else
		ret = 0;
	free(buf);
	buf = NULL;
	if (ret == 0) {
		ret = keel_read_file_at(c->hold.dirfd, SECURITY_FILE, &buf, NULL, NULL);
		if (ret == 0)
			ret = keel_error_wrap(err, keel_security_profile_parse(c->security, buf, err), "%s/" SECURITY_FILE,
					      c->dir);
		else if (ret != -ENOENT)
			ret = keel_error_sys(err, -ret, "read %s/" SECURITY_FILE, c->dir);
		else
			ret = 0;
		free(buf);
	}
	return keel_error_wrap(err, ret, "the init's security settings");
}

/* What the marker in a writable layer of the caller's choosing says: this
 * container's id and the identity of its state directory, which a later
 * create under the same id does not share. */
static int upper_mark_text(keel_container *c, char *buf, size_t size)
{
	char dev[KEEL_STR_DEC_SIZE], ino[KEEL_STR_DEC_SIZE];
	struct stat sb;

	if (fstat(c->hold.dirfd, &sb) < 0)
		return -errno;
	keel_str_join_buf(buf, size, "id=", c->id, "\nstate=", keel_utoa((unsigned long long)sb.st_dev, dev), ":",
			  keel_utoa((unsigned long long)sb.st_ino, ino), "\n", NULL);
	return 0;
}

/* A writable layer outside <root>/<id> (keel_container_set_upper_dir())
 * gets a marker, so that a delete in any process can tell it is this
 * container's before removing anything in it (remove_upper()). Only
 * when layers make an overlay: a directory rootfs has no writable layer. */
/* Create (or replace) the marker file, never following a symlink there. */
static int write_mark(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, e = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		e = errno;
	else if ((size_t)n != len)
		e = EIO;
	if (close(fd) < 0 && !e)
		e = errno;
	return -e;
}

static int mark_upper(keel_container *c, keel_error **err)
{
	char text[160], *path;
	int ret;

	if (!c->upper_dir || !c->layers)
		return 0;
	if ((ret = upper_mark_text(c, text, sizeof(text))) < 0)
		return keel_error_sys(err, -ret, "state directory %s", c->dir);
	if ((ret = keel_mkdir_p(c->upper_dir, 0700, err)) < 0)
		return keel_error_wrap(err, ret, "writable layer %s", c->upper_dir);
	if (!(path = keel_str_join(c->upper_dir, "/" UPPER_MARK, NULL)))
		return keel_error_sys(err, ENOMEM, "writable layer");
	ret = write_mark(path, text);
	free(path);
	return ret < 0 ? keel_error_sys(err, -ret, "writable layer %s: mark it", c->upper_dir) : 0;
}

/* Does the recorded writable layer belong to this container? The default
 * one is inside its state directory; any other must hold our marker. */
static int upper_is_ours(keel_container *c, char **mark_path)
{
	char text[160], *path, *found = NULL;
	int ours;

	*mark_path = NULL;
	if (!(path = keel_str_join(c->dir, "/layer", NULL)))
		return 0;
	ours = strcmp(c->st.upper_dir, path) == 0;
	free(path);
	if (ours)
		return 1;
	if (upper_mark_text(c, text, sizeof(text)) < 0 ||
	    !(path = keel_str_join(c->st.upper_dir, "/" UPPER_MARK, NULL)))
		return 0;
	ours = keel_read_file_at(AT_FDCWD, path, &found, NULL, NULL) == 0 && strcmp(found, text) == 0;
	free(found);
	if (ours)
		*mark_path = path;
	else
		free(path);
	return ours;
}

/* mkdir <root>/<id>, the arbiter between two creates. The state root
 * exists but for the first container: it is made only when missing. */
static int make_state_dir(keel_container *c, keel_error **err)
{
	int ret;

	if ((ret = keel_state_check_root(c->root, err)) < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	if (mkdir(c->dir, 0700) == 0)
		return 0;
	if (errno == ENOENT) {
		ret = keel_mkdir_p(c->root, 0711, err);
		if (ret == 0 && (ret = keel_state_check_root(c->root, err)) < 0)
			return keel_error_wrap(err, ret, "container %s", c->id);
		if (ret < 0)
			return keel_error_wrap(err, ret, "container %s: state root", c->id);
		if (mkdir(c->dir, 0700) == 0)
			return 0;
	}
	if (errno == EEXIST)
		return keel_error_set(err, KEEL_ERROR_EXISTS, EEXIST, "container %s exists in %s", c->id, c->root);
	return keel_error_sys(err, errno, "container %s: mkdir %s", c->id, c->dir);
}

static int do_create(keel_container *c, int with_fifo, keel_error **err)
{
	int ret;

	if (!c)
		return keel_error_invalid(err, "create: no container");
	if (c->loaded || c->created)
		return keel_error_set(err, KEEL_ERROR_STATE, 0, "container %s: create: this handle was %s already "
				      "(make a new one with keel_container_new())", c->id,
				      c->loaded ? "loaded" : "created");
	if ((c->ports || c->masquerade) && !c->bridge)
		return keel_error_invalid(err, "container %s: create: published ports and masquerade need a network "
					  "(keel_container_set_network())", c->id);
	c->rootfs_mark = keel_rootfs_entry_count(c->rootfs);
	if ((ret = make_state_dir(c, err)) < 0)
		return ret;
	/* From here on the directory is ours: undo_create() removes it.
	 * The state file is written twice per create: here, "creating" with
	 * the cgroup (what a delete needs after we die mid-create), and once
	 * the init waits (or runs). Each write rewrites the held state file
	 * in place, in one pwrite() (state.c). */
	if ((ret = keel_state_hold_lock(&c->hold, c->dir, 1, err)) < 0 || (ret = fill_initial_state(c, err)) < 0 ||
	    (ret = make_cgroup(c, err)) < 0 || (ret = mark_cgroup(c, err)) < 0 ||
	    (ret = keel_state_hold_write(&c->hold, c->dir, &c->st, err)) < 0 || (ret = save_security(c, err)) < 0)
		goto fail;
	if ((ret = keel_rootfs_set_upper_base(c->rootfs, c->st.upper_dir, err)) < 0 ||
	    (ret = mark_upper(c, err)) < 0 || (ret = container_add_names(c, err)) < 0 || (ret = container_prewire_network(c, err)) < 0)
		goto fail;
	if (!with_fifo)
		c->st.status = KEEL_STATE_RUNNING; /* tells the parent hook to run startContainer */
	ret = spawn_init(c, with_fifo, err);
	/* The init holds its network namespace now (or never will). */
	keel_netns_free(c->ctr_net);
	c->ctr_net = NULL;
	if (ret < 0)
		goto fail;
	c->st.pid = keel_child_pid(c->child);
	/* The start time is for other processes (against pid reuse); this
	 * handle knows its init by the pidfd. A zombie still shows it. */
	if (keel_proc_stat(c->st.pid, &c->st.start_time, NULL, NULL) < 0) {
		ret = keel_error_sys(err, ESRCH, "init %d ended during create", (int)c->st.pid);
		goto fail;
	}
	c->child_start = c->st.start_time;
	if (with_fifo) {
		c->st.status = KEEL_STATE_CREATED;
	} else {
		c->st.started = now();
	}
	ret = keel_state_hold_write(&c->hold, c->dir, &c->st, err);
	if (ret < 0)
		goto fail;
	c->created = 1;
	keel_state_hold_unlock(&c->hold);
	return 0;
fail:
	keel_netns_free(c->ctr_net);
	c->ctr_net = NULL;
	if (c->child) {
		keel_child_kill(c->child, SIGKILL, NULL);
		keel_child_wait(c->child, 0, NULL, NULL, NULL);
		keel_child_free(c->child);
		c->child = NULL;
	}
	undo_create(c);
	keel_state_hold_close(&c->hold);
	/* The handle may be created again: without our mounts of this try. */
	keel_rootfs_entries_truncate(c->rootfs, c->rootfs_mark);
	return keel_error_wrap(err, ret, "container %s", c->id);
}

KEEL_PUBLIC int keel_container_create(keel_container *c, keel_error **err)
{
	return do_create(c, 1, err);
}

/* ------------------------------------------------- state against kernel -- */

/* keel_child_wait() of our init, remembering a reap: after it, the
 * child's pidfd names a process that is gone. */
static int child_wait(keel_container *c, int flags, int *code, int *sig, keel_error **err)
{
	int ret = keel_child_wait(c->child, flags, code, sig, err);

	if (ret == 1)
		c->child_reaped = 1;
	return ret;
}

/* Is the recorded init the child this handle spawned? Then its pidfd
 * (from clone3) names it, whatever becomes of its pid: no /proc/PID/stat
 * read is needed to tell it from a process that reused the pid. The
 * start time must match too: a state rewritten by another create under
 * the same id (after a delete) names another init. */
static int own_init(const keel_container *c)
{
	return c->child && c->st.pid > 0 && keel_child_pid(c->child) == c->st.pid &&
	       c->st.start_time == c->child_start && keel_child_pidfd(c->child) >= 0;
}

/* Is our recorded init still that process, and alive? Records how it
 * ended when that can be learnt (we are its parent, or it is a zombie). */
static int init_alive(keel_container *c)
{
	unsigned long long start = 0;
	int zombie = 0, wstatus = -1, code, sig, ret;

	if (c->st.pid <= 0)
		return 0;
	if (own_init(c)) {
		/* One waitid(WNOHANG) on the pidfd: 0 while it runs; 1 once it
		 * ended (reaped now, or before by us); ECHILD when someone
		 * else reaped it. */
		ret = child_wait(c, KEEL_WAIT_NOHANG, &code, &sig, NULL);
		if (ret == 0)
			return 1;
		if (ret == 1) {
			c->st.has_exit = 1;
			c->st.exit_code = code;
			c->st.term_signal = sig;
			return 0;
		}
		if (ret == -ECHILD)
			return 0;
		/* anything else: ask /proc as for any other process */
	}
	if (keel_proc_stat(c->st.pid, &start, &zombie, &wstatus) < 0 || start != c->st.start_time)
		return 0;
	if (!zombie)
		return pid_in_cgroup(c, c->st.pid); /* else a process the state names, not ours */
	if (c->child && child_wait(c, KEEL_WAIT_NOHANG, &code, &sig, NULL) == 1) {
		c->st.has_exit = 1;
		c->st.exit_code = code;
		c->st.term_signal = sig;
	} else if (wstatus >= 0 && !c->st.has_exit) {
		decode_wstatus(&c->st, wstatus);
	}
	return 0;
}

/*
 * Under the lock: re-read the state file and check it against the kernel,
 * writing back what changed (unless !record: a delete, which removes the
 * file anyway). -ENOENT when the container was deleted.
 */
static int refresh(keel_container *c, int record, keel_error **err)
{
	int old, frozen = 0, had_exit, ret;
	struct keel_cstate fresh = { 0 };

	ret = keel_state_hold_read(&c->hold, c->dir, &fresh, err);
	if (ret == -ENOENT || ret == -EIO)
		return keel_error_wrap(err, ret, "container %s (its state is %s: a force delete removes it)", c->id,
				       ret == -ENOENT ? "missing" : "corrupt");
	if (ret < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	had_exit = fresh.has_exit;
	/* Keep an exit status we learnt in this process and not yet recorded. */
	if (c->st.has_exit && !fresh.has_exit && c->st.pid == fresh.pid) {
		fresh.has_exit = 1;
		fresh.exit_code = c->st.exit_code;
		fresh.term_signal = c->st.term_signal;
	}
	keel_cstate_clear(&c->st);
	c->st = fresh;
	old = c->st.status;
	switch (old) {
	case KEEL_STATE_CREATING:
		/* We hold the lock, so the create that wrote this has died. */
		c->st.status = KEEL_STATE_STOPPED;
		break;
	case KEEL_STATE_CREATED:
	case KEEL_STATE_RUNNING:
	case KEEL_STATE_PAUSED:
		if (!init_alive(c)) {
			c->st.status = KEEL_STATE_STOPPED;
		} else if (old != KEEL_STATE_CREATED && c->cgroup &&
			   keel_cgroup_is_frozen(c->cgroup, &frozen, NULL) == 0) {
			c->st.status = frozen ? KEEL_STATE_PAUSED : KEEL_STATE_RUNNING;
		}
		break;
	case KEEL_STATE_STOPPED:
		if (c->child && !c->st.has_exit)
			init_alive(c);
		break;
	}
	if (record && (c->st.status != old || (c->st.has_exit && !had_exit)))
		return keel_error_wrap(err, keel_state_hold_write(&c->hold, c->dir, &c->st, err), "container %s",
				       c->id);
	return 0;
}

/* Take the lock and refresh; on failure the lock is not held. */
static int begin_record(keel_container *c, int record, keel_error **err)
{
	int ret;

	if (!c)
		return keel_error_invalid(err, "container: NULL handle");
	if (!c->loaded && !c->created)
		return keel_error_set(err, KEEL_ERROR_STATE, 0, "container %s: not created yet", c->id);
	ret = keel_state_hold_lock(&c->hold, c->dir, 0, err);
	if (ret == -ENOENT)
		return keel_error_sys(err, ENOENT, "container %s not found in %s", c->id, c->root);
	if (ret < 0)
		return keel_error_wrap(err, ret, "container %s", c->id);
	ret = refresh(c, record, err);
	if (ret < 0)
		keel_state_hold_unlock(&c->hold);
	return ret;
}

static int begin(keel_container *c, keel_error **err)
{
	return begin_record(c, 1, err);
}

/* The end of an operation that began: the lock goes, the fds stay. */
static void end(keel_container *c)
{
	keel_state_hold_unlock(&c->hold);
}

static int save(keel_container *c, keel_error **err)
{
	return keel_error_wrap(err, keel_state_hold_write(&c->hold, c->dir, &c->st, err), "container %s", c->id);
}

/* A pidfd on the init, opened race-free: the start time is checked after
 * the pidfd exists, so it is for the process we recorded. Our own child's
 * is its spawn's pidfd, lent (close it with close_init()). */
static int open_init(keel_container *c, int *pidfd, keel_error **err)
{
	unsigned long long start = 0;
	int fd;

	if (own_init(c)) {
		if (c->child_reaped)
			return keel_error_sys(err, ESRCH, "container %s: init %d has ended (the pid is another "
					      "process now)", c->id, (int)c->st.pid);
		*pidfd = keel_child_pidfd(c->child);
		return 0;
	}
	fd = sys_pidfd_open(c->st.pid);
	if (fd < 0)
		return keel_error_sys(err, errno, "container %s: init %d", c->id, (int)c->st.pid);
	if (keel_proc_stat(c->st.pid, &start, NULL, NULL) < 0 || start != c->st.start_time) {
		close(fd);
		return keel_error_sys(err, ESRCH, "container %s: init %d has ended (the pid is another process now)",
				      c->id, (int)c->st.pid);
	}
	if (!pid_in_cgroup(c, c->st.pid)) {
		close(fd);
		return keel_error_sys(err, ESRCH, "container %s: pid %d is not in the container's cgroup (%s): not "
				      "its init", c->id, (int)c->st.pid, c->cgroup ? keel_cgroup_path(c->cgroup) : "none");
	}
	*pidfd = fd;
	return 0;
}

static void close_init(keel_container *c, int pidfd)
{
	if (pidfd >= 0 && pidfd != keel_child_pidfd(c->child))
		close(pidfd);
}

KEEL_PUBLIC int keel_container_state(keel_container *c, int *state, keel_error **err)
{
	int ret;

	if (!state)
		return keel_error_invalid(err, "container state: no place for the result");
	ret = begin(c, err);
	if (ret < 0)
		return ret;
	*state = c->st.status;
	end(c);
	return 0;
}

KEEL_PUBLIC int keel_container_exit_code(keel_container *c, int *exit_code, int *term_signal, keel_error **err)
{
	int ret;

	ret = begin(c, err);
	if (ret < 0)
		return ret;
	end(c);
	if (c->st.status != KEEL_STATE_STOPPED || !c->st.has_exit)
		return keel_error_set(err, KEEL_ERROR_STATE, ENODATA, "container %s: exit code: %s", c->id,
				      c->st.status != KEEL_STATE_STOPPED ? "it has not ended"
									 : "not known in this process");
	if (exit_code)
		*exit_code = c->st.exit_code;
	if (term_signal)
		*term_signal = c->st.term_signal;
	return 0;
}

/* ------------------------------------------------------------ lifecycle -- */

KEEL_PUBLIC int keel_container_start(keel_container *c, keel_error **err)
{
	char fifo[4096];
	int fd, ret;

	ret = begin(c, err);
	if (ret < 0)
		return ret;
	if (c->st.status != KEEL_STATE_CREATED) {
		ret = state_error(c, err, 0, "start", "only a created container can be started");
		goto out;
	}
	ret = run_hook(c, KEEL_HOOK_START_CONTAINER, err);
	if (ret < 0)
		goto wrap;
	keel_str_join_buf(fifo, sizeof(fifo), c->dir, "/start", NULL);
	/* O_NONBLOCK: fails with ENXIO at once if the init is not waiting. */
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		ret = keel_error_sys(err, errno == ENXIO ? ESRCH : errno, "start: tell the init to exec (%s)", fifo);
		if (fd >= 0)
			close(fd);
		goto wrap;
	}
	close(fd);
	unlink(fifo);
	c->st.status = KEEL_STATE_RUNNING;
	c->st.started = now();
	ret = save(c, err);
	if (ret == 0)
		ret = run_hook(c, KEEL_HOOK_POSTSTART, err);
wrap:
	keel_error_wrap(err, ret, "container %s", c->id);
out:
	end(c);
	return ret;
}

KEEL_PUBLIC int keel_container_run(keel_container *c, keel_error **err)
{
	int ret = do_create(c, 0, err);

	if (ret < 0)
		return ret;
	ret = run_hook(c, KEEL_HOOK_POSTSTART, err);
	return keel_error_wrap(err, ret, "container %s", c->id);
}

/* Block until the init (not our child) ends: its pidfd becomes readable. */
static int watch_init(keel_container *c, int nohang, keel_error **err)
{
	struct pollfd p;
	int fd, ret;

	ret = open_init(c, &fd, NULL);
	if (ret < 0)
		return 1; /* gone already */
	p.fd = fd;
	p.events = POLLIN;
	do
		ret = poll(&p, 1, nohang ? 0 : -1);
	while (ret < 0 && errno == EINTR);
	close_init(c, fd);
	if (ret < 0)
		return keel_error_sys(err, errno, "container %s: wait for init %d", c->id, (int)c->st.pid);
	return ret > 0;
}

KEEL_PUBLIC int keel_container_wait(keel_container *c, unsigned flags, int *exit_code, int *term_signal,
				    keel_error **err)
{
	int ret, code = -1, sig = 0;

	if (flags & ~(unsigned)KEEL_WAIT_NOHANG)
		return keel_error_invalid(err, "container wait: unknown flags 0x%x", flags);
	ret = begin(c, err);
	if (ret < 0)
		return ret;
	if (c->st.status == KEEL_STATE_CREATED) {
		ret = state_error(c, err, 0, "wait", "start it first");
		end(c);
		return ret;
	}
	end(c); /* never block while holding the lock */
	if (c->st.status != KEEL_STATE_STOPPED) {
		if (c->child)
			ret = child_wait(c, (flags & KEEL_WAIT_NOHANG) ? KEEL_WAIT_NOHANG : 0, &code,
					      &sig, err);
		else
			ret = watch_init(c, flags & KEEL_WAIT_NOHANG, err);
		if (ret <= 0)
			return ret < 0 ? keel_error_wrap(err, ret, "container %s: wait", c->id) : 0;
		if (c->child) {
			c->st.has_exit = 1;
			c->st.exit_code = code;
			c->st.term_signal = sig;
		}
		/* Record it (refresh keeps the exit status learnt here). */
		if ((ret = begin(c, err)) < 0)
			return ret;
		end(c);
	}
	if (exit_code)
		*exit_code = c->st.has_exit ? c->st.exit_code : -1;
	if (term_signal)
		*term_signal = c->st.has_exit ? c->st.term_signal : 0;
	return 1;
}

static int signal_cgroup(keel_container *c, int sig, keel_error **err)
{
	char *procs = NULL, *line, *cur;
	int ret;

	if (sig == SIGKILL)
		return keel_cgroup_kill(c->cgroup, err);
	ret = keel_read_file_at(keel_cgroup_fd(c->cgroup), "cgroup.procs", &procs, NULL, err);
	if (ret < 0)
		return ret;
	for (cur = procs; (line = keel_str_tok(&cur, "\n"));) {
		long long v;
		pid_t pid = keel_str_to_ll(line, NULL, &v) == 0 ? (pid_t)v : 0;	/* atoi(), without its tables */

		if (pid > 0 && kill(pid, sig) < 0 && errno != ESRCH) {
			ret = keel_error_sys(err, errno, "signal %d to pid %d", sig, (int)pid);
			break;
		}
	}
	free(procs);
	return ret;
}

KEEL_PUBLIC int keel_container_kill(keel_container *c, int sig, unsigned flags, keel_error **err)
{
	int fd, ret;

	if (sig < 1 || sig > KEEL_SIG_MAX)
		return keel_error_invalid(err, "container kill: bad signal %d", sig);
	if (flags & ~(unsigned)KEEL_KILL_ALL)
		return keel_error_invalid(err, "container kill: unknown flags 0x%x", flags);
	ret = begin(c, err);
	if (ret < 0)
		return ret;
	if (c->st.status == KEEL_STATE_STOPPED) {
		ret = state_error(c, err, 0, "kill", "nothing left to signal");
	} else if ((flags & KEEL_KILL_ALL) && c->cgroup) {
		ret = signal_cgroup(c, sig, err);
	} else if ((ret = open_init(c, &fd, err)) == 0) {
		if (sys_pidfd_send_signal(fd, sig) < 0)
			ret = keel_error_sys(err, errno, "signal %d to init %d", sig, (int)c->st.pid);
		close_init(c, fd);
	}
	end(c);
	return keel_error_wrap(err, ret, "container %s: kill", c->id);
}

static int freeze(keel_container *c, int on, keel_error **err)
{
	int ret;
	const char *op = on ? "pause" : "resume";

	ret = begin(c, err);
	if (ret < 0)
		return ret;
	if (c->st.status != (on ? KEEL_STATE_RUNNING : KEEL_STATE_PAUSED)) {
		ret = state_error(c, err, 0, op, on ? "only a running container can be paused"
						     : "only a paused container can be resumed");
		goto out;
	}
	if (!c->cgroup) {
		ret = keel_error_sys(err, ENOENT, "container %s: %s: its cgroup %s is gone", c->id, op,
				     c->st.cgroup ? c->st.cgroup : "");
		goto out;
	}
	ret = on ? keel_cgroup_freeze(c->cgroup, FREEZE_TIMEOUT_MS, err)
		 : keel_cgroup_thaw(c->cgroup, FREEZE_TIMEOUT_MS, err);
	if (ret == 0) {
		c->st.status = on ? KEEL_STATE_PAUSED : KEEL_STATE_RUNNING;
		ret = save(c, err);
	}
	keel_error_wrap(err, ret, "container %s: %s", c->id, op);
out:
	end(c);
	return ret;
}

KEEL_PUBLIC int keel_container_pause(keel_container *c, keel_error **err)
{
	return freeze(c, 1, err);
}

KEEL_PUBLIC int keel_container_resume(keel_container *c, keel_error **err)
{
	return freeze(c, 0, err);
}

KEEL_PUBLIC int keel_container_exec(keel_container *c, const keel_process *proc, keel_child **out,
				    keel_error **err)
{
	keel_spawn_attr *attr = NULL;
	keel_process copy;
	keel_ns *ns = NULL;
	int pidfd = -1, ret;

	if (!proc || !out)
		return keel_error_invalid(err, "container exec: NULL process or out");
	*out = NULL;
	ret = begin(c, err);
	if (ret < 0)
		return ret;
	if (c->st.status != KEEL_STATE_RUNNING) {
		ret = state_error(c, err, 0, "exec", "only a running container can run a new process");
		goto out;
	}
	if ((ret = open_init(c, &pidfd, err)) < 0 || (ret = keel_ns_new(&ns, err)) < 0 ||
	    (ret = keel_ns_join_pidfd(ns, c->st.ns_flags, pidfd, err)) < 0 ||
	    (ret = keel_spawn_attr_new(&attr, err)) < 0 || (ret = keel_spawn_attr_set_label(attr, "exec", err)) < 0)
		goto wrap;
	keel_spawn_attr_set_ns(attr, ns);
	if (c->cgroup)
		keel_spawn_attr_set_cgroup_fd(attr, keel_cgroup_fd(c->cgroup));
	/* The container's security unless the process brings its own: a
	 * shallow copy, so the caller's const description is left alone. */
	copy = *proc;
	if (!copy.security) {
		/* what load could not read, exec refuses to guess */
		if (c->security_bad && (ret = load_security(c, err)) < 0)
			goto wrap;
		c->security_bad = 0;
		copy.security = c->security;
	}
	ret = keel_spawn(&copy, attr, out, err);
wrap:
	keel_error_wrap(err, ret, "container %s: exec", c->id);
out:
	close_init(c, pidfd);
	keel_spawn_attr_free(attr);
	keel_ns_free(ns);
	end(c);
	return ret;
}

/* --------------------------------------------------------------- delete -- */

/* Kill everything in the container and wait until the init has ended. */
static int stop_all(keel_container *c, keel_error **err)
{
	int fd, ret = 0;

	if (c->child && (c->st.ns_flags & KEEL_NS_PID)) {
		/* We are the init's parent, and it is pid 1 of its namespace:
		 * the kernel ends every other process of that namespace
		 * before the init's exit completes, so reaping it is all the
		 * waiting needed. cgroup.kill (without waiting for the cgroup
		 * to empty) takes care of anything else in the cgroup, and
		 * keel_cgroup_remove() waits for that, if ever needed. */
		if (c->cgroup)
			keel_write_file_at(keel_cgroup_fd(c->cgroup), "cgroup.kill", "1", NULL);
		if (open_init(c, &fd, NULL) == 0) {
			sys_pidfd_send_signal(fd, SIGKILL);
			close_init(c, fd);
		}
		return child_wait(c, 0, NULL, NULL, err) < 0 ? -ECHILD : 0;
	}
	if (c->cgroup)
		ret = keel_cgroup_kill(c->cgroup, err);
	if (open_init(c, &fd, NULL) == 0) {
		sys_pidfd_send_signal(fd, SIGKILL);
		close_init(c, fd);
	}
	if (ret < 0)
		return ret;
	if (c->child)
		return child_wait(c, 0, NULL, NULL, err) < 0 ? -ECHILD : 0;
	ret = watch_init(c, 0, err);
	return ret < 0 ? ret : 0;
}

static int remove_upper(keel_container *c, int keep, keel_error **err)
{
	char *layer = NULL, *kept = NULL, *mark = NULL, num[KEEL_STR_DEC_SIZE];
	int ret;

	if (!c->st.upper_dir)
		return 0;
	if (keep) {
		/* The default place is inside the state directory, which goes:
		 * move the layer next to it, under a name no id can have. */
		if (!(layer = keel_str_join(c->dir, "/layer", NULL)) ||
		    !(kept = keel_str_join(c->root, "/.kept-", c->id, "-", keel_str_from_ll(now(), num), NULL)))
			ret = keel_error_sys(err, ENOMEM, "keep writable layer");
		else if (strcmp(layer, c->st.upper_dir) == 0 && rename(layer, kept) < 0 && errno != ENOENT)
			ret = keel_error_sys(err, errno, "keep writable layer: rename %s to %s", layer, kept);
		else
			ret = 0;
		free(layer);
		free(kept);
		return ret;
	}
	/* Not ours (a state file that names another directory): left alone. */
	if (!upper_is_ours(c, &mark))
		return 0;
	ret = remove_upper_dir(c->st.upper_dir, err);
	if (ret == -ENOTDIR && err) { /* a file where the layer should be: nothing of ours to remove */
		keel_error_free(*err);
		*err = NULL;
	}
	if (ret == -ENOTDIR)
		ret = 0;
	if (ret == 0 && mark)
		unlink(mark);
	free(mark);
	return ret;
}

/* The state directory, last of all: what a container keeps there is its
 * state file and, after keel_container_create() until the start, the
 * start FIFO (the writable layer went before); anything else, a walk
 * removes. The state file goes first: a waiter for the lock that finds it
 * unlinked knows the container is gone. Then the directory, which is
 * empty but for a FIFO nobody started. */
static int remove_state_dir(keel_container *c, keel_error **err)
{
	int dirfd = c->hold.dirfd;

	unlinkat(dirfd, "state", 0);
	unlinkat(dirfd, SECCOMP_FILE, 0);
	unlinkat(dirfd, SECURITY_FILE, 0);
	if (rmdir(c->dir) == 0 || errno == ENOENT)
		return 0;
	unlinkat(dirfd, "start", 0);
	if (rmdir(c->dir) == 0 || errno == ENOENT)
		return 0;
	return keel_rm_rf(c->dir, err);
}

/* A create killed between the mkdir of keel/<id> and its mark leaves a
 * cgroup nobody can vouch for. It cannot hold our init (the init is
 * cloned into a marked cgroup only), so it is removed only if empty:
 * rmdir(2) of a cgroup refuses one with processes or children, so a
 * stranger's cgroup of that name that is in use stays as it is. */
static void remove_unmarked_default_cgroup(keel_container *c)
{
	char name[128];
	keel_cgroup *cg = NULL;

	keel_str_join_buf(name, sizeof(name), "keel/", c->id, NULL);
	if (keel_cgroup_open(&cg, name, NULL, NULL) < 0)
		return;
	rmdir(keel_cgroup_path(cg));
	keel_cgroup_free(cg);
}

/*
 * A container whose state file is missing, empty or corrupt (a create
 * killed before its first write, a full disk, a stranger's edit) cannot
 * say what it made. A force delete removes what its id names: the cgroup
 * keel/<id> under the default parent if it carries this container's mark
 * (with every process in it, which takes its veth along with its network
 * namespace), and <root>/<id> with the default writable layer in it.
 * A cgroup under a parent of the caller's choosing, or a writable layer
 * elsewhere, cannot be found and is left. Returns 1 when the state is
 * sound (delete as usual), 0 when it was removed here, or -errno.
 */
static int delete_if_damaged(keel_container *c, keel_error **err)
{
	struct keel_cstate st = { 0 };
	int ret;

	if (!c || (!c->loaded && !c->created))
		return 1; /* begin_record() says what is wrong */
	if ((ret = keel_state_hold_lock(&c->hold, c->dir, 0, err)) < 0)
		return ret == -ENOENT ? keel_error_sys(err, ENOENT, "container %s not found in %s", c->id, c->root)
				      : keel_error_wrap(err, ret, "container %s", c->id);
	ret = keel_state_hold_read(&c->hold, c->dir, &st, NULL);
	keel_cstate_clear(&st);
	if (ret != -ENOENT && ret != -EIO) {
		end(c);
		return 1;
	}
	keel_cstate_clear(&c->st);
	if (!c->cgroup)
		open_recorded_cgroup(c); /* st.cgroup is NULL: the marked default */
	if (!c->cgroup)
		remove_unmarked_default_cgroup(c);
	ret = 0;
	if (c->cgroup && (ret = keel_cgroup_remove(c->cgroup, KEEL_CGROUP_REMOVE_KILL, err)) == 0) {
		keel_cgroup_free(c->cgroup);
		c->cgroup = NULL;
	}
	if (ret == 0)
		ret = keel_rm_rf(c->dir, err);
	if (ret == 0)
		keel_state_hold_close(&c->hold);
	else
		end(c);
	return keel_error_wrap(err, ret, "container %s: delete (its state was unreadable)", c->id);
}

KEEL_PUBLIC int keel_container_delete(keel_container *c, unsigned flags, keel_error **err)
{
	keel_error *hook_err = NULL;
	int ret, hook_ret;

	if (flags & ~(unsigned)(KEEL_DELETE_FORCE | KEEL_DELETE_KEEP_UPPER))
		return keel_error_invalid(err, "container delete: unknown flags 0x%x", flags);
	if ((flags & KEEL_DELETE_FORCE) && (ret = delete_if_damaged(c, err)) <= 0)
		return ret;
	/* What changed is not recorded: the state directory goes. Should a
	 * later step fail, the next operation's refresh() records it. */
	ret = begin_record(c, 0, err);
	if (ret < 0)
		return ret;
	if (c->st.status != KEEL_STATE_STOPPED) {
		if (!(flags & KEEL_DELETE_FORCE)) {
			ret = state_error(c, err, EBUSY, "delete", "stop it first, or use force");
			goto out;
		}
		if ((ret = stop_all(c, err)) < 0)
			goto wrap;
		init_alive(c); /* learn the exit status where we can */
		c->st.status = KEEL_STATE_STOPPED;
	} else if (c->child) {
		child_wait(c, KEEL_WAIT_NOHANG, NULL, NULL, NULL); /* reap */
	}
	/* poststop fails the call but not the delete. */
	hook_ret = run_hook(c, KEEL_HOOK_POSTSTOP, &hook_err);
	if ((ret = remove_upper(c, c->st.keep_upper || (flags & KEEL_DELETE_KEEP_UPPER), err)) < 0)
		goto wrap;
	if (c->cgroup) {
		if ((ret = keel_cgroup_remove(c->cgroup, KEEL_CGROUP_REMOVE_KILL, err)) < 0)
			goto wrap;
		keel_cgroup_free(c->cgroup);
		c->cgroup = NULL;
	}
	if ((ret = container_unwire_network(c, 0, !(c->st.ns_flags & KEEL_NS_NET), err)) < 0)
		goto wrap;
	ret = remove_state_dir(c, err);
	if (ret == 0)
		keel_state_hold_close(&c->hold); /* nothing left to hold */
	if (ret == 0 && hook_ret < 0) {
		ret = hook_ret;
		if (err) {
			keel_error_free(*err);
			*err = hook_err;
			hook_err = NULL;
		}
	}
wrap:
	keel_error_free(hook_err);
	keel_error_wrap(err, ret, "container %s: delete", c->id);
out:
	end(c);
	return ret;
}

/* --------------------------------------------------------------- others -- */

KEEL_PUBLIC int keel_container_list(const char *state_root, char ***ids, size_t *n, keel_error **err)
{
	char *root = NULL;
	int ret;

	if (!ids)
		return keel_error_invalid(err, "list containers: no place for the result");
	if (state_root) {
		if ((ret = container_check_path(state_root, "state root", err)) < 0)
			return ret;
		root = strdup(state_root);
		if (!root)
			return keel_error_sys(err, ENOMEM, "list containers");
	} else if ((ret = keel_state_default_root(&root, err)) < 0) {
		return ret;
	}
	ret = keel_state_list(root, ids, n, err);
	free(root);
	return ret;
}

KEEL_PUBLIC int keel_container_layers(keel_container *c, char ***layers, keel_error **err)
{
	char **v, **src, **l;

	if (!c || !layers)
		return keel_error_invalid(err, "container layers: NULL argument");
	src = (c->loaded || c->created) ? c->st.layers : c->layers;
	v = calloc(1, sizeof(char *));
	for (l = src; v && l && *l; l++)
		if (keel_cstrv_push(&v, *l) < 0) {
			keel_container_strv_free(v);
			v = NULL;
		}
	if (!v)
		return keel_error_sys(err, ENOMEM, "container %s: layers", c->id);
	*layers = v;
	return 0;
}

KEEL_PUBLIC int keel_container_upper_usage(keel_container *c, uint64_t *bytes, keel_error **err)
{
	keel_rootfs *r = NULL;
	int ret;

	if (!c || !bytes)
		return keel_error_invalid(err, "container upper usage: NULL argument");
	*bytes = 0;
	if (!c->st.upper_dir)
		return keel_error_set(err, KEEL_ERROR_STATE, 0, "container %s: upper usage: not created yet", c->id);
	ret = upper_only_rootfs(c->st.upper_dir, &r, err);
	if (ret == 0)
		ret = keel_rootfs_upper_usage(r, bytes, err);
	keel_rootfs_free(r);
	/* A plain directory rootfs has no writable layer of its own. */
	if (ret == -ENOENT && !c->st.layers) {
		if (err) {
			keel_error_free(*err);
			*err = NULL;
		}
		*bytes = 0;
		return 0;
	}
	return keel_error_wrap(err, ret, "container %s", c->id);
}

/* ------------------------------------------------------------- update -- */

/* "file value", as the state records an entry (malloc'd). */
static char *entry_line(const struct keel_resource_entry *e)
{
	return keel_str_join(e->file, " ", e->value, NULL);
}

/* Put line into the recorded resources: over the entry it names, or at
 * the end. Takes line over. */
static int record_line(struct keel_cstate *st, char *line)
{
	char **l;
	int ret;

	for (l = st->resources; l && *l; l++) {
		if (keel_resources_same_line(*l, line)) {
			free(*l);
			*l = line;
			return 0;
		}
	}
	ret = keel_cstrv_push(&st->resources, line);
	free(line);
	return ret;
}

/* The rules as the state records them: "allow c 1:3 rwm" ... */
static int record_rules(struct keel_cstate *st, const keel_device_rules *rules)
{
	size_t n = 0, i;
	const struct keel_device_rule *rule = keel_device_rules_get(rules, &n);
	char **v = calloc(1, sizeof(char *)), text[64];

	for (i = 0; v && i < n; i++) {
		keel_resources_rule_text(&rule[i], text, sizeof(text));
		if (keel_cstrv_push(&v, text) < 0) {
			keel_strv_free(v);
			v = NULL;
		}
	}
	if (!v)
		return -ENOMEM;
	keel_strv_free(st->device_rules);
	st->device_rules = v;
	st->has_device_rules = 1;
	return 0;
}

/* Merge what stays applied of r into c->st and write it. */
static int record_update(keel_container *c, const keel_resources *r, const int *applied, int devices,
			 keel_error **err)
{
	size_t i;
	char *line;

	for (i = 0; i < r->n; i++) {
		if (!applied[i])
			continue;
		if (!(line = entry_line(&r->e[i])) || record_line(&c->st, line) < 0)
			return keel_error_sys(err, ENOMEM, "container %s: record the update", c->id);
	}
	if (devices && record_rules(&c->st, r->rules) < 0)
		return keel_error_sys(err, ENOMEM, "container %s: record the update", c->id);
	return save(c, err);
}

KEEL_PUBLIC int keel_container_update(keel_container *c, const keel_resources *r, keel_error **err)
{
	int *applied = NULL, devices = 0, ret, any = 0;
	char what[128];
	size_t i;

	if (!c || !r)
		return keel_error_invalid(err, "container update: %s is NULL", c ? "resources" : "container");
	if ((ret = begin(c, err)) < 0)
		return ret;
	if (c->st.status != KEEL_STATE_CREATED && c->st.status != KEEL_STATE_RUNNING &&
	    c->st.status != KEEL_STATE_PAUSED) {
		ret = state_error(c, err, 0, "update", "only a created, running or paused container can be updated; "
				  "nothing was changed");
		goto out;
	}
	if (!c->cgroup) {
		if (c->st.no_cgroup)
			ret = keel_error_sys(err, ENOENT, "container %s: update: it was made without a cgroup "
					     "(KEEL_CONTAINER_CGROUP_NONE), so it has no limits to change", c->id);
		else
			ret = keel_error_sys(err, ENOENT, "container %s: update: its cgroup %s is gone", c->id,
					     c->st.cgroup ? c->st.cgroup : "");
		goto out;
	}
	if (!(applied = calloc(r->n + 1, sizeof(int)))) {
		ret = keel_error_sys(err, ENOMEM, "container %s: update", c->id);
		goto out;
	}
	snprintf(what, sizeof(what), "container %s: update", c->id);
	ret = keel_resources_apply(r, c->cgroup, what, applied, &devices, err);
	for (i = 0; i < r->n; i++)
		any |= applied[i];
	/* What stays applied is recorded, also after a refused write: the
	 * state must say what the kernel has. */
	if (any || devices) {
		int saved = record_update(c, r, applied, devices, ret < 0 ? NULL : err);

		if (ret == 0)
			ret = saved;
	}
out:
	free(applied);
	end(c);
	return ret;
}

/* A recorded "file value" line into r. */
static int put_line(keel_resources *r, const char *line, keel_error **err)
{
	size_t n = strcspn(line, " ");
	char *file = strndup(line, n);
	int ret;

	if (!file)
		return keel_error_sys(err, ENOMEM, "resources");
	ret = keel_resources_put(r, file, line + n + (line[n] == ' '), err);
	free(file);
	return ret;
}

static int put_rules(keel_resources *r, char *const *lines, keel_error **err)
{
	struct keel_device_rule rule;
	int ret;

	if ((ret = keel_device_rules_new(&r->rules, err)) < 0)
		return ret;
	for (; lines && *lines; lines++) {
		if (keel_resources_rule_parse(*lines, &rule) < 0)
			return keel_error_sys(err, EIO, "recorded device rule '%s' does not parse", *lines);
		if ((ret = keel_device_rules_add(r->rules, rule.allow, rule.type, rule.major, rule.minor, rule.access,
						 err)) < 0)
			return ret;
	}
	return 0;
}

KEEL_PUBLIC int keel_container_resources(keel_container *c, keel_resources **out, keel_error **err)
{
	keel_resources *r = NULL;
	char **l;
	int ret;

	if (!out)
		return keel_error_invalid(err, "container resources: out is NULL");
	*out = NULL;
	if ((ret = begin(c, err)) < 0)
		return ret;
	ret = keel_resources_new(&r, err);
	for (l = c->st.resources; ret == 0 && l && *l; l++)
		ret = put_line(r, *l, err);
	if (ret == 0 && c->st.has_device_rules)
		ret = put_rules(r, c->st.device_rules, err);
	end(c);
	if (ret < 0) {
		keel_resources_free(r);
		return keel_error_wrap(err, ret, "container %s: resources", c->id);
	}
	*out = r;
	return 0;
}
