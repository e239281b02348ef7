/*
 * mount: the writable layer of a keel_rootfs, after the container: how
 * much it holds (keel_rootfs_upper_usage) and its removal
 * (keel_rootfs_remove_upper). See mount.c for the whole subsystem.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <keel/mount.h>

#include "error.h"
#include "mount-internal.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/syscall.h"

/* -------------------------------------------------------- writable layer --- */

/* "<base>/<name>", malloc'd. */
char *base_path(const char *base, const char *name)
{
	return keel_str_join(base, "/", name, NULL);
}

struct usage {
	uint64_t bytes;
	struct { dev_t dev; ino_t ino; } *seen;  /* files with several links */
	size_t n_seen;
};

static int seen_before(struct usage *u, const struct stat *st)
{
	size_t i;
	void *grown;

	for (i = 0; i < u->n_seen; i++)
		if (u->seen[i].dev == st->st_dev && u->seen[i].ino == st->st_ino)
			return 1;
	grown = realloc(u->seen, (u->n_seen + 1) * sizeof(*u->seen));
	if (!grown)
		return -ENOMEM;
	u->seen = grown;
	u->seen[u->n_seen].dev = st->st_dev;
	u->seen[u->n_seen].ino = st->st_ino;
	u->n_seen++;
	return 0;
}

static int usage_walk(int dirfd, const char *top, struct usage *u, keel_error **err)
{
	struct dirent *de;
	struct stat st;
	DIR *dir = fdopendir(dirfd);
	int ret = 0, fd, seen;

	if (!dir) {
		ret = keel_error_sys(err, errno, "rootfs: usage of %s", top);
		close(dirfd);
		return ret;
	}
	while (ret == 0 && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = keel_error_sys(err, errno, "rootfs: usage of %s: stat %s", top, de->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			ret = fd < 0 ? keel_error_sys(err, errno, "rootfs: usage of %s: open %s", top, de->d_name)
				     : usage_walk(fd, top, u, err);
		} else {
			seen = st.st_nlink > 1 ? seen_before(u, &st) : 0;
			if (seen < 0)
				ret = keel_error_sys(err, ENOMEM, "rootfs: usage of %s", top);
			else if (!seen)
				u->bytes += (uint64_t)st.st_size;
		}
	}
	closedir(dir);
	return ret;
}

KEEL_PUBLIC int keel_rootfs_upper_usage(const keel_rootfs *r, uint64_t *bytes, keel_error **err)
{
	struct usage u = { 0 };
	char *upper;
	int fd, ret;

	if (!r || !bytes)
		return keel_error_invalid(err, "rootfs: usage: %s is NULL", r ? "bytes" : "handle");
	if (!r->upper_base)
		return keel_error_invalid(err, "rootfs: usage: no writable layer (no upper base was set)");
	if (!(upper = base_path(r->upper_base, "upper")))
		return keel_error_sys(err, ENOMEM, "rootfs: usage");
	fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		ret = keel_error_sys(err, errno, "rootfs: usage of the writable layer %s", upper);
	else
		ret = usage_walk(fd, upper, &u, err);
	if (ret == 0)
		*bytes = u.bytes;
	free(u.seen);
	free(upper);
	return ret;
}

/*
 * Remove a tree that the container wrote. Unlike keel_rm_rf() it opens up
 * directories whose mode locks out their owner (overlayfs makes work/work
 * mode 000; a container may chmod 000 its own directories), which matters
 * when the caller is not root. It never crosses into another mount.
 */
static int remove_tree(int at, const char *name, dev_t dev, const char *top, keel_error **err)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int fd, ret = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : keel_error_sys(err, errno, "rootfs: remove %s: stat %s", top, name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(at, name, 0) < 0 && errno != ENOENT)
			return keel_error_sys(err, errno, "rootfs: remove %s: unlink %s", top, name);
		return 0;
	}
	if (st.st_dev != dev)
		return keel_error_sys(err, EBUSY, "rootfs: remove %s: %s is a mount point", top, name);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(at, name, 0700, 0) == 0)
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "rootfs: remove %s: open %s", top, name);
	if ((st.st_mode & 0700) != 0700)
		fchmod(fd, 0700); /* so that its entries can be unlinked; failure shows below */
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return keel_error_sys(err, errno, "rootfs: remove %s", top);
	}
	while (ret == 0 && (de = readdir(dir)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = remove_tree(dirfd(dir), de->d_name, dev, top, err);
	closedir(dir);
	if (ret == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = keel_error_sys(err, errno, "rootfs: remove %s: rmdir %s", top, name);
	return ret;
}

KEEL_PUBLIC int keel_rootfs_remove_upper(const keel_rootfs *r, keel_error **err)
{
	static const char *const parts[] = { "upper", "work", "merged", "lower" };
	struct stat st;
	size_t i;
	int ret = 0;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if (!r->upper_base)
		return keel_error_invalid(err, "rootfs: remove the writable layer: no upper base was set");
	if (lstat(r->upper_base, &st) < 0)
		return errno == ENOENT ? 0 : keel_error_sys(err, errno, "rootfs: remove the writable layer in %s",
							    r->upper_base);
	for (i = 0; i < N_OF(parts) && ret == 0; i++) {
		char *path = base_path(r->upper_base, parts[i]);

		if (!path)
			return keel_error_sys(err, ENOMEM, "rootfs: remove the writable layer");
		ret = remove_tree(AT_FDCWD, path, st.st_dev, path, err);
		free(path);
	}
	return ret;
}
