/*
 * cgroup: one directory of the cgroup v2 hierarchy, and everything a
 * container runtime does with it.
 *
 * The hierarchy is wherever /proc/self/mountinfo says a cgroup2 filesystem
 * is mounted: /sys/fs/cgroup on a pure v2 host, /sys/fs/cgroup/unified on a
 * v1/v2 hybrid. A handle keeps an O_DIRECTORY fd on its cgroup, and every
 * interface file is opened relative to it, so the handle keeps working on
 * the same cgroup even if paths are reused.
 *
 * Controllers: a file like memory.max exists in a cgroup only when its
 * parent lists "memory" in cgroup.subtree_control, which the parent may do
 * only when the controller is in its own cgroup.controllers and it has no
 * processes of its own (the no-internal-process rule; the root is exempt).
 * So a setter whose file is missing enables the controller walking down
 * from the root of the mount, and when that is impossible says why in the
 * user's words: not offered (and perhaps held by a v1 hierarchy), or an
 * ancestor with processes.
 *
 * Waiting (freeze, thaw, kill, remove) watches cgroup.events with inotify:
 * the kernel signals a modification whenever "populated" or "frozen"
 * changes, so there is no sleeping poll loop.
 *
 * The files: this one, the lifecycle; cgroup-discovery.c, -limits.c,
 * -stats.c, -control.c and -utils.c, listed in cgroup-internal.h.
 *
 * The only process-wide state here is one validated cache of where
 * cgroup2 is mounted (cgroup2_mount(), cgroup-discovery.c): everything
 * else lives in the handle.
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

/* ------------------------------------------------------------ lifecycle -- */

/* A path relative to the parent: components that are not empty, ".", "..". */
static int check_rel_path(const char *path, int allow_empty, keel_error **err)
{
	const char *p, *next;
	size_t len;

	if (!path)
		return keel_error_invalid(err, "cgroup: no path given");
	if (!*path) {
		if (allow_empty)
			return 0;
		return keel_error_invalid(err, "cgroup: empty path");
	}
	if (*path == '/')
		return keel_error_invalid(err, "cgroup %s: the path must be relative to the parent, not absolute",
					  path);
	if (strlen(path) >= PATH_MAX)
		return keel_error_invalid(err, "cgroup: path too long");
	for (p = path; p; p = next ? next + 1 : NULL) {
		next = strchr(p, '/');
		len = next ? (size_t)(next - p) : strlen(p);
		if (len == 0)
			return keel_error_invalid(err, "cgroup %s: empty path component", path);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return keel_error_invalid(err, "cgroup %s: \".\" and \"..\" are not allowed in a cgroup path",
						  path);
		if (len > NAME_MAX)
			return keel_error_invalid(err, "cgroup %s: a path component is longer than %d bytes",
						  path, NAME_MAX);
	}
	return 0;
}

/* Is path mount itself, or mount + "/" + components none of which is
 * empty, "." or ".."? Such a path, if no symlink is on the way, is its
 * own real path. */
static int plain_inside(const char *mount, const char *path)
{
	size_t mlen = strlen(mount);
	const char *p, *next;

	if (strncmp(path, mount, mlen) || (path[mlen] && path[mlen] != '/'))
		return 0;
	if (!path[mlen])
		return 1;
	for (p = path + mlen + 1; p; p = next ? next + 1 : NULL) {
		size_t len;

		next = strchr(p, '/');
		len = next ? (size_t)(next - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
	}
	return 1;
}

/*
 * Resolve parent (NULL: the default) to a real directory inside mount:
 * *out gets its real path, *pfd an O_PATH fd on it (to make and open the
 * cgroup relative to it), or AT_FDCWD.
 *
 * What realpath() guaranteed, a path plainly inside the mount (no ".",
 * "..", or "//") opened with RESOLVE_NO_SYMLINKS guarantees too: no
 * symlink led elsewhere, so the path is its real path and inside the
 * mount; one openat2() instead of a readlink() per component. Anything
 * else (a symlink on the way, a path with ".." ...) goes through
 * realpath() as before.
 */
static int resolve_parent(const char *mount, const char *parent, char **out, int *pfd, keel_error **err)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
	char *given = NULL, *real;
	size_t mlen = strlen(mount);
	int ret, fd;

	*pfd = AT_FDCWD;
	if (!parent) {
		ret = default_parent(mount, &given, err);
		if (ret < 0)
			return keel_error_wrap(err, ret, "cgroup: default parent");
		parent = given;
	} else if (*parent != '/') {
		return keel_error_invalid(err, "cgroup parent %s: must be an absolute path inside %s",
					  parent, mount);
	}
	if (plain_inside(mount, parent)) {
		fd = keel_sys_openat2(AT_FDCWD, parent, &how, sizeof(how));
		if (fd >= 0) {
			real = given ? given : strdup(parent);
			if (!real) {
				close(fd);
				return keel_error_sys(err, ENOMEM, "cgroup parent %s", parent);
			}
			*out = real;
			*pfd = fd;
			return 0;
		}
		if (errno != ELOOP && errno != ENOSYS && errno != EPERM && errno != EINVAL && errno != E2BIG) {
			ret = keel_error_sys(err, errno, "cgroup parent %s", parent);
			free(given);
			return ret;
		}
	}
	real = realpath(parent, NULL);
	if (!real) {
		ret = keel_error_sys(err, errno, "cgroup parent %s", parent);
		free(given);
		return ret;
	}
	if (strncmp(real, mount, mlen) || (real[mlen] && real[mlen] != '/')) {
		ret = keel_error_invalid(err, "cgroup parent %s: not inside the cgroup2 hierarchy at %s",
					 parent, mount);
		free(real);
		free(given);
		return ret;
	}
	free(given);
	*out = real;
	return 0;
}

static void cg_free(keel_cgroup *cg)
{
	if (!cg)
		return;
	if (cg->dirfd >= 0)
		close(cg->dirfd);
	if (cg->events_fd >= 0)
		close(cg->events_fd);
	free(cg->mount);
	free(cg->path);
	free(cg->name);
	free(cg);
}

/* Make a handle on the existing directory parent/path (pfd: parent's
 * fd, or AT_FDCWD). */
static int cg_open(const char *mount, const char *parent, int pfd, const char *path, keel_cgroup **out,
		   keel_error **err)
{
	keel_cgroup *cg;
	struct statfs sfs;
	const char *rel;
	int ret;

	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return keel_error_sys(err, ENOMEM, "cgroup %s", path);
	cg->dirfd = cg->events_fd = cg->wd_memory = -1;
	if (!(cg->path = keel_str_join(parent, *path ? "/" : "", path, NULL))) {
		cg_free(cg);
		return keel_error_sys(err, ENOMEM, "cgroup %s", path);
	}
	rel = cg->path + strlen(mount);
	cg->mount = strdup(mount);
	cg->name = strdup(*rel ? rel + 1 : "/");
	if (!cg->mount || !cg->name) {
		cg_free(cg);
		return keel_error_sys(err, ENOMEM, "cgroup %s", path);
	}
	/* O_PATH: all it is for is openat() and CLONE_INTO_CGROUP, and a
	 * process holding one per container pays less for each fd when it
	 * spawns (a child copies the fd table and closes it again, and
	 * closing an O_PATH file skips the flush). */
	cg->dirfd = openat(pfd, pfd == AT_FDCWD ? cg->path : *path ? path : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0) {
		ret = errno == ENOENT ?
			keel_error_plain(err, KEEL_ERROR_NOT_FOUND, ENOENT, "cgroup %s: no such cgroup (%s does not exist)",
					 cg->name, cg->path) :
			cg_sys(cg, err, errno, "open %s", cg->path);
		cg_free(cg);
		return ret;
	}
	if (fstatfs(cg->dirfd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		ret = cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "%s is not a cgroup2 directory", cg->path);
		cg_free(cg);
		return ret;
	}
	*out = cg;
	return 0;
}

/*
 * mkdir each component of path under parent; only the last must be new.
 * An intermediate directory can vanish between our mkdir of it and of
 * the next component: an empty cgroup such as the default "keel" parent
 * is removed by whoever tidies up (rmdir only succeeds when it is
 * empty). Then the walk starts over, a few times.
 */
#define MAKE_DIRS_RETRIES 8

static int make_dirs(const char *mount, const char *parent, int pfd, const char *path, keel_error **err)
{
	char *full, *p, *start;
	const char *name;
	int ret = 0, retries = 0;

	if (!(full = keel_str_join(parent, "/", path, NULL)))
		return keel_error_sys(err, ENOMEM, "cgroup %s", path);
	name = full + strlen(mount) + 1;
	start = full + strlen(parent) + 1;
	for (p = start;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdirat(pfd, pfd == AT_FDCWD ? full : start, 0755) < 0) {
			int e = errno;
			if (e == EEXIST && saved) {
				/* an intermediate that exists already is fine */
			} else if (e == ENOENT && strchr(start, '/') && retries < MAKE_DIRS_RETRIES) {
				/* one of ours vanished under us: again */
				*p = saved;
				retries++;
				p = start - 1;
				continue;
			} else if (e == EEXIST) {
				ret = keel_error_plain(err, KEEL_ERROR_EXISTS, EEXIST,
						       "cgroup %s: create: it exists already", name);
				break;
			} else {
				ret = keel_error_sys(err, e, "cgroup %s: create: mkdir %s%s", name, full,
						     e == EACCES || e == EPERM ?
						     " (is the parent delegated to this user?)" : "");
				break;
			}
		}
		*p = saved;
		if (!saved)
			break;
	}
	free(full);
	return ret;
}

static int create_or_open(keel_cgroup **out, const char *path, const char *parent, int create,
			  keel_error **err)
{
	char *mount = NULL, *real_parent = NULL;
	int ret, pfd = AT_FDCWD;

	if (!out)
		return keel_error_invalid(err, "cgroup: no place for the handle");
	*out = NULL;
	ret = check_rel_path(path, !create, err);
	if (ret < 0)
		return ret;
	ret = keel_cgroup_mount_path(&mount, err);
	if (ret < 0)
		return ret;
	ret = resolve_parent(mount, parent, &real_parent, &pfd, err);
	if (ret == 0 && create)
		ret = make_dirs(mount, real_parent, pfd, path, err);
	if (ret == 0)
		ret = cg_open(mount, real_parent, pfd, path, out, err);
	if (pfd >= 0)
		close(pfd);
	free(mount);
	free(real_parent);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_create(keel_cgroup **out, const char *path, const char *parent,
				   keel_error **err)
{
	return create_or_open(out, path, parent, 1, err);
}

KEEL_PUBLIC int keel_cgroup_open(keel_cgroup **out, const char *path, const char *parent,
				 keel_error **err)
{
	return create_or_open(out, path, parent, 0, err);
}

KEEL_PUBLIC void keel_cgroup_free(keel_cgroup *cg)
{
	cg_free(cg);
}

KEEL_PUBLIC const char *keel_cgroup_path(const keel_cgroup *cg)
{
	return cg ? cg->path : NULL;
}

const char *keel_cgroup_name(const keel_cgroup *cg)
{
	return cg ? cg->name : NULL;
}

KEEL_PUBLIC int keel_cgroup_fd(const keel_cgroup *cg)
{
	return cg ? cg->dirfd : -EINVAL;
}
