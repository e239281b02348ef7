/*
 * mount: the plan, made in the parent from a keel_rootfs
 * (keel_mount_plan_prepare): every path checked, the writable layer's
 * directories made, option strings and flags computed, idmapped trees
 * opened. src/child/mount.c replays it. See mount.c for the whole
 * subsystem.
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

/* ------------------------------------------------------------- the plan --- */

void keel_mount_plan_free(struct keel_mount_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		struct plan_entry *e = &p->e[i];
		free(e->step);
		free(e->type);
		free(e->source);
		free(e->dest);
		free(e->data);
		free(e->dir_rel);
		free(e->name);
		if (e->tree_fd >= 0)
			close(e->tree_fd);
	}
	free(p->e);
	for (i = 0; i < p->n_lower; i++) {
		free(p->lower_mnt[i]);
		if (p->lower_fd[i] >= 0)
			close(p->lower_fd[i]);
	}
	free(p->lower_mnt);
	free(p->lower_fd);
	for (i = 0; i < p->n_masked; i++)
		free(p->masked[i].rel);
	for (i = 0; i < p->n_ro; i++)
		free(p->ro[i].rel);
	free(p->masked);
	free(p->ro);
	if (p->root_tree_fd >= 0)
		close(p->root_tree_fd);
	free(p->root);
	free(p->overlay_opts);
	free(p->overlay_opts_userxattr);
	free(p->work);
	free(p);
}

static int stat_dir(const char *what, const char *path, keel_error **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return keel_error_sys(err, errno, "rootfs: %s %s", what, path);
	if (!S_ISDIR(st.st_mode))
		return keel_error_sys(err, ENOTDIR, "rootfs: %s %s", what, path);
	return 0;
}

/*
 * An idmapped copy of the mount at src, detached: made here, in the parent,
 * because only a caller privileged over src's filesystem may idmap it; the
 * child attaches it inside its own mount namespace.
 */
static int make_idmapped_tree(int userns_fd, const char *what, const char *src, int recursive,
			      int *out, keel_error **err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd };
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	int fd, e;

	fd = keel_sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (fd < 0) {
		e = errno;
		if (e == ENOSYS)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, e,
					      "rootfs: %s %s: idmapped mounts need open_tree() (Linux 5.12)",
					      what, src);
		return keel_error_sys(err, e, "rootfs: %s %s: clone the mount for idmapping", what, src);
	}
	if (keel_sys_mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
		e = errno;
		close(fd);
		if (e == EINVAL)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, e,
					      "rootfs: %s %s: idmap: the filesystem does not support idmapped "
					      "mounts, or the user namespace has no uid/gid maps", what, src);
		if (e == ENOSYS)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, e,
					      "rootfs: %s %s: idmapped mounts need mount_setattr() (Linux 5.12)",
					      what, src);
		return keel_error_sys(err, e, "rootfs: %s %s: idmap", what, src);
	}
	*out = fd;
	return 0;
}

static int prepare_overlay(const keel_rootfs *r, struct keel_mount_plan *p, keel_error **err)
{
	char *upper = NULL, *work = NULL, *lowerbase = NULL;
	size_t i, len, n = r->layers.n;
	int ret = 0;
	char *o;

	if (!r->upper_base)
		return keel_error_invalid(err, "rootfs: %zu layers but no place for the writable layer "
					  "(call keel_rootfs_set_upper_base())", n);
	for (i = 0; i < n; i++)
		if ((ret = stat_dir("layer", r->layers.v[i], err)) < 0)
			return ret;
	upper = base_path(r->upper_base, "upper");
	work = base_path(r->upper_base, "work");
	p->root = base_path(r->upper_base, "merged");
	lowerbase = base_path(r->upper_base, "lower");
	if (!upper || !work || !p->root || !lowerbase) {
		ret = keel_error_sys(err, ENOMEM, "rootfs: overlay");
		goto out;
	}
	if ((ret = keel_mkdir_p(upper, 0755, err)) < 0 || (ret = keel_mkdir_p(work, 0755, err)) < 0 ||
	    (ret = keel_mkdir_p(p->root, 0755, err)) < 0)
		goto wrap;

	if (r->idmap_layers) {
		p->lower_mnt = calloc(n, sizeof(*p->lower_mnt));
		p->lower_fd = malloc(n * sizeof(*p->lower_fd));
		if (!p->lower_mnt || !p->lower_fd) {
			ret = keel_error_sys(err, ENOMEM, "rootfs: overlay");
			goto out;
		}
		for (i = 0; i < n; i++)
			p->lower_fd[i] = -1;
		p->n_lower = n;
		for (i = 0; i < n; i++) {
			char num[24];

			snprintf(num, sizeof(num), "%zu", i);
			if (!(p->lower_mnt[i] = base_path(lowerbase, num))) {
				ret = keel_error_sys(err, ENOMEM, "rootfs: overlay");
				goto out;
			}
			if ((ret = keel_mkdir_p(p->lower_mnt[i], 0755, err)) < 0)
				goto wrap;
			if ((ret = make_idmapped_tree(r->idmap_fd, "layer", r->layers.v[i], 0,
						      &p->lower_fd[i], err)) < 0)
				goto out;
		}
	}

	/* lowerdir lists the top layer first: the reverse of the order added. */
	len = strlen("lowerdir=,upperdir=,workdir=,userxattr") + strlen(upper) + strlen(work) + 1;
	for (i = 0; i < n; i++)
		len += strlen(p->lower_mnt ? p->lower_mnt[i] : r->layers.v[i]) + 1;
	if (len > MOUNT_DATA_MAX) {
		ret = keel_error_set(err, KEEL_ERROR_INVALID, E2BIG,
				     "rootfs: overlay of %zu layers: the mount options would be %zu bytes, "
				     "more than the kernel's %d (use shorter layer paths)", n, len, MOUNT_DATA_MAX);
		goto out;
	}
	o = p->overlay_opts = malloc(len);
	p->overlay_opts_userxattr = malloc(len);
	if (!o || !p->overlay_opts_userxattr) {
		ret = keel_error_sys(err, ENOMEM, "rootfs: overlay");
		goto out;
	}
	o += sprintf(o, "lowerdir=");
	for (i = n; i-- > 0;)
		o += sprintf(o, "%s%s", p->lower_mnt ? p->lower_mnt[i] : r->layers.v[i], i ? ":" : "");
	sprintf(o, ",upperdir=%s,workdir=%s", upper, work);
	sprintf(p->overlay_opts_userxattr, "%s,userxattr", p->overlay_opts);
	p->work = work;
	work = NULL;
	goto out;
wrap:
	keel_error_wrap(err, ret, "rootfs: writable layer");
out:
	free(upper);
	free(work);
	free(lowerbase);
	return ret;
}

static int prepare_root(const keel_rootfs *r, struct keel_mount_plan *p, keel_error **err)
{
	int ret;

	if (!r->directory && !r->layers.n)
		return keel_error_invalid(err, "rootfs: no directory and no layers (call "
					  "keel_rootfs_set_directory() or keel_rootfs_add_layer())");
	if (r->idmap_layers && r->idmap_fd < 0)
		return keel_error_invalid(err, "rootfs: idmapped layers need a user namespace "
					  "(call keel_rootfs_set_idmap())");
	if (!r->directory)
		return prepare_overlay(r, p, err);
	if ((ret = stat_dir("directory", r->directory, err)) < 0)
		return ret;
	if (!(p->root = strdup(r->directory)))
		return keel_error_sys(err, ENOMEM, "rootfs: directory %s", r->directory);
	if (r->idmap_layers)
		return make_idmapped_tree(r->idmap_fd, "directory", r->directory, 1, &p->root_tree_fd, err);
	return 0;
}

static uint64_t mount_attr_of(unsigned f)
{
	uint64_t a = 0;

	if (f & KEEL_MOUNT_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (f & KEEL_MOUNT_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (f & KEEL_MOUNT_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (f & KEEL_MOUNT_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (f & KEEL_MOUNT_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	if (f & KEEL_MOUNT_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	return a; /* MOUNT_ATTR_RELATIME is 0: it is the cleared atime field */
}

static unsigned long ms_flags_of(unsigned f)
{
	unsigned long m = 0;

	if (f & KEEL_MOUNT_RDONLY)
		m |= MS_RDONLY;
	if (f & KEEL_MOUNT_NOSUID)
		m |= MS_NOSUID;
	if (f & KEEL_MOUNT_NODEV)
		m |= MS_NODEV;
	if (f & KEEL_MOUNT_NOEXEC)
		m |= MS_NOEXEC;
	if (f & KEEL_MOUNT_RELATIME)
		m |= MS_RELATIME;
	if (f & KEEL_MOUNT_NOATIME)
		m |= MS_NOATIME;
	if (f & KEEL_MOUNT_STRICTATIME)
		m |= MS_STRICTATIME;
	return m;
}

static unsigned long propagation_of(unsigned f)
{
	if (f & KEEL_MOUNT_PRIVATE)
		return MS_PRIVATE;
	if (f & KEEL_MOUNT_SLAVE)
		return MS_SLAVE;
	if (f & KEEL_MOUNT_SHARED)
		return MS_SHARED;
	if (f & KEEL_MOUNT_UNBINDABLE)
		return MS_UNBINDABLE;
	return 0;
}

/* "/dev/null" -> dir_rel "dev", name "null" (dir_rel "" for the root). */
static int split_dest(struct plan_entry *pe)
{
	const char *slash = strrchr(pe->dest, '/');

	pe->dir_rel = strndup(pe->dest + 1, (size_t)(slash - pe->dest) - (slash > pe->dest ? 1 : 0));
	pe->name = strdup(slash + 1);
	return pe->dir_rel && pe->name ? 0 : -ENOMEM;
}

static int prepare_entry(const keel_rootfs *r, const struct entry *e, struct plan_entry *pe, keel_error **err)
{
	struct stat st;
	size_t len;

	pe->kind = e->kind;
	pe->tree_fd = -1;
	pe->anchor = -1;
	pe->slot = -1;
	pe->bind = e->kind == ENTRY_MOUNT && !e->type;
	pe->recursive = !!(e->flags & KEEL_MOUNT_RECURSIVE);
	if ((e->type && !(pe->type = strdup(e->type))) || (e->source && !(pe->source = strdup(e->source))) ||
	    (e->data && !(pe->data = strdup(e->data))) || !(pe->dest = strdup(e->dest)))
		return keel_error_sys(err, ENOMEM, "rootfs: mount on %s", e->dest);
	pe->dest_rel = pe->dest + 1;
	if (split_dest(pe) < 0)
		return keel_error_sys(err, ENOMEM, "rootfs: mount on %s", e->dest);
	len = strlen(e->dest) + (e->source ? strlen(e->source) : 0) + (e->type ? strlen(e->type) : 0) + 32;
	if (!(pe->step = malloc(len)))
		return keel_error_sys(err, ENOMEM, "rootfs: mount on %s", e->dest);

	switch (e->kind) {
	case ENTRY_DEVICE:
		keel_strlcpy(pe->step, "make device", len);
		pe->rdev = makedev(e->major, e->minor);
		pe->mode = (e->devtype ? e->devtype : S_IFCHR) | (e->mode & 07777);
		pe->chown = e->chown;
		pe->uid = e->uid;
		pe->gid = e->gid;
		return 0;
	case ENTRY_SYMLINK:
		keel_strlcpy(pe->step, "make symlink", len);
		return 0;
	case ENTRY_MOUNT:
		break;
	}

	pe->attr.propagation = propagation_of(e->flags);
	if (!pe->bind) {
		keel_str_join_buf(pe->step, len, "mount ", e->type, " on", NULL);
		pe->msflags = ms_flags_of(e->flags);
		return 0;
	}
	keel_str_join_buf(pe->step, len, "bind ", e->source, " on", NULL);
	if (stat(e->source, &st) < 0)
		return keel_error_sys(err, errno, "rootfs: bind mount on %s: source %s", e->dest, e->source);
	pe->source_is_dir = S_ISDIR(st.st_mode);
	pe->attr.attr_set = mount_attr_of(e->flags);
	if (e->flags & ATIME_FLAGS)
		pe->attr.attr_clr = MOUNT_ATTR__ATIME;
	if (e->flags & KEEL_MOUNT_IDMAP) {
		if (r->idmap_fd < 0)
			return keel_error_invalid(err, "rootfs: bind mount %s on %s: KEEL_MOUNT_IDMAP needs a user "
						  "namespace (call keel_rootfs_set_idmap())", e->source, e->dest);
		return make_idmapped_tree(r->idmap_fd, "bind mount of", e->source, pe->recursive,
					  &pe->tree_fd, err);
	}
	return 0;
}

static int copy_rel_list(const struct path_list *l, struct plan_path **out, size_t *n, keel_error **err)
{
	size_t i;

	if (!l->n)
		return 0;
	if (!(*out = calloc(l->n, sizeof(**out))))
		return keel_error_sys(err, ENOMEM, "rootfs: paths");
	for (i = 0; i < l->n; i++) {
		struct plan_path *pp = &(*out)[i];

		if (!(pp->rel = strdup(l->v[i] + 1)))
			return keel_error_sys(err, ENOMEM, "rootfs: path %s", l->v[i]);
		pp->name = strrchr(pp->rel, '/') ? strrchr(pp->rel, '/') + 1 : pp->rel;
		pp->anchor = -1;
		*n = i + 1;
	}
	return 0;
}

enum fresh { NOT_FRESH, FRESH_PLAN, FRESH_KERNEL };

/*
 * Whether e mounts a new instance of a filesystem that the image cannot
 * write (see MAX_ANCHORS), and who writes it: the kernel alone (proc,
 * sysfs: their few symlinks are the kernel's own, relative, inside the
 * filesystem), or the plan too (tmpfs, devpts, mqueue). None of these
 * takes a path in its source or options, so the child may mount them
 * with a relative target from any working directory.
 */
static enum fresh fresh_kind(const struct plan_entry *e)
{
	if (e->kind != ENTRY_MOUNT || e->bind || e->tree_fd >= 0)
		return NOT_FRESH;
	if (!strcmp(e->type, "proc") || !strcmp(e->type, "sysfs"))
		return FRESH_KERNEL;
	if (!strcmp(e->type, "tmpfs") || !strcmp(e->type, "devpts") || !strcmp(e->type, "mqueue"))
		return FRESH_PLAN;
	return NOT_FRESH;
}

/* Whether the mount point a (no leading '/') is a directory above rel. */
static int is_above(const char *a, const char *rel)
{
	size_t len = strlen(a);

	return strncmp(a, rel, len) == 0 && rel[len] == '/';
}

/*
 * The slot of the anchor for rel (no leading '/'), as the child will find
 * it after the first n_entries entries, n_masked masked and n_ro read-only
 * paths: the latest of those mounts that lies above rel must be a fresh
 * filesystem mounted on rel's parent directory. Any later mount above rel
 * (a mask, a bind over /dev) hides it; then, or when the slots run out, -1.
 */
static int find_anchor(struct keel_mount_plan *p, const char *rel, size_t n_entries, size_t n_masked, size_t n_ro)
{
	struct plan_entry *a;
	enum fresh kind;
	size_t i;

	for (i = 0; i < n_ro; i++)
		if (is_above(p->ro[i].rel, rel))
			return -1;
	for (i = 0; i < n_masked; i++)
		if (is_above(p->masked[i].rel, rel))
			return -1;
	for (i = n_entries; i-- > 0;)
		if (p->e[i].kind == ENTRY_MOUNT && is_above(p->e[i].dest_rel, rel))
			break;
	if (i == (size_t)-1)
		return -1;
	a = &p->e[i];
	kind = fresh_kind(a);
	if (kind == NOT_FRESH || strchr(rel + strlen(a->dest_rel) + 1, '/'))
		return -1;
	if (a->slot < 0) {
		if (p->n_slots == MAX_ANCHORS)
			return -1;
		a->slot = (int)p->n_slots++;
		if (kind == FRESH_KERNEL)
			p->slot_magic[a->slot] = strcmp(a->type, "proc") ? 0x62656572UL /* SYSFS_MAGIC */
									 : 0x9fa0UL /* PROC_SUPER_MAGIC */;
	}
	return a->slot;
}

/* Forget an anchor with a single user: opening and closing its root costs
 * more than that one lookup beneath the root (/sys has only
 * /sys/firmware). Its slot stays unused. */
static void drop_lone_anchors(struct keel_mount_plan *p)
{
	unsigned users[MAX_ANCHORS] = { 0 };
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->e[i].anchor >= 0)
			users[p->e[i].anchor]++;
	for (i = 0; i < p->n_masked; i++)
		if (p->masked[i].anchor >= 0)
			users[p->masked[i].anchor]++;
	for (i = 0; i < p->n_ro; i++)
		if (p->ro[i].anchor >= 0)
			users[p->ro[i].anchor]++;
	for (i = 0; i < p->n; i++) {
		if (p->e[i].slot >= 0 && users[p->e[i].slot] < 2)
			p->e[i].slot = -1;
		if (p->e[i].anchor >= 0 && users[p->e[i].anchor] < 2)
			p->e[i].anchor = -1;
	}
	for (i = 0; i < p->n_masked; i++)
		if (p->masked[i].anchor >= 0 && users[p->masked[i].anchor] < 2)
			p->masked[i].anchor = -1;
	for (i = 0; i < p->n_ro; i++)
		if (p->ro[i].anchor >= 0 && users[p->ro[i].anchor] < 2)
			p->ro[i].anchor = -1;
}

static void find_anchors(struct keel_mount_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct plan_entry *e = &p->e[i];

		/* The child mounts by a name relative to its working
		 * directory: only what has no relative path of its own to
		 * resolve there (a bind's source is absolute). */
		if (e->kind == ENTRY_MOUNT && !e->bind && fresh_kind(e) == NOT_FRESH)
			continue;
		e->anchor = find_anchor(p, e->dest_rel, i, 0, 0);
	}
	for (i = 0; i < p->n_masked; i++)
		p->masked[i].anchor = find_anchor(p, p->masked[i].rel, p->n, i, 0);
	for (i = 0; i < p->n_ro; i++)
		p->ro[i].anchor = find_anchor(p, p->ro[i].rel, p->n, p->n_masked, i);
	drop_lone_anchors(p);
}

int keel_mount_plan_prepare(const keel_rootfs *r, struct keel_mount_plan **out, keel_error **err)
{
	struct keel_mount_plan *p;
	size_t i;
	int ret;

	if (!r || !out)
		return keel_error_invalid(err, "rootfs: prepare: %s is NULL", r ? "out" : "rootfs");
	if (!(p = calloc(1, sizeof(*p))))
		return keel_error_sys(err, ENOMEM, "rootfs: prepare");
	p->root_tree_fd = -1;
	p->readonly = r->readonly;
	p->root_propagation = r->propagation == KEEL_PROPAGATION_PRIVATE ? MS_PRIVATE : MS_SLAVE;
	p->shared_after = r->propagation == KEEL_PROPAGATION_SHARED;
	if ((ret = prepare_root(r, p, err)) < 0)
		goto fail;
	if (r->n_entries && !(p->e = calloc(r->n_entries, sizeof(*p->e)))) {
		ret = keel_error_sys(err, ENOMEM, "rootfs: prepare");
		goto fail;
	}
	for (i = 0; i < r->n_entries; i++) {
		p->n = i + 1;
		if ((ret = prepare_entry(r, &r->entries[i], &p->e[i], err)) < 0)
			goto fail;
	}
	if ((ret = copy_rel_list(&r->masked, &p->masked, &p->n_masked, err)) < 0 ||
	    (ret = copy_rel_list(&r->readonly_paths, &p->ro, &p->n_ro, err)) < 0)
		goto fail;
	find_anchors(p);
	*out = p;
	return 0;
fail:
	keel_mount_plan_free(p);
	*out = NULL;
	return ret;
}
