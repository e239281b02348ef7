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
 * The only process-wide state here is one validated cache of where
 * cgroup2 is mounted (cgroup2_mount()): everything else lives in the
 * handle.
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

#include "cgroup.h"
#include "error.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/str.h"
#include "util/syscall.h"

/* How long remove and kill wait for exiting processes to leave. */
#define WAIT_EMPTY_MS 10000

struct keel_cgroup {
	char *mount;            /* where cgroup2 is mounted */
	char *path;             /* absolute path of this cgroup */
	char *name;             /* path relative to the mount, "/" for the root */
	int dirfd;              /* O_DIRECTORY on path */
	int events_fd;          /* inotify for keel_cgroup_events_fd(), or -1 */
	int wd_memory;          /* its watch on memory.events, or -1 */
	int last_populated;     /* state at the last keel_cgroup_events_read() */
	int last_frozen;
	uint64_t last_oom;
	uint64_t last_oom_kill;
};

/* Controllers whose interface files are named "<controller>.<key>". */
static const char *const known_controllers[] = {
	"cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc", NULL
};

/* ------------------------------------------------------------- messages -- */

/* "cgroup <name>: <what>: <strerror>" */
static int KEEL_PRINTF(4, 5) cg_sys(const keel_cgroup *cg, keel_error **err, int errnum, const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	ret = keel_error_sys(err, errnum, "cgroup %s: %s", cg->name, what ? what : fmt);
	free(what);
	return ret;
}

/* "cgroup <name>: <what>", the message saying why by itself */
static int KEEL_PRINTF(5, 6) cg_plain(const keel_cgroup *cg, keel_error **err, int code, int errnum,
				      const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	va_end(ap);
	ret = keel_error_plain(err, code, errnum, "cgroup %s: %s", cg->name, what ? what : fmt);
	free(what);
	return ret;
}

/* ------------------------------------------------------------- parsing -- */

/* Parsing and formatting here use no stdio, strto* or ctype: their
 * code and locale tables would be the only reason a program that starts
 * containers touches those parts of libc (util/str.h). */

static bool c_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Digits, then the end or white space. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	const char *end;

	if (keel_str_to_ull(s, &end, &v) < 0 || (*end && !c_isspace(*end)))
		return -EINVAL;
	*out = v;
	return 0;
}

/* A number as atoi() reads it: 0 when there is none. */
static int parse_int(const char *s)
{
	long long v;

	return keel_str_to_ll(s, NULL, &v) < 0 ? 0 : (int)v;
}

/* A value or "max". */
static int parse_limit(const char *s, uint64_t *out)
{
	if (!strncmp(s, "max", 3) && (!s[3] || c_isspace(s[3]))) {
		*out = KEEL_CGROUP_MAX;
		return 0;
	}
	return parse_u64(s, out);
}

static void format_limit(uint64_t v, char *buf, size_t size)
{
	char num[KEEL_STR_DEC_SIZE];

	keel_str_join_buf(buf, size, v == KEEL_CGROUP_MAX ? "max" : keel_utoa(v, num), NULL);
}

/* Find "key value" at the start of a line of text; *value points into text. */
static const char *find_line(const char *text, const char *key)
{
	size_t len = strlen(key);
	const char *line;

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, len) && (line[len] == ' ' || line[len] == '\t'))
			return line + len + 1;
	return NULL;
}

/* Find "key=value" among the space-separated words of one line. */
static const char *find_word_value(const char *line, const char *key)
{
	size_t len = strlen(key);
	const char *p = line;

	while (*p && *p != '\n') {
		if (!strncmp(p, key, len) && p[len] == '=')
			return p + len + 1;
		while (*p && *p != ' ' && *p != '\n')
			p++;
		if (*p == ' ')
			p++;
		else
			break;
	}
	return NULL;
}

/* Is word one of the space-separated words of list? */
static int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || c_isspace(p[-1])) && (!p[len] || c_isspace(p[len])))
			return 1;
		p += len;
	}
	return 0;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* The controller that owns an interface file ("memory.max" -> "memory"). */
static const char *key_controller(const char *key)
{
	size_t len;
	int i;

	for (i = 0; known_controllers[i]; i++) {
		len = strlen(known_controllers[i]);
		if (!strncmp(key, known_controllers[i], len) && key[len] == '.')
			return known_controllers[i];
	}
	return NULL;
}

static int valid_key(const char *key)
{
	return key && *key && !strchr(key, '/') && strcmp(key, ".") && strcmp(key, "..") &&
	       strlen(key) < NAME_MAX;
}

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

static int default_parent(const char *mount, char **out, keel_error **err)
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

/* ---------------------------------------------------------- controllers -- */

/* The cgroup v1 mount point holding a controller, if any (malloc'd). */
static char *v1_holder(const char *controller)
{
	const char *v1name = strcmp(controller, "io") ? controller : "blkio";
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return NULL;
	while (!found && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *tok, *save = NULL, *mnt, *opts;
		int field = 0;

		if (!sep || strncmp(sep, " - cgroup ", 10))
			continue;
		/* mount point: the 5th field */
		for (tok = line, mnt = NULL; tok && field < 4; field++)
			tok = strchr(tok, ' '), tok = tok ? tok + 1 : NULL;
		mnt = tok;
		if (!mnt)
			continue;
		*strchrnul(mnt, ' ') = '\0';
		/* super options: after " - cgroup <source> " */
		opts = strchr(sep + 10, ' ');
		if (!opts)
			continue;
		opts++;
		opts[strcspn(opts, "\n")] = '\0';
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, v1name)) {
				found = strdup(mnt);
				break;
			}
	}
	free(line);
	fclose(f);
	return found;
}

/* Read a small file relative to the cgroup's directory or an absolute path. */
static int read_at(int dirfd, const char *path, char **out)
{
	return keel_read_file_at(dirfd, path, out, NULL, NULL);
}

static int controller_missing(const keel_cgroup *cg, const char *op, const char *controller,
			      const char *dir, keel_error **err)
{
	char *holder = v1_holder(controller);
	int ret;

	ret = cg_plain(cg, err, KEEL_ERROR_UNSUPPORTED, ENOENT,
		       "%s: controller %s is not available (not listed in %s/cgroup.controllers%s%s%s)",
		       op, controller, dir,
		       holder ? "; the cgroup v1 hierarchy at " : "", holder ? holder : "",
		       holder ? " holds it" : "");
	free(holder);
	return ret;
}

/* Add +controller to dir/cgroup.subtree_control unless it is there. */
static int enable_in(const keel_cgroup *cg, const char *op, const char *controller, const char *dir,
		     keel_error **err)
{
	char file[PATH_MAX + 32], plus[64], *text = NULL;
	int ret, avail, e;

	snprintf(file, sizeof(file), "%s/cgroup.controllers", dir);
	ret = read_at(AT_FDCWD, file, &text);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "%s: read %s", op, file);
	avail = has_word(text, controller);
	free(text);
	if (!avail)
		return controller_missing(cg, op, controller, dir, err);

	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", dir);
	ret = read_at(AT_FDCWD, file, &text);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "%s: read %s", op, file);
	avail = has_word(text, controller);
	free(text);
	if (avail)
		return 0;

	snprintf(plus, sizeof(plus), "+%s", controller);
	ret = keel_write_file_at(AT_FDCWD, file, plus, NULL);
	if (ret == 0)
		return 0;
	e = -ret;
	if (e == EBUSY)
		return cg_plain(cg, err, KEEL_ERROR_STATE, EBUSY,
				"%s: controller %s cannot be enabled in %s: %s has processes of its own "
				"(the no-internal-process rule: only a cgroup without processes may "
				"pass controllers to its children)", op, controller, file, dir);
	if (e == ENOENT)
		return controller_missing(cg, op, controller, dir, err);
	if (e == EACCES || e == EPERM)
		return cg_sys(cg, err, e, "%s: enable controller %s in %s (is %s delegated to this user?)",
			      op, controller, file, dir);
	return cg_sys(cg, err, e, "%s: enable controller %s in %s", op, controller, file);
}

static void refresh_watches(keel_cgroup *cg);

/* Make controller available in cg: enable it in each ancestor, top down. */
static int enable_controller(keel_cgroup *cg, const char *op, const char *controller, keel_error **err)
{
	const char *p, *next;
	char dir[PATH_MAX], *text = NULL;
	size_t len;
	int ret, present;

	/* cg's own cgroup.controllers lists what its parent passes down */
	ret = read_at(cg->dirfd, "cgroup.controllers", &text);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "%s: read cgroup.controllers", op);
	present = has_word(text, controller);
	free(text);
	if (present)
		return 0;
	if (!strcmp(cg->name, "/"))   /* the root offers what it has, nothing more */
		return controller_missing(cg, op, controller, cg->mount, err);

	/* the ancestors of "a/b/c": mount, mount/a, mount/a/b */
	snprintf(dir, sizeof(dir), "%s", cg->mount);
	for (p = cg->name;; p = next + 1) {
		ret = enable_in(cg, op, controller, dir, err);
		next = strchr(p, '/');
		if (ret < 0 || !next)
			break;
		len = strlen(dir);
		snprintf(dir + len, sizeof(dir) - len, "/%.*s", (int)(next - p), p);
	}
	if (ret == 0)
		refresh_watches(cg);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_enable_controller(keel_cgroup *cg, const char *controller,
					      keel_error **err)
{
	char op[96];
	size_t i;

	if (!cg)
		return keel_error_invalid(err, "cgroup: enable controller: no cgroup given");
	if (!controller || !*controller || strlen(controller) > 32)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "enable controller: bad controller name");
	for (i = 0; controller[i]; i++)
		if (!islower((unsigned char)controller[i]) && !isdigit((unsigned char)controller[i]) &&
		    controller[i] != '_')
			return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
					"enable controller '%s': not a controller name", controller);
	snprintf(op, sizeof(op), "enable controller %s", controller);
	return enable_controller(cg, op, controller, err);
}

/* -------------------------------------------------- reading and writing -- */

/* Read an interface file; a missing one is explained by its controller. */
static int get_key(keel_cgroup *cg, const char *key, char **out, keel_error **err)
{
	const char *controller;
	char *text = NULL;
	int ret, e;

	ret = read_at(cg->dirfd, key, out);
	if (ret == 0)
		return 0;
	e = -ret;
	controller = key_controller(key);
	if (e == ENOENT && controller && read_at(cg->dirfd, "cgroup.controllers", &text) == 0) {
		int enabled = has_word(text, controller);

		free(text);
		if (!enabled)
			return cg_plain(cg, err, KEEL_ERROR_UNSUPPORTED, ENOENT,
					"read %s: controller %s is not enabled for this cgroup (not in "
					"%s/cgroup.controllers; setting a %s limit enables it)",
					key, controller, cg->path, controller);
	}
	return cg_sys(cg, err, e, "read %s", key);
}

/* Write an interface file; a missing one gets its controller enabled first. */
static int set_key(keel_cgroup *cg, const char *key, const char *value, keel_error **err)
{
	const char *controller = key_controller(key);
	char op[NAME_MAX + 16];
	int ret;

	snprintf(op, sizeof(op), "set %s", key);
	ret = keel_write_file_at(cg->dirfd, key, value, NULL);
	if (ret == -ENOENT && controller && faccessat(cg->dirfd, key, F_OK, 0) < 0) {
		ret = enable_controller(cg, op, controller, err);
		if (ret < 0)
			return ret;
		ret = keel_write_file_at(cg->dirfd, key, value, NULL);
	}
	if (ret == 0)
		return 0;
	return cg_sys(cg, err, -ret, "%s to '%s'", op, value);
}

static int get_u64_key(keel_cgroup *cg, const char *key, uint64_t *out, int allow_max, keel_error **err)
{
	char *text = NULL;
	int ret;

	if (!cg || !out)
		return keel_error_invalid(err, "cgroup: read %s: no cgroup or no place for the result", key);
	ret = get_key(cg, key, &text, err);
	if (ret < 0)
		return ret;
	ret = allow_max ? parse_limit(text, out) : parse_u64(text, out);
	if (ret < 0) {
		chomp(text);
		ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, EPROTO, "read %s: unexpected contents '%s'", key, text);
	}
	free(text);
	return ret;
}

static int set_limit_key(keel_cgroup *cg, const char *key, uint64_t value, keel_error **err)
{
	char buf[32];

	if (!cg)
		return keel_error_invalid(err, "cgroup: set %s: no cgroup given", key);
	format_limit(value, buf, sizeof(buf));
	return set_key(cg, key, buf, err);
}

/* One "field value" line of a flat keyed file such as memory.stat. */
static int get_field(keel_cgroup *cg, const char *key, const char *field, uint64_t *out, keel_error **err)
{
	const char *value;
	char *text = NULL;
	int ret;

	if (!cg || !out || !field || !*field)
		return keel_error_invalid(err, "cgroup: read %s: bad arguments", key);
	ret = get_key(cg, key, &text, err);
	if (ret < 0)
		return ret;
	value = find_line(text, field);
	if (!value)
		ret = cg_plain(cg, err, KEEL_ERROR_NOT_FOUND, ENOENT, "read %s: no field %s in it%s", key, field,
			       !strcmp(key, "cpu.stat") ? " (the cpu controller is not enabled for this cgroup?)" : "");
	else if (parse_u64(value, out) < 0)
		ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, EPROTO, "read %s: field %s is not a number", key, field);
	free(text);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_set_raw(keel_cgroup *cg, const char *key, const char *value,
				    keel_error **err)
{
	if (!cg)
		return keel_error_invalid(err, "cgroup: set: no cgroup given");
	if (!valid_key(key))
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "set '%s': not an interface file name",
				key ? key : "(null)");
	if (!value)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "set %s: no value given", key);
	return set_key(cg, key, value, err);
}

KEEL_PUBLIC int keel_cgroup_get_raw(keel_cgroup *cg, const char *key, char **value,
				    keel_error **err)
{
	char *text = NULL;
	int ret;

	if (!cg || !value)
		return keel_error_invalid(err, "cgroup: read: no cgroup or no place for the result");
	if (!valid_key(key))
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "read '%s': not an interface file name",
				key ? key : "(null)");
	ret = get_key(cg, key, &text, err);
	if (ret < 0)
		return ret;
	chomp(text);
	*value = text;
	return 0;
}

/* --------------------------------------------------------------- limits -- */

KEEL_PUBLIC int keel_cgroup_add_pid(keel_cgroup *cg, pid_t pid, keel_error **err)
{
	char buf[24];
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: add pid: no cgroup given");
	if (pid <= 0)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "add pid %d: not a process id", (int)pid);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	ret = keel_write_file_at(cg->dirfd, "cgroup.procs", buf, NULL);
	if (ret == -EBUSY)
		return cg_plain(cg, err, KEEL_ERROR_STATE, EBUSY,
				"add pid %d: the cgroup passes controllers to its children (%s/cgroup.subtree_control "
				"is not empty), so it may hold no processes (the no-internal-process rule)",
				(int)pid, cg->path);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "add pid %d", (int)pid);
	return 0;
}

KEEL_PUBLIC int keel_cgroup_set_memory_max(keel_cgroup *cg, uint64_t bytes, keel_error **err)
{
	return set_limit_key(cg, "memory.max", bytes, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_max(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.max", bytes, 1, err);
}

KEEL_PUBLIC int keel_cgroup_set_memory_high(keel_cgroup *cg, uint64_t bytes, keel_error **err)
{
	return set_limit_key(cg, "memory.high", bytes, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_high(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.high", bytes, 1, err);
}

KEEL_PUBLIC int keel_cgroup_set_memory_low(keel_cgroup *cg, uint64_t bytes, keel_error **err)
{
	return set_limit_key(cg, "memory.low", bytes, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_low(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.low", bytes, 1, err);
}

KEEL_PUBLIC int keel_cgroup_set_memory_swap_max(keel_cgroup *cg, uint64_t bytes, keel_error **err)
{
	return set_limit_key(cg, "memory.swap.max", bytes, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_swap_max(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.swap.max", bytes, 1, err);
}

KEEL_PUBLIC int keel_cgroup_set_cpu_max(keel_cgroup *cg, uint64_t quota_us, uint64_t period_us,
					keel_error **err)
{
	char buf[64];

	if (!cg)
		return keel_error_invalid(err, "cgroup: set cpu.max: no cgroup given");
	if (period_us < 1000 || period_us > 1000000)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"set cpu.max: period %" PRIu64 " us is out of range (1000 to 1000000)", period_us);
	if (quota_us != KEEL_CGROUP_MAX && quota_us < 1000)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"set cpu.max: quota %" PRIu64 " us is below the minimum of 1000", quota_us);
	format_limit(quota_us, buf, sizeof(buf));
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %" PRIu64, period_us);
	return set_key(cg, "cpu.max", buf, err);
}

KEEL_PUBLIC int keel_cgroup_get_cpu_max(keel_cgroup *cg, uint64_t *quota_us, uint64_t *period_us,
					keel_error **err)
{
	uint64_t quota, period;
	char *text = NULL, *space;
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: read cpu.max: no cgroup given");
	ret = get_key(cg, "cpu.max", &text, err);
	if (ret < 0)
		return ret;
	space = strchr(text, ' ');
	if (!space || parse_limit(text, &quota) < 0 || parse_u64(space + 1, &period) < 0) {
		chomp(text);
		ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, EPROTO, "read cpu.max: unexpected contents '%s'", text);
	} else {
		if (quota_us)
			*quota_us = quota;
		if (period_us)
			*period_us = period;
	}
	free(text);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_set_cpu_weight(keel_cgroup *cg, uint64_t weight, keel_error **err)
{
	if (!cg)
		return keel_error_invalid(err, "cgroup: set cpu.weight: no cgroup given");
	if (weight < 1 || weight > 10000)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"set cpu.weight: %" PRIu64 " is out of range (1 to 10000)", weight);
	return set_limit_key(cg, "cpu.weight", weight, err);
}

KEEL_PUBLIC int keel_cgroup_get_cpu_weight(keel_cgroup *cg, uint64_t *weight, keel_error **err)
{
	return get_u64_key(cg, "cpu.weight", weight, 0, err);
}

static int set_list(keel_cgroup *cg, const char *key, const char *list, keel_error **err)
{
	size_t i;

	if (!cg)
		return keel_error_invalid(err, "cgroup: set %s: no cgroup given", key);
	if (!list)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "set %s: no list given", key);
	for (i = 0; list[i]; i++)
		if (!isdigit((unsigned char)list[i]) && list[i] != ',' && list[i] != '-')
			return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
					"set %s to '%s': not a list such as \"0-2,4\"", key, list);
	return set_key(cg, key, list, err);
}

static int get_list(keel_cgroup *cg, const char *key, char **out, keel_error **err)
{
	char *text = NULL;
	int ret;

	if (!cg || !out)
		return keel_error_invalid(err, "cgroup: read %s: no cgroup or no place for the result", key);
	ret = get_key(cg, key, &text, err);
	if (ret < 0)
		return ret;
	chomp(text);
	*out = text;
	return 0;
}

KEEL_PUBLIC int keel_cgroup_set_cpuset_cpus(keel_cgroup *cg, const char *cpus, keel_error **err)
{
	return set_list(cg, "cpuset.cpus", cpus, err);
}

KEEL_PUBLIC int keel_cgroup_get_cpuset_cpus(keel_cgroup *cg, char **cpus, keel_error **err)
{
	return get_list(cg, "cpuset.cpus", cpus, err);
}

KEEL_PUBLIC int keel_cgroup_set_cpuset_mems(keel_cgroup *cg, const char *mems, keel_error **err)
{
	return set_list(cg, "cpuset.mems", mems, err);
}

KEEL_PUBLIC int keel_cgroup_get_cpuset_mems(keel_cgroup *cg, char **mems, keel_error **err)
{
	return get_list(cg, "cpuset.mems", mems, err);
}

KEEL_PUBLIC int keel_cgroup_set_pids_max(keel_cgroup *cg, uint64_t max, keel_error **err)
{
	return set_limit_key(cg, "pids.max", max, err);
}

KEEL_PUBLIC int keel_cgroup_get_pids_max(keel_cgroup *cg, uint64_t *max, keel_error **err)
{
	return get_u64_key(cg, "pids.max", max, 1, err);
}

static const char *io_limit_name(keel_cgroup_io_limit which)
{
	switch (which) {
	case KEEL_CGROUP_IO_RBPS: return "rbps";
	case KEEL_CGROUP_IO_WBPS: return "wbps";
	case KEEL_CGROUP_IO_RIOPS: return "riops";
	case KEEL_CGROUP_IO_WIOPS: return "wiops";
	}
	return NULL;
}

/* The line of a per-device file (io.max, io.stat, io.weight) for maj:min. */
static const char *device_line(const char *text, unsigned major, unsigned minor)
{
	char dev[32];

	snprintf(dev, sizeof(dev), "%u:%u", major, minor);
	return find_line(text, dev);
}

/* One "key=value" of the line for major:minor in a per-device file (io.max,
 * io.stat); fallback when the device has no line or no such key. */
static int read_device_value(keel_cgroup *cg, const char *file, unsigned major, unsigned minor,
			     const char *key, uint64_t fallback, int (*parse)(const char *, uint64_t *),
			     uint64_t *value, keel_error **err)
{
	const char *line, *v;
	char *text = NULL;
	int ret;

	ret = get_key(cg, file, &text, err);
	if (ret < 0)
		return ret;
	*value = fallback;
	line = device_line(text, major, minor);
	v = line ? find_word_value(line, key) : NULL;
	if (v && parse(v, value) < 0)
		ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, EPROTO, "read %s: bad %s of %u:%u", file, key, major, minor);
	free(text);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_set_io_max(keel_cgroup *cg, unsigned major, unsigned minor,
				       keel_cgroup_io_limit which, uint64_t value, keel_error **err)
{
	const char *name = io_limit_name(which);
	char buf[96], val[32];
	int ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: set io.max: no cgroup given");
	if (!name)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "set io.max: unknown limit %d", (int)which);
	if (value == 0)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"set io.max %s of %u:%u: 0 would stop all I/O; the least is 1", name, major, minor);
	format_limit(value, val, sizeof(val));
	snprintf(buf, sizeof(buf), "%u:%u %s=%s", major, minor, name, val);
	ret = set_key(cg, "io.max", buf, err);
	if (ret == -ENODEV)
		return cg_plain(cg, err, KEEL_ERROR_NOT_FOUND, ENODEV,
				"set io.max to '%s': there is no block device %u:%u", buf, major, minor);
	return ret;
}

KEEL_PUBLIC int keel_cgroup_get_io_max(keel_cgroup *cg, unsigned major, unsigned minor,
				       keel_cgroup_io_limit which, uint64_t *value, keel_error **err)
{
	const char *name = io_limit_name(which);

	if (!cg || !value)
		return keel_error_invalid(err, "cgroup: read io.max: no cgroup or no place for the result");
	if (!name)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "read io.max: unknown limit %d", (int)which);
	/* a device without a line has no limit */
	return read_device_value(cg, "io.max", major, minor, name, KEEL_CGROUP_MAX, parse_limit, value, err);
}

KEEL_PUBLIC int keel_cgroup_set_io_weight(keel_cgroup *cg, unsigned major, unsigned minor,
					  uint64_t weight, keel_error **err)
{
	char buf[64];

	if (!cg)
		return keel_error_invalid(err, "cgroup: set io.weight: no cgroup given");
	if (weight < 1 || weight > 10000)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"set io.weight: %" PRIu64 " is out of range (1 to 10000)", weight);
	if (major == 0 && minor == 0)
		snprintf(buf, sizeof(buf), "default %" PRIu64, weight);
	else
		snprintf(buf, sizeof(buf), "%u:%u %" PRIu64, major, minor, weight);
	return set_key(cg, "io.weight", buf, err);
}

KEEL_PUBLIC int keel_cgroup_get_io_weight(keel_cgroup *cg, unsigned major, unsigned minor,
					  uint64_t *weight, keel_error **err)
{
	const char *line = NULL;
	char *text = NULL;
	int ret;

	if (!cg || !weight)
		return keel_error_invalid(err, "cgroup: read io.weight: no cgroup or no place for the result");
	ret = get_key(cg, "io.weight", &text, err);
	if (ret < 0)
		return ret;
	if (major || minor)
		line = device_line(text, major, minor);
	if (!line)
		line = find_line(text, "default");
	if (!line || parse_u64(line, weight) < 0)
		ret = cg_plain(cg, err, KEEL_ERROR_SYSTEM, EPROTO, "read io.weight: no weight for %u:%u", major, minor);
	free(text);
	return ret;
}

/* ---------------------------------------------------------------- stats -- */

KEEL_PUBLIC int keel_cgroup_get_memory_current(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.current", bytes, 0, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_peak(keel_cgroup *cg, uint64_t *bytes, keel_error **err)
{
	return get_u64_key(cg, "memory.peak", bytes, 0, err);
}

KEEL_PUBLIC int keel_cgroup_get_memory_stat(keel_cgroup *cg, const char *field, uint64_t *value,
					    keel_error **err)
{
	return get_field(cg, "memory.stat", field, value, err);
}

static const char *memory_event_name(keel_cgroup_memory_event which)
{
	switch (which) {
	case KEEL_CGROUP_MEMORY_EVENT_LOW: return "low";
	case KEEL_CGROUP_MEMORY_EVENT_HIGH: return "high";
	case KEEL_CGROUP_MEMORY_EVENT_MAX: return "max";
	case KEEL_CGROUP_MEMORY_EVENT_OOM: return "oom";
	case KEEL_CGROUP_MEMORY_EVENT_OOM_KILL: return "oom_kill";
	case KEEL_CGROUP_MEMORY_EVENT_OOM_GROUP_KILL: return "oom_group_kill";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_memory_event(keel_cgroup *cg, keel_cgroup_memory_event which,
					     uint64_t *value, keel_error **err)
{
	const char *name = memory_event_name(which);

	if (!name)
		return keel_error_invalid(err, "cgroup: read memory.events: unknown counter %d", (int)which);
	return get_field(cg, "memory.events", name, value, err);
}

static const char *cpu_stat_name(keel_cgroup_cpu_stat which)
{
	switch (which) {
	case KEEL_CGROUP_CPU_USAGE_USEC: return "usage_usec";
	case KEEL_CGROUP_CPU_USER_USEC: return "user_usec";
	case KEEL_CGROUP_CPU_SYSTEM_USEC: return "system_usec";
	case KEEL_CGROUP_CPU_NR_PERIODS: return "nr_periods";
	case KEEL_CGROUP_CPU_NR_THROTTLED: return "nr_throttled";
	case KEEL_CGROUP_CPU_THROTTLED_USEC: return "throttled_usec";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_cpu_stat(keel_cgroup *cg, keel_cgroup_cpu_stat which,
					 uint64_t *value, keel_error **err)
{
	const char *name = cpu_stat_name(which);

	if (!name)
		return keel_error_invalid(err, "cgroup: read cpu.stat: unknown field %d", (int)which);
	return get_field(cg, "cpu.stat", name, value, err);
}

KEEL_PUBLIC int keel_cgroup_get_pids_current(keel_cgroup *cg, uint64_t *count, keel_error **err)
{
	return get_u64_key(cg, "pids.current", count, 0, err);
}

static const char *io_stat_name(keel_cgroup_io_stat which)
{
	switch (which) {
	case KEEL_CGROUP_IO_STAT_RBYTES: return "rbytes";
	case KEEL_CGROUP_IO_STAT_WBYTES: return "wbytes";
	case KEEL_CGROUP_IO_STAT_RIOS: return "rios";
	case KEEL_CGROUP_IO_STAT_WIOS: return "wios";
	case KEEL_CGROUP_IO_STAT_DBYTES: return "dbytes";
	case KEEL_CGROUP_IO_STAT_DIOS: return "dios";
	}
	return NULL;
}

KEEL_PUBLIC int keel_cgroup_get_io_stat(keel_cgroup *cg, unsigned major, unsigned minor,
					keel_cgroup_io_stat which, uint64_t *value, keel_error **err)
{
	const char *name = io_stat_name(which);

	if (!cg || !value)
		return keel_error_invalid(err, "cgroup: read io.stat: no cgroup or no place for the result");
	if (!name)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL, "read io.stat: unknown counter %d", (int)which);
	/* no line: nothing was accounted to the device yet */
	return read_device_value(cg, "io.stat", major, minor, name, 0, parse_u64, value, err);
}

/* --------------------------------------------------- cgroup.events state -- */

struct cg_state {
	int populated, frozen;
	uint64_t oom, oom_kill;
};

/* Read cgroup.events, and memory.events when oom counts are wanted (only
 * the events API wants them: a state check need not look for a file that
 * exists only with a memory limit). */
static int read_events_oom(keel_cgroup *cg, struct cg_state *st, int oom, keel_error **err)
{
	const char *v;
	char *text = NULL;
	int ret;

	ret = read_at(cg->dirfd, "cgroup.events", &text);
	if (ret < 0)
		return cg_sys(cg, err, -ret, "read cgroup.events");
	v = find_line(text, "populated");
	st->populated = v ? parse_int(v) : 0;
	v = find_line(text, "frozen");
	st->frozen = v ? parse_int(v) : 0;
	free(text);
	st->oom = st->oom_kill = 0;
	if (oom && read_at(cg->dirfd, "memory.events", &text) == 0) {
		if ((v = find_line(text, "oom")))
			parse_u64(v, &st->oom);
		if ((v = find_line(text, "oom_kill")))
			parse_u64(v, &st->oom_kill);
		free(text);
	}
	return 0;
}

static int read_events(keel_cgroup *cg, struct cg_state *st, keel_error **err)
{
	return read_events_oom(cg, st, 0, err);
}

KEEL_PUBLIC int keel_cgroup_is_populated(keel_cgroup *cg, int *populated, keel_error **err)
{
	struct cg_state st;
	int ret;

	if (!cg || !populated)
		return keel_error_invalid(err, "cgroup: populated: no cgroup or no place for the result");
	ret = read_events(cg, &st, err);
	if (ret == 0)
		*populated = st.populated;
	return ret;
}

KEEL_PUBLIC int keel_cgroup_is_frozen(keel_cgroup *cg, int *frozen, keel_error **err)
{
	struct cg_state st;
	int ret;

	if (!cg || !frozen)
		return keel_error_invalid(err, "cgroup: frozen: no cgroup or no place for the result");
	ret = read_events(cg, &st, err);
	if (ret == 0)
		*frozen = st.frozen;
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

enum cg_wait_for { WAIT_FROZEN, WAIT_THAWED, WAIT_EMPTY };

static int reached(const struct cg_state *st, enum cg_wait_for want)
{
	return (want == WAIT_FROZEN && st->frozen) || (want == WAIT_THAWED && !st->frozen) ||
	       (want == WAIT_EMPTY && !st->populated);
}

/*
 * Wait until cgroup.events shows the state wanted, watching it with
 * inotify so that no change is missed between a read and the sleep.
 * Returns 0, -ETIMEDOUT, or a negative errno (with err filled).
 */
static int wait_events(keel_cgroup *cg, enum cg_wait_for want, int timeout_ms, keel_error **err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char file[PATH_MAX];
	struct cg_state st;
	int fd, ret;

	/* Already there (the common case: removing the cgroup of an init that
	 * was reaped): no watch. Closing an inotify instance waits for an
	 * SRCU grace period in the kernel, 10-20 ms on a busy machine, far
	 * more than the rest of a container start. */
	ret = read_events(cg, &st, err);
	if (ret < 0)
		return ret;
	if (reached(&st, want))
		return 0;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return cg_sys(cg, err, errno, "watch cgroup.events");
	snprintf(file, sizeof(file), "%s/cgroup.events", cg->path);
	if (inotify_add_watch(fd, file, IN_MODIFY) < 0) {
		ret = cg_sys(cg, err, errno, "watch %s", file);
		close(fd);
		return ret;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms;

		ret = read_events(cg, &st, err);
		if (ret < 0)
			break;
		if (reached(&st, want))
			break;
		if (deadline >= 0 && now_ms() >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		wait_ms = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (deadline >= 0 && wait_ms < 0)
			wait_ms = 0;
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
			ret = cg_sys(cg, err, errno, "wait for cgroup.events");
			break;
		}
		drain(fd);
	}
	close(fd);
	return ret;
}

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

/* --------------------------------------------------------------- events -- */

/* Watch memory.events as soon as it exists (a memory limit enables it). */
static void refresh_watches(keel_cgroup *cg)
{
	char file[PATH_MAX];

	if (cg->events_fd < 0 || cg->wd_memory >= 0)
		return;
	snprintf(file, sizeof(file), "%s/memory.events", cg->path);
	cg->wd_memory = inotify_add_watch(cg->events_fd, file, IN_MODIFY);
}

KEEL_PUBLIC int keel_cgroup_events_fd(keel_cgroup *cg, keel_error **err)
{
	struct cg_state st;
	char file[PATH_MAX];
	int fd, ret;

	if (!cg)
		return keel_error_invalid(err, "cgroup: events: no cgroup given");
	if (cg->events_fd >= 0)
		return cg->events_fd;
	ret = read_events(cg, &st, err);
	if (ret < 0)
		return ret;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return cg_sys(cg, err, errno, "events: inotify");
	snprintf(file, sizeof(file), "%s/cgroup.events", cg->path);
	if (inotify_add_watch(fd, file, IN_MODIFY) < 0) {
		ret = cg_sys(cg, err, errno, "events: watch %s", file);
		close(fd);
		return ret;
	}
	cg->events_fd = fd;
	cg->wd_memory = -1;
	refresh_watches(cg);
	/* the baseline is read again now that the watches are in place, so a
	 * change between the two reads is reported, not lost */
	if (read_events_oom(cg, &st, 1, NULL) == 0) {
		cg->last_populated = st.populated;
		cg->last_frozen = st.frozen;
		cg->last_oom = st.oom;
		cg->last_oom_kill = st.oom_kill;
	}
	return fd;
}

KEEL_PUBLIC int keel_cgroup_events_read(keel_cgroup *cg, unsigned *what, keel_error **err)
{
	struct cg_state st;
	unsigned bits = 0;
	int ret;

	if (!cg || !what)
		return keel_error_invalid(err, "cgroup: events: no cgroup or no place for the result");
	if (cg->events_fd < 0)
		return cg_plain(cg, err, KEEL_ERROR_INVALID, EINVAL,
				"events: no events fd yet (call keel_cgroup_events_fd first)");
	drain(cg->events_fd);
	refresh_watches(cg);
	ret = read_events_oom(cg, &st, 1, err);
	if (ret < 0)
		return ret;
	if (st.populated != cg->last_populated)
		bits |= KEEL_CGROUP_EVENT_POPULATED;
	if (st.frozen != cg->last_frozen)
		bits |= KEEL_CGROUP_EVENT_FROZEN;
	if (st.oom > cg->last_oom)
		bits |= KEEL_CGROUP_EVENT_OOM;
	if (st.oom_kill > cg->last_oom_kill)
		bits |= KEEL_CGROUP_EVENT_OOM_KILL;
	cg->last_populated = st.populated;
	cg->last_frozen = st.frozen;
	cg->last_oom = st.oom;
	cg->last_oom_kill = st.oom_kill;
	*what = bits;
	return 0;
}
