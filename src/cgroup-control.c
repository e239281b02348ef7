/*
 * cgroup: freeze and thaw, kill, remove.
 * See cgroup.c for the whole subsystem.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/syscall.h>

#include <keel/cgroup.h>

#include "cgroup-internal.h"
#include "error.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/syscall.h"

/* ----------------------------------------------------- freeze and thaw -- */

static int set_frozen(keel_cgroup *cg, int frozen, int timeout_ms, keel_error **err)
{
	const char *op = frozen ? "freeze" : "thaw";
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: %s: no cgroup given", op);
	ret = keel_write_file_at(cg->dirfd, "cgroup.freeze", frozen ? "1" : "0", NULL);
	if (ret == -ENOENT)
		return cg_plain(cg, err, KEEL_ERROR_UNSUPPORTED, EOPNOTSUPP,
				"%s: this kernel has no cgroup.freeze (Linux 5.2 or later has it)%s",
				op, !strcmp(cg->name, "/") ? ", and the root cgroup cannot be frozen" : "");
	if (ret < 0)
		return cg_sys(cg, err, -ret, "%s: write cgroup.freeze", op);
	ret = wait_events(cg, frozen ? WAIT_FROZEN : WAIT_THAWED, timeout_ms, err);
	if (ret == -ETIMEDOUT)
		return cg_plain(cg, err, KEEL_ERROR_STATE, ETIMEDOUT, "%s: cgroup.events does not say frozen %d "
				"after %d ms%s", op, frozen, timeout_ms,
				frozen ? " (a task may be stuck in the kernel)" : " (is an ancestor frozen?)");
	return ret;
}

KEEL_PUBLIC int keel_cgroup_freeze(keel_cgroup *cg, int timeout_ms, keel_error **err)
{
	return set_frozen(cg, 1, timeout_ms, err);
}

KEEL_PUBLIC int keel_cgroup_thaw(keel_cgroup *cg, int timeout_ms, keel_error **err)
{
	return set_frozen(cg, 0, timeout_ms, err);
}

/* ----------------------------------------------------------------- kill -- */

/* SIGKILL every pid in dirfd/cgroup.procs and in the cgroups below it.
 * *seen counts the processes signalled. */
static void signal_tree(int dirfd, int *seen)
{
	char *text = NULL, *line;
	struct dirent *de;
	DIR *dir;
	int fd;

	if (read_at(dirfd, "cgroup.procs", &text) == 0) {
		for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
			pid_t pid = (pid_t)parse_int(line);

			if (pid > 0 && kill(pid, SIGKILL) == 0)
				(*seen)++;
		}
		free(text);
	}
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0) {
			signal_tree(sub, seen);
			close(sub);
		}
	}
	closedir(dir);
}

/* Before cgroup.kill (Linux 5.14): freeze so nothing forks while we look,
 * signal everyone, thaw so the signals are delivered, until none is left. */
static int kill_by_signals(keel_cgroup *cg, keel_error **err)
{
	int seen, round, frozen;

	for (round = 0; round < 100; round++) {
		frozen = keel_write_file_at(cg->dirfd, "cgroup.freeze", "1", NULL) == 0 &&
			 wait_events(cg, WAIT_FROZEN, 1000, NULL) == 0;
		seen = 0;
		signal_tree(cg->dirfd, &seen);
		if (frozen)
			keel_write_file_at(cg->dirfd, "cgroup.freeze", "0", NULL);
		if (!seen)
			return 0;
	}
	return cg_plain(cg, err, KEEL_ERROR_STATE, EBUSY, "kill: processes keep appearing");
}

KEEL_PUBLIC int keel_cgroup_kill(keel_cgroup *cg, keel_error **err)
{
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: kill: no cgroup given");
	ret = keel_write_file_at(cg->dirfd, "cgroup.kill", "1", NULL);
	if (ret == -ENOENT)
		ret = kill_by_signals(cg, err);
	else if (ret < 0)
		return cg_sys(cg, err, -ret, "kill: write cgroup.kill");
	if (ret < 0)
		return ret;
	ret = wait_events(cg, WAIT_EMPTY, WAIT_EMPTY_MS, err);
	if (ret == -ETIMEDOUT)
		return cg_plain(cg, err, KEEL_ERROR_STATE, EBUSY,
				"kill: processes are still there %d ms after SIGKILL", WAIT_EMPTY_MS);
	return ret;
}

/* --------------------------------------------------------------- remove -- */

/* rmdir path and every cgroup below it, deepest first; a cgroup whose last
 * process is still exiting gives EBUSY for a moment, so retry that. */
static int remove_tree(keel_cgroup *cg, const char *path, int64_t deadline, keel_error **err)
{
	struct dirent *de;
	char sub[PATH_MAX];
	DIR *dir;
	int ret = 0;

	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : cg_sys(cg, err, errno, "remove: open %s", path);
	while ((de = readdir(dir))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub)) {
			ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, ENAMETOOLONG, "remove: path too long under %s", path);
			break;
		}
		ret = remove_tree(cg, sub, deadline, err);
		if (ret < 0)
			break;
	}
	closedir(dir);
	if (ret < 0)
		return ret;
	while (rmdir(path) < 0) {
		struct pollfd none = { .fd = -1 };

		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || now_ms() >= deadline)
			return cg_sys(cg, err, errno, "remove: rmdir %s", path);
		poll(&none, 0, 10);   /* the css is released just after the exit */
	}
	return 0;
}

KEEL_PUBLIC int keel_cgroup_remove(keel_cgroup *cg, unsigned flags, keel_error **err)
{
	struct cg_state st;
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: remove: no cgroup given");
	if (flags & ~(unsigned)KEEL_CGROUP_REMOVE_KILL)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "remove: unknown flags 0x%x", flags);
	if (!strcmp(cg->name, "/"))
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "remove: the root cgroup cannot be removed");
	/* The common case first: no process and no child cgroup left (a
	 * container's, once its init is reaped). One rmdir then, instead of
	 * cgroup.kill, cgroup.events and a walk of the tree. */
	if (rmdir(cg->path) == 0 || errno == ENOENT)
		return 0;
	if (flags & KEEL_CGROUP_REMOVE_KILL) {
		ret = keel_cgroup_kill(cg, err);
		if (ret < 0)
			return keel_error_wrap(err, ret, "remove");
	} else {
		ret = read_events(cg, &st, err);
		if (ret < 0)
			return ret;
		if (st.populated)
			return cg_plain(cg, err, KEEL_ERROR_STATE, EBUSY,
					"remove: it still has processes (populated); kill them first or pass "
					"KEEL_CGROUP_REMOVE_KILL");
	}
	return remove_tree(cg, cg->path, now_ms() + WAIT_EMPTY_MS, err);
}
