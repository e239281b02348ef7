/*
 * cgroup: where the cgroup2 hierarchy is mounted, and the default parent.
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

/* --------------------------------------------------------- discovery -- */

/*
 * Where cgroup2 is mounted: the first cgroup2 mount in
 * /proc/self/mountinfo, as keel_find_mount() says. Generating and reading
 * mountinfo in every keel_cgroup_create() was most of its cost, so the
 * answer is remembered for the process, and checked at every use by one
 * statx() of the remembered path: the mount found there must be the one
 * mountinfo named (its mount id, the device and inode of its root). An
 * unmount, a mount over it, a thread in another mount namespace or under
 * another root all fail that check, and mountinfo is read again.
 *
 * The one lock is only ever tried, never waited for: a thread that finds
 * it taken (or a child forked while another thread held it) reads
 * mountinfo itself, as every call did before. It is an atomic flag, not
 * a pthread mutex: pthread_mutex_trylock() dispatches on the mutex kind
 * through a jump table in libc's .rodata, and that read was the only
 * reason a program starting a container touched that part of libc.
 */
#ifdef STATX_MNT_ID
struct mount_key {
	uint64_t mnt_id, ino;
	uint32_t dev_major, dev_minor;
};

static struct {
	int busy;		/* the lock: 1 while a thread uses the cache */
	int valid;
	struct mount_key key;
	char path[PATH_MAX];
} cg2_cache;

static bool cache_trylock(void)
{
	return __atomic_exchange_n(&cg2_cache.busy, 1, __ATOMIC_ACQUIRE) == 0;
}

static void cache_unlock(void)
{
	__atomic_store_n(&cg2_cache.busy, 0, __ATOMIC_RELEASE);
}

static int mount_key_of(const char *path, struct mount_key *key)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_INO | STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID) || !(stx.stx_mask & STATX_INO))
		return -1;
	key->mnt_id = stx.stx_mnt_id;
	key->ino = stx.stx_ino;
	key->dev_major = stx.stx_dev_major;
	key->dev_minor = stx.stx_dev_minor;
	return 0;
}

static int cgroup2_mount(char **out, keel_error **err)
{
	struct mount_key now;
	uint64_t mnt_id = 0;
	bool locked = cache_trylock();
	int ret;

	if (locked && cg2_cache.valid && mount_key_of(cg2_cache.path, &now) == 0 &&
	    !memcmp(&now, &cg2_cache.key, sizeof(now))) {
		*out = strdup(cg2_cache.path);
		cache_unlock();
		return *out ? 0 : keel_error_sys(err, ENOMEM, "find cgroup2 mount");
	}
	ret = keel_find_mount_id("cgroup2", out, &mnt_id, err);
	if (!locked)
		return ret;
	cg2_cache.valid = 0;
	/* Remembered only when the path leads to that very mount now. */
	if (ret == 0 && strlen(*out) < sizeof(cg2_cache.path) && mount_key_of(*out, &now) == 0 &&
	    now.mnt_id == mnt_id) {
		strcpy(cg2_cache.path, *out);
		cg2_cache.key = now;
		cg2_cache.valid = 1;
	}
	cache_unlock();
	return ret;
}
#else
static int cgroup2_mount(char **out, keel_error **err)
{
	return keel_find_mount("cgroup2", out, err);
}
#endif

KEEL_PUBLIC int keel_cgroup_mount_path(char **path, keel_error **err)
{
	int ret;

	if (!path)
		return keel_error_invalid(err, "cgroup: find the cgroup2 mount: no place for the result");
	ret = cgroup2_mount(path, err);
	return keel_error_wrap(err, ret, "cgroup: find the cgroup2 mount");
}

/* The caller's cgroup v2 path from /proc/self/cgroup ("0::/a/b"). */
static int self_cgroup(char **out, keel_error **err)
{
	char *text = NULL, *line, *end;
	int ret;

	ret = keel_read_file_at(AT_FDCWD, "/proc/self/cgroup", &text, NULL, err);
	if (ret < 0)
		return ret;
	for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "0::", 3))
			continue;
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		*out = strdup(line + 3);
		free(text);
		return *out ? 0 : keel_error_sys(err, ENOMEM, "read /proc/self/cgroup");
	}
	free(text);
	return keel_error_plain(err, KEEL_ERROR_NOT_FOUND, ENOENT,
				"the caller is in no cgroup v2 (no \"0::\" line in /proc/self/cgroup)");
}

int default_parent(const char *mount, char **out, keel_error **err)
{
	char *self = NULL, *slash;
	int ret;

	ret = self_cgroup(&self, err);
	if (ret < 0)
		return ret;
	/* in the root: the root (it is exempt from the no-internal-process
	 * rule); else the parent of the caller's cgroup, so that new cgroups
	 * are siblings of the caller's and never contain the caller */
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (!(*out = keel_str_join(mount, self, NULL))) {
		free(self);
		return keel_error_sys(err, ENOMEM, "default cgroup parent");
	}
	free(self);
	return 0;
}

KEEL_PUBLIC int keel_cgroup_default_parent(char **path, keel_error **err)
{
	char *mount = NULL;
	int ret;

	if (!path)
		return keel_error_invalid(err, "cgroup: default parent: no place for the result");
	ret = keel_cgroup_mount_path(&mount, err);
	if (ret < 0)
		return ret;
	ret = default_parent(mount, path, err);
	free(mount);
	return keel_error_wrap(err, ret, "cgroup: default parent");
}
