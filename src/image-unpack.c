/*
 * Safe extraction of one layer tar into an empty directory.
 *
 * libarchive only reads the headers and the data; every file is created
 * here, relative to a parent directory fd that openat2() resolved with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS under the layer's root, and
 * never through its last component (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, or a
 * call that does not follow at all). So an entry named `../x`, `/etc/x`,
 * or `link/x` through a symlink an earlier entry made always lands inside
 * the layer (image-spec, and the lessons of umoci CVE-2021-29136 and
 * containerd CVE-2021-32760, written up in tests/test-image.c).
 *
 * Per entry the metadata is applied in the order that keeps it: owner
 * (chown clears setuid), mode, xattrs, times. Directory times are set in
 * a second pass at the end, since creating their children changes them.
 * Hard links get no metadata of their own: it belongs to their target,
 * and applying it would follow a link to a symlink out of the layer.
 *
 * Whiteouts (image-spec "Whiteouts") become what overlayfs reads:
 * `.wh.NAME` a 0:0 character device NAME, `.wh..wh..opq` the xattr
 * trusted.overlay.opaque=y on its directory. Since each layer is unpacked
 * on its own (never onto the layers below), an opaque marker that comes
 * after its siblings only marks the directory: the siblings this layer
 * wrote stay. A tar's own trusted.overlay.* xattrs are escaped to
 * trusted.overlay.overlay.* as the overlayfs documentation prescribes.
 *
 * Not as root (a rootless store), what needs privilege is left out and
 * what has an unprivileged form takes it: owners stay the caller's,
 * device nodes other than whiteouts are skipped, trusted.* xattrs are
 * dropped, and an opaque directory gets user.overlay.opaque=y, which
 * overlayfs reads when mounted with userxattr (Linux 5.11+; libkeel's
 * rootfs does so in a user namespace).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <unistd.h>

#include "error.h"
#include "image-lib.h"
#include "image.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVL_XATTR "trusted.overlay."

struct dir_time {
	char *path;
	struct timespec ts[2];
};

struct unpack {
	const struct keel_archive_api *A;
	struct archive *a;
	int root;                 /* the layer's root directory, O_PATH */
	unsigned flags;
	int rootless;             /* not root: owners, devices and trusted.* xattrs cannot be kept */
	const char *what;
	char parent_path[PATH_MAX];
	int parent;               /* cached fd of parent_path, or -1 */
	int stale;                /* something was removed: the cache may point into it */
	struct dir_time *dirs;
	size_t n_dirs, cap_dirs;
	uint64_t bytes;
};

int keel_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
	struct open_how how = { .flags = (unsigned long long)flags | O_CLOEXEC, .mode = mode,
				.resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int keel_open_in_root(int root, const char *path, int flags)
{
	return keel_openat2(root, *path ? path : ".", flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/*
 * The entry's name as a clean relative path: `.` and empty components
 * dropped, `..` clamped at the root (what RESOLVE_IN_ROOT does to a
 * path), no leading or trailing '/'. "" is the root itself.
 */
int keel_clean_path(const char *in, char *out, size_t size)
{
	size_t len = 0;
	const char *p = in, *e;

	out[0] = 0;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		if (!e)
			e = p + strlen(p);
		if (e - p == 1 && p[0] == '.') {
			/* skip */
		} else if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out, '/');

			len = slash ? (size_t)(slash - out) : 0;
			out[len] = 0;
		} else {
			if (len + (len ? 1 : 0) + (size_t)(e - p) + 1 > size)
				return -ENAMETOOLONG;
			if (len)
				out[len++] = '/';
			memcpy(out + len, p, (size_t)(e - p));
			len += (size_t)(e - p);
			out[len] = 0;
		}
		p = e;
	}
	return 0;
}

/* Remove name under dirfd, recursively when it is a directory. */
int keel_remove_at(int at, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -errno;
	}
	while (ret == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			ret = keel_remove_at(dirfd(d), de->d_name);
	closedir(d);
	if (ret == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -errno;
	return ret;
}

static int entry_error(struct unpack *u, keel_error **err, int e, const char *name, const char *doing)
{
	return keel_error_sys(err, e, "%s: entry '%s': %s", u->what, name, doing);
}

static int entry_invalid(struct unpack *u, keel_error **err, const char *name, const char *why)
{
	return keel_error_invalid(err, "%s: entry '%s': %s", u->what, name, why);
}

/* Make the missing directories of parent (0755, root's), each under the
 * directory its prefix resolved to; the fd of the last, or -1. */
static int make_parents(struct unpack *u, const char *parent)
{
	char prefix[PATH_MAX];
	const char *p = parent, *slash;
	int up, fd;

	if ((up = keel_open_in_root(u->root, "", O_PATH | O_DIRECTORY)) < 0)
		return -1;
	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - parent) : strlen(parent);
		memcpy(prefix, parent, n);
		prefix[n] = 0;
		fd = keel_open_in_root(u->root, prefix, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(up, prefix + (p - parent), 0755) < 0 && errno != EEXIST) {
				close(up);
				return -1;
			}
			fd = keel_open_in_root(u->root, prefix, O_PATH | O_DIRECTORY);
		}
		close(up);
		if (fd < 0 || !slash)
			return fd;
		up = fd;
		p = slash + 1;
	}
}

/* The parent directory's fd (cached: tars list a directory's files
 * together), made where it is missing. */
static int open_parent(struct unpack *u, const char *parent, keel_error **err)
{
	int fd;

	if (u->parent >= 0 && !u->stale && !strcmp(parent, u->parent_path))
		return u->parent;
	u->stale = 0;
	if (u->parent >= 0)
		close(u->parent);
	u->parent = -1;
	fd = keel_open_in_root(u->root, parent, O_PATH | O_DIRECTORY);
	if (fd < 0 && errno == ENOENT)
		fd = make_parents(u, parent);
	if (fd < 0)
		return entry_error(u, err, errno, parent, "open its directory");
	snprintf(u->parent_path, sizeof(u->parent_path), "%s", parent);
	return u->parent = fd;
}

/* Make room for a new entry: keep an existing directory for a directory,
 * remove anything else. */
static int clear_name(struct unpack *u, int dirfd, const char *base, int want_dir, const char *name,
		      keel_error **err)
{
	struct stat st;
	int r;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : entry_error(u, err, errno, name, "stat");
	if (want_dir && S_ISDIR(st.st_mode))
		return 1;
	if ((r = keel_remove_at(dirfd, base)) < 0)
		return entry_error(u, err, -r, name, "remove what was there");
	u->stale = 1;
	return 0;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int fd, const char *proc_path,
		      const char *name, keel_error **err)
{
	const char *key;
	const void *val;
	size_t len;

	if (!(u->flags & KEEL_UNPACK_LAYER))
		return 0;
	u->A->archive_entry_xattr_reset(e);
	while (u->A->archive_entry_xattr_next(e, &key, &val, &len) == ARCHIVE_OK) {
		char esc[XATTR_NAME_MAX + 32];
		int r;

		if (!strncmp(key, OVL_XATTR, strlen(OVL_XATTR))) {
			snprintf(esc, sizeof(esc), OVL_XATTR "overlay.%s", key + strlen(OVL_XATTR));
			key = esc;
		}
		r = fd >= 0 ? fsetxattr(fd, key, val, len, 0) : lsetxattr(proc_path, key, val, len, 0);
		if (r < 0 && errno != ENOTSUP && !(u->rootless && errno == EPERM))
			return entry_error(u, err, errno, name, "set an extended attribute");
	}
	return 0;
}

static void entry_times(struct unpack *u, struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = u->A->archive_entry_mtime(e);
	ts[1].tv_nsec = u->A->archive_entry_mtime_nsec(e);
	if (u->A->archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = u->A->archive_entry_atime(e);
		ts[0].tv_nsec = u->A->archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

/* Owner, mode, xattrs (and times, unless a directory) on an open fd. */
static int meta_fd(struct unpack *u, struct archive_entry *e, int fd, int dir, const char *name,
		   keel_error **err)
{
	struct timespec ts[2];
	int r;

	if ((u->flags & KEEL_UNPACK_LAYER) && !u->rootless &&
	    fchown(fd, (uid_t)u->A->archive_entry_uid(e), (gid_t)u->A->archive_entry_gid(e)) < 0)
		return entry_error(u, err, errno, name, "chown");
	if (fchmod(fd, u->A->archive_entry_mode(e) & 07777) < 0)
		return entry_error(u, err, errno, name, "chmod");
	if ((r = set_xattrs(u, e, fd, NULL, name, err)) < 0)
		return r;
	entry_times(u, e, ts);
	if (!dir && futimens(fd, ts) < 0)
		return entry_error(u, err, errno, name, "set times");
	return 0;
}

/* The same for a symlink or a device node, by name under a safe dirfd. */
static int meta_at(struct unpack *u, struct archive_entry *e, int dirfd, const char *base, int chmod_too,
		   const char *name, keel_error **err)
{
	char proc[64 + NAME_MAX];
	struct timespec ts[2];
	int r;

	if ((u->flags & KEEL_UNPACK_LAYER) && !u->rootless &&
	    fchownat(dirfd, base, (uid_t)u->A->archive_entry_uid(e), (gid_t)u->A->archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW) < 0)
		return entry_error(u, err, errno, name, "chown");
	/* Only a node this call just made under a resolved dir: no symlink. */
	if (chmod_too && fchmodat(dirfd, base, u->A->archive_entry_mode(e) & 07777, 0) < 0)
		return entry_error(u, err, errno, name, "chmod");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", dirfd, base);
	if ((r = set_xattrs(u, e, -1, proc, name, err)) < 0)
		return r;
	entry_times(u, e, ts);
	if (utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_error(u, err, errno, name, "set times");
	return 0;
}

static int remember_dir(struct unpack *u, struct archive_entry *e, const char *path, keel_error **err)
{
	if (u->n_dirs == u->cap_dirs) {
		size_t cap = u->cap_dirs ? 2 * u->cap_dirs : 64;
		struct dir_time *d = realloc(u->dirs, cap * sizeof(*d));

		if (!d)
			return keel_error_sys(err, ENOMEM, "%s", u->what);
		u->dirs = d;
		u->cap_dirs = cap;
	}
	if (!(u->dirs[u->n_dirs].path = strdup(path)))
		return keel_error_sys(err, ENOMEM, "%s", u->what);
	entry_times(u, e, u->dirs[u->n_dirs].ts);
	u->n_dirs++;
	return 0;
}

/* The data of the entry into fd; *end: where the last block written ends. */
static int write_data(struct unpack *u, int fd, la_int64_t *end, const char *name, keel_error **err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = u->A->archive_read_data_block(u->a, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;

		while (len) {
			ssize_t n = pwrite(fd, p, len, off);

			if (n < 0)
				return entry_error(u, err, errno, name, "write");
			p += n;
			off += n;
			len -= (size_t)n;
			u->bytes += (uint64_t)n;
		}
		if (off > *end)
			*end = off;
	}
	if (r != ARCHIVE_EOF)
		return keel_error_set(err, KEEL_ERROR_INVALID, EIO, "%s: entry '%s': read: %s", u->what, name,
				      u->A->archive_error_string(u->a));
	return 0;
}

static int make_file(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
		     const char *name, keel_error **err)
{
	la_int64_t end = 0;
	int fd, r;

	fd = openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return entry_error(u, err, errno, name, "create");
	r = write_data(u, fd, &end, name, err);
	/* Only a sparse tail (a hole at the end) needs the size set: the
	 * file is new, so a file whose data ends at its size has it. */
	if (r == 0 && end != u->A->archive_entry_size(e) && ftruncate(fd, u->A->archive_entry_size(e)) < 0)
		r = entry_error(u, err, errno, name, "truncate");
	if (r == 0)
		r = meta_fd(u, e, fd, 0, name, err);
	close(fd);
	return r;
}

static int make_dir(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
		    const char *name, keel_error **err)
{
	int fd, r;

	if (mkdirat(dirfd, base, 0700) < 0 && errno != EEXIST)
		return entry_error(u, err, errno, name, "mkdir");
	fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return entry_error(u, err, errno, name, "open");
	r = meta_fd(u, e, fd, 1, name, err);
	close(fd);
	return r < 0 ? r : remember_dir(u, e, name, err);
}

/* A hard link to another entry of this layer, resolved inside the root.
 * No chmod/chown: see the top of the file. */
static int make_hardlink(struct unpack *u, const char *target, int dirfd, const char *base,
			 const char *name, keel_error **err)
{
	char clean[PATH_MAX], *slash, *tbase;
	int tdir, r;

	if (keel_clean_path(target, clean, sizeof(clean)) < 0 || !*clean)
		return entry_invalid(u, err, name, "hard link to the layer's root or an overlong name");
	slash = strrchr(clean, '/');
	tbase = slash ? slash + 1 : clean;
	if (slash)
		*slash = 0;
	tdir = keel_open_in_root(u->root, slash ? clean : "", O_PATH | O_DIRECTORY);
	if (tdir < 0)
		return entry_error(u, err, errno, name, "open the hard link target's directory");
	r = linkat(tdir, tbase, dirfd, base, 0) < 0 ? entry_error(u, err, errno, name, "hard link") : 0;
	close(tdir);
	return r;
}

static int make_whiteout(struct unpack *u, int dirfd, const char *base, const char *name, keel_error **err)
{
	const char *target = base + strlen(WH_PREFIX);
	int fd, r;

	if (!strcmp(base, WH_OPAQUE)) {
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return entry_error(u, err, errno, name, "open the opaque directory");
		r = fsetxattr(fd, OVL_XATTR "opaque", "y", 1, 0);
		/* Not root: the form overlayfs reads when mounted with userxattr. */
		if (r < 0 && u->rootless && errno == EPERM)
			r = fsetxattr(fd, "user.overlay.opaque", "y", 1, 0);
		close(fd);
		return r < 0 ? entry_error(u, err, errno, name, "set the opaque xattr") : 0;
	}
	if (!*target || !strcmp(target, ".") || !strcmp(target, "..") ||
	    !strncmp(target, WH_PREFIX, strlen(WH_PREFIX)))
		return entry_invalid(u, err, name, "a whiteout that names no file");
	if ((r = clear_name(u, dirfd, target, 0, name, err)) < 0)
		return r;
	/* A 0:0 device needs no CAP_MKNOD since Linux 5.8: rootless too. */
	if (mknodat(dirfd, target, S_IFCHR | 0, makedev(0, 0)) < 0)
		return entry_error(u, err, errno, name, "make the whiteout device");
	if (!u->rootless && fchownat(dirfd, target, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
		return entry_error(u, err, errno, name, "chown the whiteout");
	return 0;
}

static int make_node(struct unpack *u, struct archive_entry *e, int dirfd, const char *base,
		     const char *name, keel_error **err)
{
	mode_t type = u->A->archive_entry_filetype(e);
	dev_t dev = makedev(u->A->archive_entry_rdevmajor(e), u->A->archive_entry_rdevminor(e));
	const char *target;

	switch (type) {
	case AE_IFREG:
		return make_file(u, e, dirfd, base, name, err);
	case AE_IFDIR:
		return make_dir(u, e, dirfd, base, name, err);
	case AE_IFLNK:
		target = u->A->archive_entry_symlink(e);
		if (!target || symlinkat(target, dirfd, base) < 0)
			return entry_error(u, err, target ? errno : EINVAL, name, "symlink");
		return meta_at(u, e, dirfd, base, 0, name, err);
	case AE_IFCHR: case AE_IFBLK: case AE_IFIFO:
		if (!(u->flags & KEEL_UNPACK_LAYER))
			return 0;   /* an outer archive has no business with devices */
		if (mknodat(dirfd, base, type | 0600, type == AE_IFIFO ? 0 : dev) < 0) {
			/* Not root: device nodes are the runtime's business (its /dev). */
			if (u->rootless && errno == EPERM)
				return 0;
			return entry_error(u, err, errno, name, "mknod");
		}
		return meta_at(u, e, dirfd, base, 1, name, err);
	default:
		return entry_invalid(u, err, name, "a file type that a layer cannot hold (socket?)");
	}
}

/* The layer's root itself ("." or "/"): only ever a directory. */
static int root_entry(struct unpack *u, struct archive_entry *e, const char *name, keel_error **err)
{
	int fd, r;

	if (u->A->archive_entry_filetype(e) != AE_IFDIR || u->A->archive_entry_hardlink(e))
		return entry_invalid(u, err, name, "would replace the layer's root with a non-directory");
	fd = keel_open_in_root(u->root, "", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return entry_error(u, err, errno, name, "open the root");
	r = meta_fd(u, e, fd, 1, name, err);
	close(fd);
	return r < 0 ? r : remember_dir(u, e, "", err);
}

static int one_entry(struct unpack *u, struct archive_entry *e, keel_error **err)
{
	const char *name = u->A->archive_entry_pathname(e), *hardlink, *base;
	char path[PATH_MAX], *slash;
	int dirfd, r, is_dir;

	if (!name || keel_clean_path(name, path, sizeof(path)) < 0)
		return entry_invalid(u, err, name ? name : "(none)", "no name, or one longer than PATH_MAX");
	if (!*path)
		return root_entry(u, e, name, err);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (slash)
		*slash = 0;
	if ((dirfd = open_parent(u, slash ? path : "", err)) < 0)
		return dirfd;
	if ((u->flags & KEEL_UNPACK_LAYER) && !strncmp(base, WH_PREFIX, strlen(WH_PREFIX)))
		return make_whiteout(u, dirfd, base, name, err);
	hardlink = u->A->archive_entry_hardlink(e);
	is_dir = !hardlink && u->A->archive_entry_filetype(e) == AE_IFDIR;
	if ((r = clear_name(u, dirfd, base, is_dir, name, err)) < 0)
		return r;
	if (hardlink)
		return make_hardlink(u, hardlink, dirfd, base, name, err);
	return make_node(u, e, dirfd, base, name, err);
}

/* Second pass: directory times, deepest last set wins nothing (each dir
 * is opened by its own path, never following a final symlink). */
static void set_dir_times(struct unpack *u)
{
	size_t i;

	for (i = u->n_dirs; i-- > 0;) {
		int fd = keel_open_in_root(u->root, u->dirs[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

		if (fd >= 0) {
			futimens(fd, u->dirs[i].ts);
			close(fd);
		}
		free(u->dirs[i].path);
	}
	free(u->dirs);
}

int keel_unpack(const struct keel_archive_api *A, struct archive *a, int rootfd, unsigned flags,
		const char *what, uint64_t *bytes, keel_error **err)
{
	struct unpack u = { .A = A, .a = a, .root = rootfd, .flags = flags, .what = what, .parent = -1,
			    .rootless = geteuid() != 0 };
	struct archive_entry *e;
	int r = 0, ar;

	while ((ar = A->archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN)
		if ((r = one_entry(&u, e, err)) < 0)
			break;
	if (r == 0 && ar != ARCHIVE_EOF)
		r = keel_error_set(err, KEEL_ERROR_INVALID, EIO, "%s: not a valid tar: %s", what,
				   A->archive_error_string(a) ? A->archive_error_string(a) : "unexpected end");
	if (u.parent >= 0)
		close(u.parent);
	set_dir_times(&u);
	if (bytes)
		*bytes = u.bytes;
	return r;
}
