/*
 * mount, the child side: keel_mount_plan_apply(), in the new process,
 * already in its own mount namespace. System calls only, on the plan's
 * memory (built into libkeel-child.la: tests/check-child-alloc.sh checks
 * that). See src/mount.c for the whole subsystem and why every
 * destination is opened beneath the new root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
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

#include <keel/error.h>
#include "mount-internal.h"
#include "util/child.h"
#include "util/syscall.h"

/* -------------------------------------------------- the child: apply --- */
/*
 * Everything below runs between clone and execve: system calls on the
 * plan's memory, buffers on the stack, no allocation.
 */

struct fdpath {
	char s[40];
};

/* "/proc/self/fd/N": lets mount(2) act on exactly the inode we opened. */
static const char *fd_path(int fd, struct fdpath *b)
{
	char num[24];

	keel_strlcpy(b->s, "/proc/self/fd/", sizeof(b->s));
	keel_strlcat(b->s, keel_utoa((unsigned long long)fd, num), sizeof(b->s));
	return b->s;
}

/*
 * Open path (relative, inside the root) as an O_PATH fd. The kernel
 * refuses with EXDEV any step out of rootfd: "..", an absolute symlink, or
 * a symlink climbing above it. Without openat2 (before Linux 5.6) each
 * component is opened with O_NOFOLLOW and symlinks are refused (ELOOP).
 */
static int open_beneath(int rootfd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char comp[NAME_MAX + 1];
	int fd, next;
	long ret;

	if (!*path)
		return fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	ret = keel_sys_openat2(rootfd, path, &how, sizeof(how));
	if (ret >= 0 || errno != ENOSYS)
		return (int)ret;
	fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	while (fd >= 0 && *path) {
		size_t len = (size_t)(strchrnul(path, '/') - path);

		if (len > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, path, len);
		comp[len] = '\0';
		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
				close(fd);
				errno = ELOOP;
				return -1;
			}
		}
		path += len;
		while (*path == '/')
			path++;
	}
	return fd;
}

enum create { CREATE_NONE, CREATE_DIR, CREATE_FILE };

static int fail_dest(struct keel_child_report *rep, int errnum, const char *step, const char *dest)
{
	keel_report_fail(rep, KEEL_ERROR_CHILD, errnum, step, dest);
	if (errnum == EXDEV)
		keel_report_append(rep, ": refused, the path leads out of the rootfs through a symlink");
	return -errnum;
}

/*
 * Open dest (absolute, normalized) inside the root, creating what is
 * missing: directories along the way and, as asked, the last component.
 * Every prefix is reopened through open_beneath(), so a created directory
 * can never be redirected by a symlink swapped in meanwhile.
 */
static int open_dest(int rootfd, const char *dest, enum create create, const char *step,
		     struct keel_child_report *rep)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd, parent, made, missing = 0;

	fd = open_beneath(rootfd, dest + 1);
	if (fd >= 0 || errno != ENOENT || create == CREATE_NONE)
		return fd >= 0 ? fd : fail_dest(rep, errno, step, dest);
	keel_strlcpy(buf, dest + 1, sizeof(buf));
	/* Usually only the last component is missing (/dev/pts in a fresh
	 * /dev): start from its parent when that exists. */
	slash = strrchr(buf, '/');
	parent = -1;
	if (slash) {
		*slash = '\0';
		parent = open_beneath(rootfd, buf);
		*slash = '/';
	}
	if (parent >= 0) {
		comp = slash + 1;
		missing = 1; /* buf itself was just looked up: ENOENT */
	} else {
		parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
		comp = buf;
	}
	while (parent >= 0) {
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (missing && !slash) {
			fd = -1;
			errno = ENOENT;
		} else {
			fd = open_beneath(rootfd, buf);
		}
		if (fd < 0 && errno == ENOENT) {
			if (!slash && create == CREATE_FILE) {
				made = openat(parent, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (made >= 0)
					close(made);
			} else {
				made = mkdirat(parent, comp, 0755);
			}
			if (made < 0 && errno != EEXIST) {
				int e = errno;
				close(parent);
				return fail_dest(rep, e, "create mount destination", dest);
			}
			fd = open_beneath(rootfd, buf);
		}
		if (fd < 0) {
			int e = errno;
			close(parent);
			return fail_dest(rep, e, step, dest);
		}
		close(parent);
		parent = fd;
		if (!slash)
			return fd;
		*slash = '/';
		comp = slash + 1;
	}
	return fail_dest(rep, errno, step, dest);
}

/*
 * The flags of a bind, and propagation, once the mount is made. fd is the
 * new mount's root when the caller has it open (an anchor), else -1.
 */
static int set_attr(int rootfd, int fd, const struct plan_entry *e, struct keel_child_report *rep)
{
	unsigned flags = AT_EMPTY_PATH | (e->recursive ? AT_RECURSIVE : 0);
	int own = fd < 0, ret = 0;

	if (!e->attr.attr_set && !e->attr.attr_clr && !e->attr.propagation)
		return 0;
	/* Reopen: the fd used for the mount refers to what is now underneath. */
	if (own && (fd = open_beneath(rootfd, e->dest_rel)) < 0)
		return fail_dest(rep, errno, "reopen mount", e->dest);
	if (keel_sys_mount_setattr(fd, "", flags, (struct mount_attr *)&e->attr, sizeof(e->attr)) < 0)
		ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "set the flags of the mount on", e->dest);
	if (own)
		close(fd);
	return ret;
}

/* Attach a detached (idmapped) tree. A clone is attached when the kernel
 * allows it, so that one plan can serve several children. */
static int attach_tree(int tree, int dirfd, const char *path, unsigned to_flags)
{
	int clone = keel_sys_open_tree(tree, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	int ret;

	ret = keel_sys_move_mount(clone >= 0 ? clone : tree, "", dirfd, path, MOVE_MOUNT_F_EMPTY_PATH | to_flags);
	if (clone >= 0) {
		int e = errno;
		close(clone);
		errno = e;
	}
	return ret;
}

/*
 * The roots of the fresh filesystems the plan mounted (see MAX_ANCHORS),
 * by slot, and which of them is the working directory: mount(2) takes a
 * path, and a name relative to the working directory costs no O_PATH fd
 * and no walk through /proc/self/fd.
 */
struct anchors {
	int fd[MAX_ANCHORS];
	unsigned char trusted[MAX_ANCHORS];     /* mount(2) by name is safe there */
	int cwd;                /* a slot, or -1 */
	const unsigned long *magic;
};

static int is_trusted(const struct anchors *a, int slot)
{
	return slot >= 0 && a->trusted[slot];
}

static int anchor_chdir(struct anchors *a, int slot)
{
	if (a->cwd == slot)
		return 0;
	if (fchdir(a->fd[slot]) < 0)
		return -1;
	a->cwd = slot;
	return 0;
}

/* Whether fd, found by name in the image, is a filesystem of the kernel's
 * own type magic (proc, sysfs): whatever mount it is, nobody but the kernel
 * makes names in it (see MAX_ANCHORS). */
static int anchor_is_kernels(int fd, unsigned long magic)
{
	struct statfs sfs;

	return magic && fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == magic;
}

/*
 * The mount point of an anchored entry, made by name in its anchor if it
 * is missing. 1: it is there and is no symlink; 0: it is a symlink, which
 * the general route resolves (and refuses if it leads out); < 0: failed.
 */
static int make_at_anchor(int dir, const struct plan_entry *e, struct keel_child_report *rep)
{
	struct stat st;
	int fd;

	if (e->bind && !e->source_is_dir) {
		fd = openat(dir, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			close(fd);
			return 1;
		}
	} else if (mkdirat(dir, e->name, 0755) == 0) {
		return 1;
	}
	if (errno != EEXIST)
		return fail_dest(rep, errno, "create mount destination", e->dest);
	if (fstatat(dir, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail_dest(rep, errno, e->step, e->dest);
	return !S_ISLNK(st.st_mode);
}

/* An anchored entry's mount, on its name in the anchor (the working
 * directory). Its flags are set through the same name: the lookup crosses
 * into the mount just made. */
static int mount_at_anchor(struct anchors *a, const struct plan_entry *e, struct keel_child_report *rep)
{
	unsigned flags = AT_SYMLINK_NOFOLLOW | (e->recursive ? AT_RECURSIVE : 0);
	unsigned long bind = MS_BIND | (e->recursive ? MS_REC : 0);
	int dir = a->fd[e->anchor], fd, ret;
	struct fdpath fp;

	if (e->tree_fd >= 0) {
		ret = attach_tree(e->tree_fd, dir, e->name, 0);
	} else if (!a->trusted[e->anchor]) {
		/* mount(2) follows a symlink: not by name here (see MAX_ANCHORS) */
		if ((fd = open_beneath(dir, e->name)) < 0)
			return fail_dest(rep, errno, e->step, e->dest);
		if (e->bind)
			ret = mount(e->source, fd_path(fd, &fp), NULL, bind, NULL);
		else
			ret = mount(e->source, fd_path(fd, &fp), e->type, e->msflags, e->data);
		if (ret < 0)
			ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, e->step, e->dest);
		close(fd);
		if (ret < 0)
			return ret;
	} else if (anchor_chdir(a, e->anchor) < 0) {
		ret = -1;
	} else if (e->bind) {
		ret = mount(e->source, e->name, NULL, bind, NULL);
	} else {
		ret = mount(e->source, e->name, e->type, e->msflags, e->data);
	}
	if (ret < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, e->step, e->dest);
	if (e->slot < 0 && (e->attr.attr_set || e->attr.attr_clr || e->attr.propagation) &&
	    keel_sys_mount_setattr(dir, e->name, flags, (struct mount_attr *)&e->attr, sizeof(e->attr)) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "set the flags of the mount on", e->dest);
	return 0;
}

/* The general route: dest looked up beneath the root, the mount made on
 * the O_PATH fd through /proc/self/fd. */
static int mount_beneath(int rootfd, const struct plan_entry *e, struct keel_child_report *rep)
{
	enum create create = e->bind && !e->source_is_dir ? CREATE_FILE : CREATE_DIR;
	struct fdpath fp;
	int fd, ret;

	fd = open_dest(rootfd, e->dest, create, e->step, rep);
	if (fd < 0)
		return fd;
	if (e->tree_fd >= 0)
		ret = attach_tree(e->tree_fd, fd, "", MOVE_MOUNT_T_EMPTY_PATH);
	else if (e->bind)
		ret = mount(e->source, fd_path(fd, &fp), NULL, MS_BIND | (e->recursive ? MS_REC : 0), NULL);
	else
		ret = mount(e->source, fd_path(fd, &fp), e->type, e->msflags, e->data);
	if (ret < 0)
		ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, e->step, e->dest);
	close(fd);
	return ret;
}

static int apply_mount(int rootfd, struct anchors *a, const struct plan_entry *e, struct keel_child_report *rep)
{
	int at = 0, fd = -1, ret;

	if (e->anchor >= 0 && (at = make_at_anchor(a->fd[e->anchor], e, rep)) < 0)
		return at;
	ret = at ? mount_at_anchor(a, e, rep) : mount_beneath(rootfd, e, rep);
	if (ret < 0)
		return ret;
	if (e->slot >= 0) {
		/* The root of the new mount, reached the way the mount point
		 * was: by name in the anchor, or beneath the root. */
		if (at)
			fd = openat(a->fd[e->anchor], e->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else
			fd = open_beneath(rootfd, e->dest_rel);
		if (fd < 0)
			return fail_dest(rep, errno, "reopen mount", e->dest);
		a->fd[e->slot] = fd;
		a->trusted[e->slot] = at ? a->trusted[e->anchor] : anchor_is_kernels(fd, a->magic[e->slot]);
	} else if (at) {
		return 0;
	}
	return set_attr(rootfd, fd, e, rep);
}

/*
 * The directory of the last device or symlink entry, kept open for the
 * next one: the default /dev has eleven of them in a row, and each used to
 * look "dev" up again. Dropped before any mount, which could cover it.
 */
struct dir_cache {
	const char *rel;	/* dir_rel of the entry it was opened for */
	int fd;
};

static void dir_cache_drop(struct dir_cache *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rel = NULL;
}

/* The entry's parent directory: its anchor (the default /dev), or opened
 * (and created) once per run of entries in the same directory. The fd
 * belongs to the anchors or the cache. */
static int open_parent(int rootfd, const struct anchors *a, const struct plan_entry *e, struct dir_cache *c,
		       struct keel_child_report *rep)
{
	char dir[PATH_MAX];
	int fd;

	if (e->anchor >= 0)
		return a->fd[e->anchor];
	if (c->fd >= 0 && strcmp(c->rel, e->dir_rel) == 0)
		return c->fd;
	dir_cache_drop(c);
	keel_strlcpy(dir, "/", sizeof(dir));
	keel_strlcat(dir, e->dir_rel, sizeof(dir));
	if (!*e->dir_rel)
		fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	else
		fd = open_dest(rootfd, dir, CREATE_DIR, e->step, rep);
	if (fd >= 0) {
		c->fd = fd;
		c->rel = e->dir_rel;
	}
	return fd;
}

/* A device node; where mknod is not allowed (a user namespace), an empty
 * file with the host's device bound onto it, as runc does. */
static int apply_device(int rootfd, const struct anchors *a, const struct plan_entry *e, struct dir_cache *c,
			struct keel_child_report *rep)
{
	struct fdpath fp;
	int dir, fd, ret = 0;

	if ((dir = open_parent(rootfd, a, e, c, rep)) < 0)
		return dir;
	/* The umask is 0 here (keel_mount_plan_apply()): the node gets
	 * e->mode exactly. */
	if (mknodat(dir, e->name, e->mode, e->rdev) == 0) {
		if (e->chown && fchownat(dir, e->name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "chown device", e->dest);
	} else if (errno == EPERM || errno == EACCES || errno == EOVERFLOW) {
		/* EOVERFLOW: in a user namespace whose ids the filesystem cannot
		 * represent; the bind of the host's node still works. */
		fd = openat(dir, e->name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0)
			ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "create device placeholder", e->dest);
		else if (close(fd), (fd = openat(dir, e->name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0)
			ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "open device placeholder", e->dest);
		else {
			if (mount(e->source, fd_path(fd, &fp), NULL, MS_BIND, NULL) < 0)
				ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "bind the host's device on", e->dest);
			close(fd);
		}
	} else if (errno != EEXIST) {
		ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "make device", e->dest);
	}
	return ret;
}

static int apply_symlink(int rootfd, const struct anchors *a, const struct plan_entry *e, struct dir_cache *c,
			 struct keel_child_report *rep)
{
	int dir, ret = 0;

	if ((dir = open_parent(rootfd, a, e, c, rep)) < 0)
		return dir;
	if (symlinkat(e->source, dir, e->name) < 0 && errno != EEXIST)
		ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "make symlink", e->dest);
	return ret;
}

/* rel without its leading '/': rebuild "/rel" for the report. */
static int fail_path(struct keel_child_report *rep, int errnum, const char *step, const char *rel)
{
	char path[PATH_MAX];

	keel_strlcpy(path, "/", sizeof(path));
	keel_strlcat(path, rel, sizeof(path));
	return fail_dest(rep, errnum, step, path);
}

static int mask_path(int rootfd, const char *rel, struct keel_child_report *rep)
{
	struct fdpath fp;
	struct stat st;
	int fd, ret = 0;

	fd = open_beneath(rootfd, rel);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_path(rep, errno, "mask", rel);
	if (fstat(fd, &st) < 0)
		ret = fail_path(rep, errno, "mask", rel);
	else if (S_ISDIR(st.st_mode))
		ret = mount("tmpfs", fd_path(fd, &fp), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "size=0,mode=555");
	else
		ret = mount("/dev/null", fd_path(fd, &fp), NULL, MS_BIND, NULL);
	if (ret < 0)
		ret = fail_path(rep, errno, "mask", rel);
	close(fd);
	return ret;
}

/*
 * A read-only copy of the tree at rel, attached over it: a detached clone
 * (open_tree) takes the flag before it is attached, so nothing is looked up
 * twice. Kernels without open_tree bind the path onto itself and reopen it.
 */
static int readonly_path(int rootfd, const char *rel, struct keel_child_report *rep)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	struct fdpath fp;
	int fd, tree, ret;

	fd = open_beneath(rootfd, rel);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail_path(rep, errno, "make read-only", rel);
	tree = keel_sys_open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree >= 0) {
		ret = keel_sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
		if (ret < 0)
			ret = fail_path(rep, errno, "make read-only", rel);
		else if (keel_sys_move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			ret = fail_path(rep, errno, "make read-only (attach)", rel);
		close(tree);
		close(fd);
		return ret;
	}
	if (errno != ENOSYS) {
		ret = fail_path(rep, errno, "make read-only (clone)", rel);
		close(fd);
		return ret;
	}
	ret = mount(fd_path(fd, &fp), fp.s, NULL, MS_BIND | MS_REC, NULL);
	close(fd);
	if (ret < 0)
		return fail_path(rep, errno, "make read-only (bind)", rel);
	fd = open_beneath(rootfd, rel);
	if (fd < 0)
		return fail_path(rep, errno, "make read-only (reopen)", rel);
	ret = keel_sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
	close(fd);
	return ret < 0 ? fail_path(rep, errno, "make read-only", rel) : 0;
}

/*
 * A masked path one name below a fresh filesystem's root: stat by name
 * (not following a symlink) to choose a tmpfs or /dev/null, mount by name.
 * A symlink (the plan's own /dev/fd, a /proc/net) takes the general route,
 * which follows it as far as it stays inside the rootfs.
 */
static int mask_at_anchor(int rootfd, struct anchors *a, const struct plan_path *pp,
			  struct keel_child_report *rep)
{
	struct stat st;
	int ret;

	if (fstatat(a->fd[pp->anchor], pp->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : fail_path(rep, errno, "mask", pp->rel);
	if (S_ISLNK(st.st_mode))
		return mask_path(rootfd, pp->rel, rep);
	if (anchor_chdir(a, pp->anchor) < 0)
		ret = -1;
	else if (S_ISDIR(st.st_mode))
		ret = mount("tmpfs", pp->name, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			    "size=0,mode=555");
	else
		ret = mount("/dev/null", pp->name, NULL, MS_BIND, NULL);
	return ret < 0 ? fail_path(rep, errno, "mask", pp->rel) : 0;
}

/*
 * A read-only path one name below a fresh filesystem's root: a recursive
 * bind of the name onto itself, then the flag on the new mount, both by
 * name. In proc and sysfs the names are the kernel's (their symlinks are
 * relative, inside the filesystem, as the general route would follow
 * them): no stat first. Elsewhere a symlink takes the general route.
 */
static int readonly_at_anchor(int rootfd, struct anchors *a, const struct plan_path *pp,
			      struct keel_child_report *rep)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int kernel_only = a->magic[pp->anchor] != 0;
	unsigned nofollow = 0;
	struct stat st;

	if (!kernel_only) {
		if (fstatat(a->fd[pp->anchor], pp->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : fail_path(rep, errno, "make read-only", pp->rel);
		if (S_ISLNK(st.st_mode))
			return readonly_path(rootfd, pp->rel, rep);
		nofollow = AT_SYMLINK_NOFOLLOW;
	}
	if (anchor_chdir(a, pp->anchor) < 0)
		return fail_path(rep, errno, "make read-only", pp->rel);
	if (mount(pp->name, pp->name, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT && kernel_only ? 0 : fail_path(rep, errno, "make read-only (bind)", pp->rel);
	if (keel_sys_mount_setattr(AT_FDCWD, pp->name, AT_RECURSIVE | nofollow, &attr, sizeof(attr)) < 0)
		return fail_path(rep, errno, "make read-only", pp->rel);
	return 0;
}

/*
 * Whether we still are in the initial user namespace, whose uid_map is the
 * identity "0 0 4294967295". Read into a stack buffer: no allocation.
 */
static int in_initial_userns(void)
{
	char buf[128], *p = buf;
	ssize_t n;
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	while (*p == ' ')
		p++;
	if (strncmp(p, "0 ", 2) != 0)
		return 0;
	for (p += 2; *p == ' '; p++)
		;
	if (strncmp(p, "0 ", 2) != 0)
		return 0;
	for (p += 2; *p == ' '; p++)
		;
	return strncmp(p, "4294967295", 10) == 0;
}

/*
 * In a user namespace overlayfs may not write trusted.* xattrs, and
 * without them it cannot mark a directory opaque (a directory removed and
 * made again would show the layer's old entries): there, userxattr (the
 * user.overlay.* xattrs) comes first. Each variant is tried if the other
 * is refused.
 */
/* The overlay through the new mount API, one lower dir per fsconfig call
 * (for more layers than one page of options holds: mount-plan.c). */
static int mount_overlay_fsconfig(const struct keel_mount_plan *p, int userxattr)
{
	int fd = keel_sys_fsopen("overlay", FSOPEN_CLOEXEC), mfd = -1, ret = -1, e;
	size_t i;

	if (fd < 0)
		return -1;
	for (i = 0; p->ovl_lowers[i]; i++)
		if (keel_sys_fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", p->ovl_lowers[i], 0) < 0)
			goto out;
	if (keel_sys_fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", p->ovl_upper, 0) < 0 ||
	    keel_sys_fsconfig(fd, FSCONFIG_SET_STRING, "workdir", p->work, 0) < 0 ||
	    (userxattr && keel_sys_fsconfig(fd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    keel_sys_fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mfd = keel_sys_fsmount(fd, FSMOUNT_CLOEXEC, 0)) < 0)
		goto out;
	ret = keel_sys_move_mount(mfd, "", AT_FDCWD, p->root, MOVE_MOUNT_F_EMPTY_PATH);
out:
	e = errno;
	if (mfd >= 0)
		close(mfd);
	close(fd);
	errno = e;
	return ret;
}

static int mount_overlay(const struct keel_mount_plan *p)
{
	const char *first = p->overlay_opts, *second = p->overlay_opts_userxattr;

	if (p->ovl_lowers) {
		int userxattr = !in_initial_userns();

		if (mount_overlay_fsconfig(p, userxattr) == 0)
			return 0;
		if (errno != EPERM && errno != EINVAL)
			return -1;
		return mount_overlay_fsconfig(p, !userxattr);
	}

	if (!in_initial_userns()) {
		first = p->overlay_opts_userxattr;
		second = p->overlay_opts;
	}
	if (mount("overlay", p->root, "overlay", 0, first) == 0)
		return 0;
	if (errno != EPERM && errno != EINVAL)
		return -1;
	return mount("overlay", p->root, "overlay", 0, second);
}

/*
 * Whether overlayfs, mounted in this user namespace, could keep its marks
 * in user.* xattrs on the writable layer's filesystem. Asked of the kernel
 * the way overlayfs itself asks it: set one on the workdir. Where the
 * filesystem has none (tmpfs before Linux 6.6), overlayfs still mounts, only
 * logging "failed to set xattr on upper", and then every rmdir of a
 * directory from a layer, and every mkdir over one, fails with EIO inside
 * the container: refuse here, where the cause can still be named.
 * Any error but EOPNOTSUPP is left for the mount to report.
 */
static int upper_lacks_user_xattrs(const struct keel_mount_plan *p)
{
	static const char probe[] = "user.keel.probe";

	if (setxattr(p->work, probe, "1", 1, 0) == 0) {
		removexattr(p->work, probe);
		return 0;
	}
	return errno == EOPNOTSUPP;
}

static int mount_root(const struct keel_mount_plan *p, struct keel_child_report *rep)
{
	size_t i;

	for (i = 0; i < p->n_lower; i++)
		if (attach_tree(p->lower_fd[i], AT_FDCWD, p->lower_mnt[i], 0) < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "attach idmapped layer on",
						p->lower_mnt[i]);
	if (p->overlay_opts) {
		if (!in_initial_userns() && upper_lacks_user_xattrs(p)) {
			keel_report_fail(rep, KEEL_ERROR_UNSUPPORTED, EOPNOTSUPP, "mount overlay on", p->root);
			keel_report_append(rep, ": in a user namespace overlayfs needs user.* extended attributes, "
					   "which the filesystem of the writable layer does not support "
					   "(tmpfs has them since Linux 6.6)");
			return -EOPNOTSUPP;
		}
		if (mount_overlay(p) < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "mount overlay on", p->root);
		return 0;
	}
	/* A directory becomes a mount point by a bind onto itself: pivot_root needs one. */
	if (p->root_tree_fd >= 0) {
		if (attach_tree(p->root_tree_fd, AT_FDCWD, p->root, 0) < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "attach idmapped rootfs on", p->root);
	} else if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "bind rootfs on", p->root);
	}
	return 0;
}

/* Why the fallback ran: a failure there would otherwise name a step the
 * caller never asked for. */
static int fail_fallback(struct keel_child_report *rep, int e, const char *step, const char *root)
{
	keel_report_fail(rep, KEEL_ERROR_CHILD, e, step, root);
	keel_report_append(rep, ": the fallback for a root that pivot_root refuses (Invalid argument: "
			   "the initramfs, or a chroot on a shared mount) failed");
	return -e;
}

/*
 * Make rootfd the root: pivot_root(".", ".") stacks the old root on top of
 * the new one, and the lazy umount takes it (and every host mount under
 * it) away. pivot_root fails with EINVAL when the current root is the
 * initramfs, which cannot be unmounted, or a chroot whose parent mount is
 * shared: move the new root over "/" and chroot into it instead. There the
 * old root's mounts stay in the namespace, under the new root: a process
 * that keeps CAP_SYS_CHROOT can climb back to them, as out of any chroot;
 * and a process that joins the namespace later (setns) starts on top of
 * its root mount: this rootfs for the initramfs, the host's / for a chroot.
 */
static int enter_root(const struct keel_mount_plan *p, int rootfd, struct keel_child_report *rep)
{
	if (fchdir(rootfd) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "chdir into the rootfs", p->root);
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "detach the old root from", p->root);
	} else if (errno == EINVAL) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return fail_fallback(rep, errno, "move the rootfs to / from", p->root);
		if (chroot(".") < 0)
			return fail_fallback(rep, errno, "chroot into", p->root);
	} else {
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "pivot_root into", p->root);
	}
	if (chdir("/") < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "chdir", "/");
	return 0;
}

static int finish_root(const struct keel_mount_plan *p, struct keel_child_report *rep)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	/* Only the root mount: /proc, /dev and the table keep their flags. */
	if (p->readonly && keel_sys_mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0 &&
	    (errno != ENOSYS || mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0))
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "make the rootfs read-only", "/");
	if (p->shared_after && mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "make the mount tree shared", "/");
	return 0;
}

int keel_mount_plan_apply(const struct keel_mount_plan *p, struct keel_child_report *rep)
{
	struct dir_cache dirs = { NULL, -1 };
	struct anchors anchors = { .cwd = -1, .magic = p->slot_magic };
	mode_t old_umask;
	size_t i;
	int rootfd, ret = 0;

	/* First, so that nothing below can propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | p->root_propagation, NULL) < 0) {
		int e = errno;

		keel_report_fail(rep, KEEL_ERROR_CHILD, e, "make the mount tree",
				 p->root_propagation == MS_PRIVATE ? "rprivate" : "rslave");
		/* Propagation is set on a mount's root only, and the mount
		 * above a plain chroot directory is out of reach: refuse,
		 * saying how to make the chroot one that works. */
		if (e == EINVAL)
			keel_report_append(rep, ": the current root is not a mount point (a chroot into a "
					   "plain directory? bind-mount the directory onto itself first)");
		return -e;
	}
	if ((ret = mount_root(p, rep)) < 0)
		return ret;
	for (i = 0; i < MAX_ANCHORS; i++)
		anchors.fd[i] = -1;
	rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "open the rootfs", p->root);
	/* Devices, directories and files made below get the modes the plan
	 * says, not what the caller's umask leaves of them: one umask() for
	 * all, rather than a chmod after every mknod. */
	old_umask = umask(0);
	for (i = 0; i < p->n && ret == 0; i++) {
		const struct plan_entry *e = &p->e[i];

		if (e->kind == ENTRY_DEVICE) {
			ret = apply_device(rootfd, &anchors, e, &dirs, rep);
		} else if (e->kind == ENTRY_SYMLINK) {
			ret = apply_symlink(rootfd, &anchors, e, &dirs, rep);
		} else {
			dir_cache_drop(&dirs);
			ret = apply_mount(rootfd, &anchors, e, rep);
		}
	}
	dir_cache_drop(&dirs);
	umask(old_umask);
	for (i = 0; i < p->n_masked && ret == 0; i++)
		ret = is_trusted(&anchors, p->masked[i].anchor) ? mask_at_anchor(rootfd, &anchors, &p->masked[i], rep)
								: mask_path(rootfd, p->masked[i].rel, rep);
	for (i = 0; i < p->n_ro && ret == 0; i++)
		ret = is_trusted(&anchors, p->ro[i].anchor) ? readonly_at_anchor(rootfd, &anchors, &p->ro[i], rep)
							    : readonly_path(rootfd, p->ro[i].rel, rep);
	for (i = 0; i < MAX_ANCHORS; i++)
		if (anchors.fd[i] >= 0)
			close(anchors.fd[i]);
	/* enter_root() starts with fchdir(rootfd): the working directory
	 * left in an anchor does not outlive the plan. */
	if (ret == 0)
		ret = enter_root(p, rootfd, rep);
	close(rootfd);
	return ret < 0 ? ret : finish_root(p, rep);
}
