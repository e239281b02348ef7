/*
 * mount: the container's root filesystem.
 *
 * A keel_rootfs describes what the container will see as "/": either a
 * plain directory, or an overlay of read-only image layers with a
 * per-container writable layer on top; then a table of mounts inside it
 * (binds, tmpfs, proc, sysfs, devpts ...), device nodes and symlinks for a
 * minimal /dev, and paths to mask or make read-only.
 *
 * The files: this one, the handle and its defaults; mount-upper.c, the
 * writable layer (usage, removal); mount-plan.c, the plan; and
 * child/mount.c, the plan applied in the child. The work is split in two,
 * like every subsystem that runs in the child (docs/architecture.md,
 * "Prepare in the parent, apply in the child"):
 *
 *   keel_mount_plan_prepare()  parent, may allocate: checks every path,
 *                              creates <base>/upper, work and merged,
 *                              builds the overlay option string, turns
 *                              keel_mount_flag values into MS_* flags and
 *                              mount_setattr() attributes, and makes the
 *                              idmapped mount trees (they need privilege in
 *                              the initial user namespace, which the child
 *                              may no longer have);
 *   keel_mount_plan_apply()    child, already in its own mount namespace:
 *                              system calls only, on the plan's memory.
 *
 * Inside the child, every destination in the image is opened relative to a
 * directory fd of the new root with openat2(RESOLVE_BENEATH), so a symlink
 * in the image can never redirect a mount onto the host; mounts are then
 * made on the opened fd through /proc/self/fd/N. A name directly inside a
 * filesystem the plan itself just mounted fresh (/dev/pts, /proc/kcore,
 * /sys/firmware) is reached by name from an fd of that filesystem's root
 * instead (see MAX_ANCHORS): the image has no say there. The last step is
 * pivot_root, or MS_MOVE + chroot where the current root cannot be pivoted
 * (initramfs).
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

/* ------------------------------------------------------------ the handle --- */

static int path_list_add(struct path_list *l, const char *s)
{
	char **grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
	char *copy = strdup(s);

	if (grown)
		l->v = grown;
	if (!grown || !copy) {
		free(copy);
		return -ENOMEM;
	}
	l->v[l->n++] = copy;
	return 0;
}

static void path_list_free(struct path_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void entry_free(struct entry *e)
{
	free(e->type);
	free(e->source);
	free(e->dest);
	free(e->data);
}

KEEL_PUBLIC int keel_rootfs_new(keel_rootfs **out, keel_error **err)
{
	keel_rootfs *r;

	if (!out)
		return keel_error_invalid(err, "rootfs: out is NULL");
	r = calloc(1, sizeof(*r));
	if (!r)
		return keel_error_sys(err, ENOMEM, "rootfs");
	r->idmap_fd = -1;
	r->propagation = KEEL_PROPAGATION_SLAVE;
	*out = r;
	return 0;
}

KEEL_PUBLIC void keel_rootfs_free(keel_rootfs *r)
{
	size_t i;

	if (!r)
		return;
	free(r->directory);
	free(r->upper_base);
	path_list_free(&r->layers);
	path_list_free(&r->masked);
	path_list_free(&r->readonly_paths);
	for (i = 0; i < r->n_entries; i++)
		entry_free(&r->entries[i]);
	free(r->entries);
	if (r->idmap_fd >= 0)
		close(r->idmap_fd);
	free(r);
}

/* A host path: absolute, and short enough for the kernel. */
static int check_host_path(const char *what, const char *path, keel_error **err)
{
	if (!path || !*path)
		return keel_error_invalid(err, "rootfs: %s: no path given", what);
	if (path[0] != '/')
		return keel_error_invalid(err, "rootfs: %s '%s': not an absolute path", what, path);
	if (strlen(path) >= PATH_MAX)
		return keel_error_invalid(err, "rootfs: %s '%.64s...': path too long", what, path);
	return 0;
}

/* Overlay's lowerdir, upperdir and workdir options cannot carry these. */
static int check_overlay_path(const char *what, const char *path, keel_error **err)
{
	int ret = check_host_path(what, path, err);

	if (ret == 0 && (strchr(path, ':') || strchr(path, ',')))
		ret = keel_error_invalid(err, "rootfs: %s '%s': overlayfs cannot use a path with ':' or ','",
					 what, path);
	return ret;
}

/*
 * A destination inside the rootfs, normalized: "/a//b/./c/" becomes
 * "/a/b/c". ".." is refused rather than resolved: it has no meaning the
 * user could rely on once symlinks are involved.
 */
static int normalize_dest(const char *what, const char *dest, char **out, keel_error **err)
{
	const char *p = dest;
	char *norm, *w;

	if (!dest || !*dest)
		return keel_error_invalid(err, "rootfs: %s: no destination given", what);
	if (dest[0] != '/')
		return keel_error_invalid(err, "rootfs: %s '%s': not an absolute path inside the container",
					  what, dest);
	if (strlen(dest) >= PATH_MAX)
		return keel_error_invalid(err, "rootfs: %s '%.64s...': path too long", what, dest);
	norm = malloc(strlen(dest) + 1);
	if (!norm)
		return keel_error_sys(err, ENOMEM, "rootfs: %s %s", what, dest);
	w = norm;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = (size_t)(strchrnul(p, '/') - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(norm);
			return keel_error_invalid(err, "rootfs: %s '%s': '..' is not allowed in a destination",
						  what, dest);
		}
		if (len && !(len == 1 && p[0] == '.')) {
			*w++ = '/';
			memcpy(w, p, len);
			w += len;
		}
		p += len;
	}
	*w = '\0';
	if (!*norm) {
		free(norm);
		return keel_error_invalid(err, "rootfs: %s '%s': cannot mount over the container's root itself",
					  what, dest);
	}
	*out = norm;
	return 0;
}

static int set_string(char **slot, const char *value, keel_error **err)
{
	char *copy = strdup(value);

	if (!copy)
		return keel_error_sys(err, ENOMEM, "rootfs: %s", value);
	free(*slot);
	*slot = copy;
	return 0;
}

KEEL_PUBLIC int keel_rootfs_set_directory(keel_rootfs *r, const char *path, keel_error **err)
{
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = check_host_path("directory", path, err)) < 0)
		return ret;
	if (r->layers.n)
		return keel_error_invalid(err, "rootfs: directory %s: the rootfs already has %zu layers; "
					  "use either a directory or layers", path, r->layers.n);
	return set_string(&r->directory, path, err);
}

KEEL_PUBLIC int keel_rootfs_add_layer(keel_rootfs *r, const char *dir, keel_error **err)
{
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = check_overlay_path("layer", dir, err)) < 0)
		return ret;
	if (r->directory)
		return keel_error_invalid(err, "rootfs: layer %s: the rootfs is already the directory %s; "
					  "use either a directory or layers", dir, r->directory);
	if (path_list_add(&r->layers, dir) < 0)
		return keel_error_sys(err, ENOMEM, "rootfs: layer %s", dir);
	return 0;
}

KEEL_PUBLIC int keel_rootfs_set_upper_base(keel_rootfs *r, const char *dir, keel_error **err)
{
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = check_overlay_path("upper base", dir, err)) < 0)
		return ret;
	return set_string(&r->upper_base, dir, err);
}

KEEL_PUBLIC void keel_rootfs_set_readonly(keel_rootfs *r, int on)
{
	if (r)
		r->readonly = !!on;
}

KEEL_PUBLIC int keel_rootfs_set_propagation(keel_rootfs *r, keel_propagation prop, keel_error **err)
{
	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if (prop != KEEL_PROPAGATION_SLAVE && prop != KEEL_PROPAGATION_PRIVATE && prop != KEEL_PROPAGATION_SHARED)
		return keel_error_invalid(err, "rootfs: unknown propagation %d (expected slave, private or shared)",
					  (int)prop);
	r->propagation = prop;
	return 0;
}

static struct entry *entry_push(keel_rootfs *r)
{
	struct entry *grown = realloc(r->entries, (r->n_entries + 1) * sizeof(*grown));

	if (!grown)
		return NULL;
	r->entries = grown;
	memset(&grown[r->n_entries], 0, sizeof(*grown));
	return &grown[r->n_entries++];
}

/* Copy optional strings into a new entry; on failure nothing is added. */
static int entry_add(keel_rootfs *r, enum entry_kind kind, const char *type, const char *source,
		     char *dest_norm, const char *data, unsigned flags, keel_error **err)
{
	struct entry e = { .kind = kind, .flags = flags, .dest = dest_norm };
	struct entry *slot;

	e.type = type ? strdup(type) : NULL;
	e.source = source ? strdup(source) : NULL;
	e.data = data ? strdup(data) : NULL;
	if ((type && !e.type) || (source && !e.source) || (data && !e.data) || !(slot = entry_push(r))) {
		int ret = keel_error_sys(err, ENOMEM, "rootfs: mount on %s", dest_norm);
		entry_free(&e);
		return ret;
	}
	*slot = e;
	return 0;
}

static int count_bits(unsigned v)
{
	int n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

KEEL_PUBLIC int keel_rootfs_add_mount(keel_rootfs *r, const char *type, const char *source,
				      const char *dest, unsigned flags, const char *data,
				      keel_error **err)
{
	int bind = !!(flags & KEEL_MOUNT_BIND);
	char *norm = NULL;
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = normalize_dest("mount destination", dest, &norm, err)) < 0)
		return ret;
	if (flags & ~ALL_FLAGS)
		ret = keel_error_invalid(err, "rootfs: mount on %s: unknown flags 0x%x", norm, flags & ~ALL_FLAGS);
	else if (count_bits(flags & PROPAGATION_FLAGS) > 1)
		ret = keel_error_invalid(err, "rootfs: mount on %s: more than one propagation flag", norm);
	else if (count_bits(flags & ATIME_FLAGS) > 1)
		ret = keel_error_invalid(err, "rootfs: mount on %s: more than one atime flag", norm);
	else if (!bind && (flags & (KEEL_MOUNT_RECURSIVE | KEEL_MOUNT_IDMAP)))
		ret = keel_error_invalid(err, "rootfs: mount on %s: RECURSIVE and IDMAP apply to bind mounts only",
					 norm);
	else if (bind)
		ret = check_host_path("bind source", source, err);
	else if (!type || !*type)
		ret = keel_error_invalid(err, "rootfs: mount on %s: no filesystem type given", norm);
	if (ret == 0 && data && strlen(data) >= MOUNT_DATA_MAX)
		ret = keel_error_invalid(err, "rootfs: mount on %s: options longer than %d bytes", norm,
					 MOUNT_DATA_MAX - 1);
	if (ret < 0) {
		free(norm);
		return ret;
	}
	if (!bind && (!source || !*source))
		source = type;
	return entry_add(r, ENTRY_MOUNT, bind ? NULL : type, source, norm, data, flags, err);
}

KEEL_PUBLIC int keel_rootfs_add_bind(keel_rootfs *r, const char *source, const char *dest,
				     unsigned flags, keel_error **err)
{
	return keel_rootfs_add_mount(r, NULL, source, dest, flags | KEEL_MOUNT_BIND, NULL, err);
}

size_t keel_rootfs_entry_count(const keel_rootfs *r)
{
	return r ? r->n_entries : 0;
}

void keel_rootfs_entries_truncate(keel_rootfs *r, size_t n)
{
	while (r && r->n_entries > n)
		entry_free(&r->entries[--r->n_entries]);
}

int keel_rootfs_has_dest(const keel_rootfs *r, const char *dest)
{
	size_t i;

	for (i = 0; r && i < r->n_entries; i++)
		if (r->entries[i].kind == ENTRY_MOUNT && !strcmp(r->entries[i].dest, dest))
			return 1;
	return 0;
}

/* lstat of dest under base: a symlink counts as present (the mount
 * follows it inside the rootfs, or refuses it clearly). */
static int has_under(const char *base, const char *dest)
{
	char path[PATH_MAX];
	struct stat st;

	if (keel_str_join_buf(path, sizeof(path), base, dest, NULL) < 0)
		return 0;
	return lstat(path, &st) == 0;
}

int keel_rootfs_can_mount_at(const keel_rootfs *r, const char *dest)
{
	size_t i;

	if (r->directory)
		return has_under(r->directory, dest);
	for (i = 0; i < r->layers.n; i++)
		if (has_under(r->layers.v[i], dest))
			return 1;
	return r->layers.n > 0 && !r->readonly;
}

KEEL_PUBLIC int keel_rootfs_add_tmpfs(keel_rootfs *r, const char *dest, uint64_t size_bytes,
				      mode_t mode, keel_error **err)
{
	char data[64];

	if (mode & ~(mode_t)07777)
		return keel_error_invalid(err, "rootfs: tmpfs on %s: mode 0%o is not a permission mode",
					  dest ? dest : "(null)", (unsigned)mode);
	if (size_bytes)
		snprintf(data, sizeof(data), "mode=%04o,size=%llu", (unsigned)mode, (unsigned long long)size_bytes);
	else
		snprintf(data, sizeof(data), "mode=%04o", (unsigned)mode);
	return keel_rootfs_add_mount(r, "tmpfs", "tmpfs", dest, KEEL_MOUNT_NOSUID | KEEL_MOUNT_NODEV, data, err);
}

static int add_path(keel_rootfs *r, struct path_list *l, const char *what, const char *path, keel_error **err)
{
	char *norm = NULL;
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = normalize_dest(what, path, &norm, err)) < 0)
		return ret;
	ret = path_list_add(l, norm);
	if (ret < 0)
		keel_error_sys(err, ENOMEM, "rootfs: %s %s", what, norm);
	free(norm);
	return ret;
}

KEEL_PUBLIC int keel_rootfs_add_masked_path(keel_rootfs *r, const char *path, keel_error **err)
{
	return add_path(r, r ? &r->masked : NULL, "masked path", path, err);
}

KEEL_PUBLIC int keel_rootfs_add_readonly_path(keel_rootfs *r, const char *path, keel_error **err)
{
	return add_path(r, r ? &r->readonly_paths : NULL, "read-only path", path, err);
}

KEEL_PUBLIC int keel_rootfs_set_idmap(keel_rootfs *r, int userns_fd, keel_error **err)
{
	int fd, type;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	type = ioctl(userns_fd, NS_GET_NSTYPE);
	if (type < 0)
		return errno == EBADF ? keel_error_sys(err, EBADF, "rootfs: idmap: fd %d", userns_fd)
				      : keel_error_invalid(err, "rootfs: idmap: fd %d is not a namespace", userns_fd);
	if (type != CLONE_NEWUSER)
		return keel_error_invalid(err, "rootfs: idmap: fd %d is a namespace but not a user namespace",
					  userns_fd);
	fd = fcntl(userns_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return keel_error_sys(err, errno, "rootfs: idmap: duplicate fd %d", userns_fd);
	if (r->idmap_fd >= 0)
		close(r->idmap_fd);
	r->idmap_fd = fd;
	return 0;
}

KEEL_PUBLIC void keel_rootfs_set_idmap_layers(keel_rootfs *r, int on)
{
	if (r)
		r->idmap_layers = !!on;
}

/* ---------------------------------------------------------- the defaults --- */

static const struct {
	const char *name;
	unsigned major, minor;
} default_devices[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
	const char *path, *target;
} default_links[] = {
	{ "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
	{ "/dev/ptmx", "pts/ptmx" },
};

/* What runc and Docker mask and make read-only by default. */
static const char *const default_masked[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};

static const char *const default_readonly[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int add_device(keel_rootfs *r, const char *name, unsigned major, unsigned minor, keel_error **err)
{
	char dest[64];

	keel_str_join_buf(dest, sizeof(dest), "/dev/", name, NULL); /* names of ours, short */
	/* The host's node at the same path is the bind fallback. */
	return keel_rootfs_add_device_node(r, dest, dest, 0, major, minor, 0666, 0, 0, 0, err);
}

KEEL_PUBLIC int keel_rootfs_add_device(keel_rootfs *r, const char *path, unsigned major, unsigned minor,
				       mode_t mode, keel_error **err)
{
	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if (!path)
		return keel_error_invalid(err, "rootfs: device path is NULL");
	if (mode > 0777)
		return keel_error_invalid(err, "rootfs: device %s: mode %o is more than permission bits", path,
					  (unsigned)mode);
	return keel_rootfs_add_device_node(r, path, path, 0, major, minor, mode, 0, 0, 0, err);
}

static int add_symlink(keel_rootfs *r, const char *path, const char *target, keel_error **err)
{
	char *norm = strdup(path);

	if (!norm)
		return keel_error_sys(err, ENOMEM, "rootfs: symlink %s", path);
	return entry_add(r, ENTRY_SYMLINK, NULL, target, norm, NULL, 0, err);
}

/* --- issue 16: a host device given to a container (src/container-device.c) --- */
int keel_rootfs_add_device_node(keel_rootfs *r, const char *host, const char *dest, int block, unsigned major,
				unsigned minor, mode_t mode, int do_chown, uid_t uid, gid_t gid, keel_error **err)
{
	struct entry *e;
	char *norm;
	int ret;

	if (!r || !host)
		return keel_error_invalid(err, "rootfs: device: %s is NULL", r ? "host path" : "handle");
	if ((ret = normalize_dest("device", dest, &norm, err)) < 0)
		return ret;
	if ((ret = entry_add(r, ENTRY_DEVICE, NULL, host, norm, NULL, 0, err)) < 0)
		return ret;
	e = &r->entries[r->n_entries - 1];
	e->major = major;
	e->minor = minor;
	e->mode = mode & 07777;
	e->devtype = block ? S_IFBLK : 0;
	e->chown = do_chown;
	e->uid = uid;
	e->gid = gid;
	return 0;
}
/* --- end issue 16 --- */

KEEL_PUBLIC int keel_rootfs_add_default_devices(keel_rootfs *r, keel_error **err)
{
	size_t i;
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	for (i = 0; i < N_OF(default_devices); i++)
		if ((ret = add_device(r, default_devices[i].name, default_devices[i].major,
				      default_devices[i].minor, err)) < 0)
			return ret;
	for (i = 0; i < N_OF(default_links); i++)
		if ((ret = add_symlink(r, default_links[i].path, default_links[i].target, err)) < 0)
			return ret;
	return 0;
}

KEEL_PUBLIC int keel_rootfs_add_defaults(keel_rootfs *r, keel_error **err)
{
	const unsigned nosuid_nodev_noexec = KEEL_MOUNT_NOSUID | KEEL_MOUNT_NODEV | KEEL_MOUNT_NOEXEC;
	size_t i;
	int ret;

	if (!r)
		return keel_error_invalid(err, "rootfs: handle is NULL");
	if ((ret = keel_rootfs_add_mount(r, "proc", "proc", "/proc", nosuid_nodev_noexec, NULL, err)) < 0 ||
	    (ret = keel_rootfs_add_mount(r, "sysfs", "sysfs", "/sys", nosuid_nodev_noexec | KEEL_MOUNT_RDONLY,
					 NULL, err)) < 0 ||
	    (ret = keel_rootfs_add_mount(r, "tmpfs", "tmpfs", "/dev", KEEL_MOUNT_NOSUID | KEEL_MOUNT_STRICTATIME,
					 "mode=755,size=65536k", err)) < 0)
		return ret;
	if ((ret = keel_rootfs_add_default_devices(r, err)) < 0)
		return ret;
	/* No gid=5: the image may have no tty group, and a user namespace
	 * may not map gid 5, which makes the mount fail. */
	if ((ret = keel_rootfs_add_mount(r, "devpts", "devpts", "/dev/pts", KEEL_MOUNT_NOSUID | KEEL_MOUNT_NOEXEC,
					 "newinstance,ptmxmode=0666,mode=0620", err)) < 0 ||
	    (ret = keel_rootfs_add_mount(r, "tmpfs", "shm", "/dev/shm", nosuid_nodev_noexec,
					 "mode=1777,size=65536k", err)) < 0 ||
	    (ret = keel_rootfs_add_mount(r, "mqueue", "mqueue", "/dev/mqueue", nosuid_nodev_noexec, NULL, err)) < 0)
		return ret;
	for (i = 0; i < N_OF(default_masked); i++)
		if ((ret = keel_rootfs_add_masked_path(r, default_masked[i], err)) < 0)
			return ret;
	for (i = 0; i < N_OF(default_readonly); i++)
		if ((ret = keel_rootfs_add_readonly_path(r, default_readonly[i], err)) < 0)
			return ret;
	return 0;
}
