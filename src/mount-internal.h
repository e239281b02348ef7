/*
 * Private: what the files of mount share (src/mount.c, the handle and its
 * defaults; src/mount-upper.c, the writable layer; src/mount-plan.c, the
 * plan made in the parent; src/child/mount.c, the plan applied in the
 * child).
 */
#ifndef KEEL_PRIV_MOUNT_INTERNAL_H
#define KEEL_PRIV_MOUNT_INTERNAL_H

#include <sys/mount.h>
#include <sys/types.h>
#include <keel/mount.h>

#include "mount.h"

/* mount(2) copies at most one page of option data. */
#define MOUNT_DATA_MAX 4096

#define ALL_FLAGS ((unsigned)(KEEL_MOUNT_IDMAP << 1) - 1)
#define PROPAGATION_FLAGS (KEEL_MOUNT_PRIVATE | KEEL_MOUNT_SLAVE | KEEL_MOUNT_SHARED | KEEL_MOUNT_UNBINDABLE)
#define ATIME_FLAGS (KEEL_MOUNT_RELATIME | KEEL_MOUNT_NOATIME | KEEL_MOUNT_STRICTATIME)

/* ------------------------------------------------------------ the handle --- */

enum entry_kind {
	ENTRY_MOUNT = 1,   /* a filesystem or a bind mount */
	ENTRY_DEVICE = 2,  /* a device node (character, or block: keel_rootfs_add_device_node) */
	ENTRY_SYMLINK = 3  /* a symlink, such as /dev/fd -> /proc/self/fd */
};

struct entry {
	enum entry_kind kind;
	char *type;        /* filesystem type; NULL for a bind */
	char *source;      /* bind source, filesystem label, device's host path or link target */
	char *dest;        /* normalized absolute path inside the rootfs */
	char *data;        /* filesystem options, or NULL */
	unsigned flags;    /* keel_mount_flag */
	unsigned major, minor;
	mode_t mode;
	mode_t devtype;    /* devices: S_IFBLK, or 0 for S_IFCHR */
	int chown;         /* devices: give the node uid:gid (issue 16) */
	uid_t uid;
	gid_t gid;
};

struct path_list {
	char **v;
	size_t n;
};

struct keel_rootfs {
	char *directory;
	struct path_list layers;  /* lowest first, as the caller adds them */
	char *upper_base;
	int readonly;
	int idmap_layers;
	int idmap_fd;             /* a user namespace, or -1 */
	keel_propagation propagation;
	struct entry *entries;
	size_t n_entries;
	struct path_list masked;
	struct path_list readonly_paths;
};

/* ------------------------------------------------------------- the plan --- */

struct plan_entry {
	enum entry_kind kind;
	char *step;             /* "mount tmpfs on", "bind /srv on": for the report */
	char *type, *source, *dest, *data;
	const char *dest_rel;   /* dest without its leading '/' */
	int bind, recursive, source_is_dir;
	unsigned long msflags;  /* a new filesystem: MS_* flags for mount(2) */
	struct mount_attr attr; /* after the mount: flags of a bind, propagation */
	int tree_fd;            /* an idmapped detached mount to attach, or -1 */
	dev_t rdev;
	mode_t mode;            /* with the S_IFCHR/S_IFBLK bits, for a device */
	int chown;              /* a device: fchownat() it to uid:gid */
	uid_t uid;
	gid_t gid;
	char *dir_rel, *name;   /* parent directory and last component of dest */
	int anchor;             /* see struct plan_path */
	int slot;               /* an anchor: where the child keeps its root's fd, or -1 */
};

/*
 * Anchors. A filesystem this plan mounts fresh (a new proc, sysfs, tmpfs,
 * devpts or mqueue instance) holds, at that point, only what the kernel or
 * the plan itself put there, and is visible only in the child's new mount
 * namespace: the image cannot have planted a symlink in it, nor swap one
 * in. The child keeps an fd of its root (a "slot") and reaches a path one
 * component below it by name, relative to that fd, without a
 * RESOLVE_BENEATH walk from the rootfs and without an O_PATH fd per step.
 * The mount point of the filesystem itself is in the image and keeps its
 * RESOLVE_BENEATH lookup, and so does every path with more than one
 * component below the root of such a filesystem, and every path whose name
 * there turns out to be a symlink (the plan makes some in /dev): those take
 * the general route, exactly as before.
 *
 * The slot's fd is found after the mount by looking its mount point up
 * again (nothing else crosses into a new mount), so where that mount point
 * is in an image another writer shares, the fd might be a directory that
 * writer swapped in. Calls that do not follow a symlink (mknodat, mkdirat,
 * symlinkat, fstatat, mount_setattr and move_mount without the follow
 * flags) are safe by name in any slot. mount(2), which follows, is made by
 * name only in a slot the child trusts: a proc or sysfs (fstatfs says so;
 * no writer can make a symlink there), or a slot found by name in a
 * trusted one. In the others, its target is opened RESOLVE_BENEATH the
 * slot, and masks and read-only paths take the general route.
 */
#define MAX_ANCHORS 8

struct plan_path {
	char *rel;              /* no leading '/' */
	const char *name;       /* its last component, inside rel */
	int anchor;             /* the slot of the fresh filesystem whose root is
				 * the parent directory, or -1 */
};

struct keel_mount_plan {
	char *root;             /* where the rootfs is mounted, then pivoted into */
	char *overlay_opts;     /* NULL for a directory rootfs */
	char *overlay_opts_userxattr;
	char *work;             /* overlayfs' workdir: probed for user.* xattrs */
	int root_tree_fd;       /* an idmapped directory rootfs, or -1 */
	char **lower_mnt;       /* idmapped layers: their mount points ... */
	int *lower_fd;          /* ... and detached trees */
	size_t n_lower;
	unsigned long root_propagation;
	int shared_after;
	int readonly;
	struct plan_entry *e;
	size_t n;
	struct plan_path *masked, *ro;
	size_t n_masked, n_ro;
	size_t n_slots;
	/* per slot: the f_type of a filesystem only the kernel writes (proc,
	 * sysfs), whose names need no symlink check before a bind; else 0 */
	unsigned long slot_magic[MAX_ANCHORS];
};

/* Shared helpers (declared here, defined where their section is). */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* mount-upper.c: base/name, malloc'd (NULL when out of memory). */
char *base_path(const char *base, const char *name);

#endif
