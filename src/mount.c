/*
 * mount: the container's root filesystem.
 *
 * A keel_rootfs describes what the container will see as "/": either a
 * plain directory, or an overlay of read-only image layers with a
 * per-container writable layer on top; then a table of mounts inside it
 * (binds, tmpfs, proc, sysfs, devpts ...), device nodes and symlinks for a
 * minimal /dev, and paths to mask or make read-only.
 *
 * The work is split in two, like every subsystem that runs in the child
 * (DESIGN.md, "Safe to embed"):
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
#include "mount.h"
#include "util/fs.h"
#include "util/str.h"

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

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int add_device(keel_rootfs *r, const char *name, unsigned major, unsigned minor, keel_error **err)
{
	char dest[64], host[64];
	char *norm;
	int ret;

	keel_str_join_buf(dest, sizeof(dest), "/dev/", name, NULL); /* names of ours, short */
	keel_strlcpy(host, dest, sizeof(host));
	if (!(norm = strdup(dest)))
		return keel_error_sys(err, ENOMEM, "rootfs: device %s", dest);
	ret = entry_add(r, ENTRY_DEVICE, NULL, host, norm, NULL, 0, err);
	if (ret == 0) {
		r->entries[r->n_entries - 1].major = major;
		r->entries[r->n_entries - 1].minor = minor;
		r->entries[r->n_entries - 1].mode = 0666;
	}
	return ret;
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
	for (i = 0; i < N_OF(default_devices); i++)
		if ((ret = add_device(r, default_devices[i].name, default_devices[i].major,
				      default_devices[i].minor, err)) < 0)
			return ret;
	for (i = 0; i < N_OF(default_links); i++)
		if ((ret = add_symlink(r, default_links[i].path, default_links[i].target, err)) < 0)
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

/* -------------------------------------------------------- writable layer --- */

/* "<base>/<name>", malloc'd. */
static char *base_path(const char *base, const char *name)
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
	char **ovl_lowers;      /* too many layers for one page of options: the
				 * lower dirs, top first, for fsconfig lowerdir+ */
	char *ovl_upper;
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
	for (i = 0; p->ovl_lowers && p->ovl_lowers[i]; i++)
		free(p->ovl_lowers[i]);
	free(p->ovl_lowers);
	free(p->ovl_upper);
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

	fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (fd < 0) {
		e = errno;
		if (e == ENOSYS)
			return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, e,
					      "rootfs: %s %s: idmapped mounts need open_tree() (Linux 5.12)",
					      what, src);
		return keel_error_sys(err, e, "rootfs: %s %s: clone the mount for idmapping", what, src);
	}
	if (mount_setattr(fd, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0) {
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

/*
 * More layers than one page of mount options can name (moby stops at 128):
 * the new mount API takes them one by one, fsconfig(lowerdir+), since
 * Linux 6.8. The child then mounts with fsopen/fsconfig/fsmount/move_mount
 * (mount_overlay_fsconfig()); an older kernel refuses lowerdir+ there,
 * and the error says so.
 */
static int prepare_overlay_fsconfig(const keel_rootfs *r, struct keel_mount_plan *p, const char *upper,
				    keel_error **err)
{
	size_t i, n = r->layers.n;

	p->ovl_lowers = calloc(n + 1, sizeof(char *));
	p->ovl_upper = strdup(upper);
	p->overlay_opts = strdup("");       /* an overlay, mounted from ovl_lowers */
	p->overlay_opts_userxattr = strdup("");
	if (!p->ovl_lowers || !p->ovl_upper || !p->overlay_opts || !p->overlay_opts_userxattr)
		return keel_error_sys(err, ENOMEM, "rootfs: overlay");
	for (i = 0; i < n; i++) {
		const char *dir = p->lower_mnt ? p->lower_mnt[n - 1 - i] : r->layers.v[n - 1 - i];

		if (!(p->ovl_lowers[i] = strdup(dir)))
			return keel_error_sys(err, ENOMEM, "rootfs: overlay");
	}
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
		ret = prepare_overlay_fsconfig(r, p, upper, err);
		if (ret == 0) {
			p->work = work;
			work = NULL;
		}
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
	ret = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
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
	if (mount_setattr(fd, "", flags, (struct mount_attr *)&e->attr, sizeof(e->attr)) < 0)
		ret = keel_report_fail(rep, KEEL_ERROR_CHILD, errno, "set the flags of the mount on", e->dest);
	if (own)
		close(fd);
	return ret;
}

/* Attach a detached (idmapped) tree. A clone is attached when the kernel
 * allows it, so that one plan can serve several children. */
static int attach_tree(int tree, int dirfd, const char *path, unsigned to_flags)
{
	int clone = open_tree(tree, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	int ret;

	ret = move_mount(clone >= 0 ? clone : tree, "", dirfd, path, MOVE_MOUNT_F_EMPTY_PATH | to_flags);
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
	    mount_setattr(dir, e->name, flags, (struct mount_attr *)&e->attr, sizeof(e->attr)) < 0)
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
	} else if (errno == EPERM || errno == EACCES) {
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
	tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree >= 0) {
		ret = mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
		if (ret < 0)
			ret = fail_path(rep, errno, "make read-only", rel);
		else if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
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
	ret = mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
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
	if (mount_setattr(AT_FDCWD, pp->name, AT_RECURSIVE | nofollow, &attr, sizeof(attr)) < 0)
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
 * (child side: system calls only, on the plan's memory). */
static int mount_overlay_fsconfig(const struct keel_mount_plan *p, int userxattr)
{
	int fd = fsopen("overlay", FSOPEN_CLOEXEC), mfd = -1, ret = -1, e;
	size_t i;

	if (fd < 0)
		return -1;
	for (i = 0; p->ovl_lowers[i]; i++)
		if (fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", p->ovl_lowers[i], 0) < 0)
			goto out;
	if (fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", p->ovl_upper, 0) < 0 ||
	    fsconfig(fd, FSCONFIG_SET_STRING, "workdir", p->work, 0) < 0 ||
	    (userxattr && fsconfig(fd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
	    fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ||
	    (mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0)) < 0)
		goto out;
	ret = move_mount(mfd, "", AT_FDCWD, p->root, MOVE_MOUNT_F_EMPTY_PATH);
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
	if (p->readonly && mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0 &&
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
