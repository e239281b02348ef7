/*
 * A container's persisted state: the state root, ids, the state file, the
 * lock, and the listing of a state root.
 *
 * Another process finds a container only through these files, so they
 * are kept simple and robust:
 *  - the state file is text, one key=value per line, so that a person (or
 *    a shell script) can read it, and unknown keys are ignored so that a
 *    newer library can add some;
 *  - it is rewritten in place by a single pwrite() (keel_state_write()
 *    says why not by rename), under the lock, so a reader that holds the
 *    lock never sees half of it. It is not fsync'd: it describes
 *    processes, which do not outlive the kernel, so the page cache is all
 *    the durability it needs (after a power loss every recorded init is
 *    gone anyway and refresh() checks the record against the kernel);
 *  - the lock is an exclusive flock on the container's directory: every
 *    operation takes it, and an operation that got it after a delete
 *    finds the directory gone.
 *
 * The pid of the init is stored with its start time (field 22 of
 * /proc/PID/stat, in clock ticks since boot): a pid that was reused by an
 * unrelated process has another start time, so it is never mistaken for
 * the container.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "resources.h"
#include "state.h"
#include "util/child.h"
#include "util/fs.h"
#include "util/str.h"

#define ID_MAX 64

void keel_cstate_clear(struct keel_cstate *st)
{
	char **l;

	free(st->upper_dir);
	free(st->cgroup);
	free(st->net_host);
	free(st->host_veth);
	free(st->bridge);
	for (l = st->layers; l && *l; l++)
		free(*l);
	free(st->layers);
	keel_strv_free(st->resources);
	keel_strv_free(st->device_rules);
	memset(st, 0, sizeof(*st));
}

/* The locale-independent test an id needs (no ctype table). */
static bool ascii_alnum(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

int keel_state_check_id(const char *id, keel_error **err)
{
	size_t i, len;

	if (!id || !*id)
		return keel_error_invalid(err, "container id is empty");
	len = strlen(id);
	if (len > ID_MAX)
		return keel_error_invalid(err, "container id '%.20s...' is too long (%zu characters, at most %d)",
					  id, len, ID_MAX);
	if (!ascii_alnum((unsigned char)id[0]))
		return keel_error_invalid(err, "container id '%s' must start with a letter or a digit", id);
	for (i = 1; i < len; i++) {
		unsigned char ch = (unsigned char)id[i];

		if (!(ascii_alnum(ch) || ch == '_' || ch == '.' || ch == '-'))
			return keel_error_invalid(err, "container id '%s': character '%c' is not allowed "
						  "(use letters, digits, '_', '.' and '-')",
						  id, ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
	return 0;
}

int keel_state_default_root(char **out, keel_error **err)
{
	const char *xdg;

	if (geteuid() == 0) {
		*out = strdup("/run/keel");
	} else {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (!xdg || xdg[0] != '/')
			return keel_error_invalid(err, "no state root: not root and $XDG_RUNTIME_DIR is not set "
						  "(pass a state root)");
		*out = keel_str_join(xdg, "/keel", NULL);
	}
	if (!*out)
		return keel_error_sys(err, ENOMEM, "state root");
	return 0;
}

/* ------------------------------------------------------- who wrote it -- */

/*
 * What another process finds in a state root it trusts: a container there
 * can be made to kill, enter or delete what the state names. So, for a
 * caller of effective uid U:
 *  - every directory on the real path of the state root, itself included,
 *    is owned by U or by root, and is writable by its group or by others
 *    only with the sticky bit (as /tmp), which keeps others from renaming
 *    or removing what U made in it;
 *  - a container directory <root>/<id> is a real directory (no symlink),
 *    owned by U and writable by nobody else;
 *  - its state file is a regular file (opened with O_NOFOLLOW), owned by
 *    U and writable by nobody else.
 * Anything else is refused with EPERM, saying which path and why.
 */
static int check_mode(const struct stat *sb, const char *what, const char *path, int root_ok, int sticky_ok,
		      keel_error **err)
{
	uid_t me = geteuid();

	if (sb->st_uid != me && !(root_ok && sb->st_uid == 0))
		return keel_error_sys(err, EPERM, "%s %s is owned by uid %u, not by uid %u%s", what, path,
				      (unsigned)sb->st_uid, (unsigned)me, root_ok ? " or root" : "");
	if ((sb->st_mode & (S_IWGRP | S_IWOTH)) && !(sticky_ok && (sb->st_mode & S_ISVTX)))
		return keel_error_sys(err, EPERM, "%s %s is writable by %s%s", what, path,
				      (sb->st_mode & S_IWOTH) ? "others" : "its group",
				      sticky_ok ? " and not sticky" : "");
	return 0;
}

/* The real path of root, or of its deepest ancestor that exists (a root
 * not made yet is made by its first create, as the caller). */
static char *real_existing_part(const char *root)
{
	char *path = strdup(root), *real = NULL, *slash;

	while (path && !(real = realpath(path, NULL)) && errno == ENOENT && (slash = strrchr(path, '/'))) {
		if (slash == path && !path[1])
			break; /* "/" itself is missing?! */
		slash[slash == path] = '\0'; /* "/a" -> "/", "/a/b" -> "/a" */
	}
	free(path);
	return real;
}

int keel_state_check_root(const char *root, keel_error **err)
{
	char *real, *prefix;
	struct stat sb;
	size_t len, i;
	int ret = 0;

	real = real_existing_part(root);
	if (!real)
		return keel_error_sys(err, errno, "state root %s", root);
	len = strlen(real);
	prefix = malloc(len + 1);
	if (!prefix) {
		free(real);
		return keel_error_sys(err, ENOMEM, "state root %s", root);
	}
	/* "/", then each directory down to the root itself */
	for (i = 0; i <= len && ret == 0; i++) {
		if (i < len && real[i] != '/')
			continue;
		memcpy(prefix, real, i ? i : 1);
		prefix[i ? i : 1] = '\0';
		if (lstat(prefix, &sb) < 0)
			ret = keel_error_sys(err, errno, "state root %s: %s", root, prefix);
		else
			ret = check_mode(&sb, i == len ? "state root" : "state root: directory", prefix, 1, 1, err);
	}
	free(prefix);
	free(real);
	return ret;
}

/* A container directory or a state file, by an fd on it. */
static int check_held(int fd, const char *what, const char *path, int want_dir, keel_error **err)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return keel_error_sys(err, errno, "%s %s", what, path);
	if (want_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		return keel_error_sys(err, EPERM, "%s %s is not a %s", what, path,
				      want_dir ? "directory" : "regular file");
	return check_mode(&sb, what, path, 0, 0, err);
}

/* ---------------------------------------------------------- state file -- */

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* The state file's text, built in memory by plain appends: stdio's
 * formatting would pull libc's printf machinery and tables into every
 * process that starts a container, for a few decimals (util/str.h). */
static void put_str(struct keel_strbuf *t, const char *key, const char *value)
{
	if (value)
		keel_strbuf_add(t, key, "=", value, "\n", NULL);
}

/* "key=<v>\n", v as "%lld" writes it (and so "%d" for an int) */
static void put_ll(struct keel_strbuf *t, const char *key, long long v)
{
	char num[KEEL_STR_DEC_SIZE];

	keel_strbuf_add(t, key, "=", keel_str_from_ll(v, num), "\n", NULL);
}

/* "key=<v>\n", v as "%llu" writes it (and so "%u" for an unsigned) */
static void put_ull(struct keel_strbuf *t, const char *key, unsigned long long v)
{
	char num[KEEL_STR_DEC_SIZE];

	keel_strbuf_add(t, key, "=", keel_utoa(v, num), "\n", NULL);
}

static void format_state(struct keel_strbuf *t, const struct keel_cstate *st)
{
	char **l;

	put_ll(t, "status", st->status);
	put_ll(t, "pid", (int)st->pid);
	put_ull(t, "pid_start_time", st->start_time);
	put_ll(t, "created", st->created);
	put_ll(t, "started", st->started);
	if (st->has_exit) {
		put_ll(t, "exit_code", st->exit_code);
		put_ll(t, "term_signal", st->term_signal);
	}
	put_ull(t, "namespaces", (unsigned)st->ns_flags);
	put_str(t, "upper_dir", st->upper_dir);
	put_ll(t, "keep_upper", st->keep_upper);
	for (l = st->layers; l && *l; l++)
		put_str(t, "layer", *l);
	put_str(t, "cgroup", st->cgroup);
	if (st->no_cgroup)
		put_ll(t, "no_cgroup", 1);
	if (st->stop_signal)
		put_ll(t, "stop_signal", st->stop_signal);
	put_str(t, "net_host", st->net_host);
	put_str(t, "host_veth", st->host_veth);
	put_str(t, "bridge", st->bridge);
	if (st->ports)
		put_ll(t, "ports", st->ports);
	for (l = st->resources; l && *l; l++)
		put_str(t, "resource", *l);
	if (st->has_device_rules) {
		put_ll(t, "device_rules", (long long)strv_len(st->device_rules));
		for (l = st->device_rules; l && *l; l++)
			put_str(t, "device_rule", *l);
	}
}

/*
 * Rewrite the state file in place: one pwrite() of the whole record at
 * offset 0, padded with empty lines (which the reader skips) up to the
 * file's old size, so the file never needs truncating. A writer that dies
 * can only die before or after that one system call, never in the middle
 * of a record, and every reader in the library holds the container's lock
 * (keel_state_hold_lock()), so no reader sees a write half done.
 *
 * Why not a temporary file renamed over the old one: each rename creates
 * an inode, and on an ext4 /run without a journal (the usual VM image)
 * every new inode makes ext4 step over all the inodes deleted in the last
 * few seconds (recently_deleted()). A host starting containers at a high
 * rate paid 1.8 ms of kernel time per container for that; the state file
 * is now one inode for the container's whole life.
 */
int keel_state_hold_write(struct keel_state_hold *h, const char *dir, const struct keel_cstate *st,
			  keel_error **err)
{
	struct keel_strbuf t = { 0 };
	char *buf;
	size_t len, want;
	struct stat sb;
	ssize_t n;
	int fd, ret = 0;

	format_state(&t, st);
	if (t.failed) {
		free(t.buf);
		return keel_error_sys(err, ENOMEM, "write state %s/state", dir);
	}
	buf = t.buf;
	len = t.len;
	if (h->fd < 0 || !h->writable) {
		/* O_EXCL first: a create makes the file, and then knows its
		 * size (0) without asking. */
		fd = openat(h->dirfd, "state", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			sb.st_size = 0;
		} else if (errno == EEXIST) {
			fd = openat(h->dirfd, "state", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0 && (check_held(fd, "state file", dir, 0, NULL) < 0 || fstat(fd, &sb) < 0)) {
				ret = -EPERM;
				close(fd);
				goto out;
			}
		}
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		if (h->fd >= 0)
			close(h->fd);
		h->fd = fd;
		h->writable = 1;
		h->size = (size_t)sb.st_size;
	}
	want = len;
	if (h->size > len) {
		char *grown = realloc(buf, h->size);

		if (!grown) {
			ret = -ENOMEM;
			goto out;
		}
		buf = grown;
		memset(buf + len, '\n', h->size - len);
		want = h->size;
	}
	n = pwrite(h->fd, buf, want, 0);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != want)
		ret = -EIO; /* a full /run: the record is cut, say so */
	if (n > 0 && (size_t)n > h->size)
		h->size = (size_t)n;
out:
	free(buf);
	if (ret < 0)
		return keel_error_sys(err, -ret, "write state %s/state", dir);
	return 0;
}

/* A whole value as strtoll() reads it, and nothing after it. */
static int parse_ll(const char *v, long long *out)
{
	const char *end;

	return keel_str_to_ll(v, &end, out) < 0 || *end ? -1 : 0;
}

/* The range of each number the state file holds: a value outside it
 * (pid 2^32 + 1, which a cast would wrap to 1) makes the file corrupt. */
static const struct {
	const char *key;
	long long min, max;
} ranges[] = {
	{ "status", 1, 5 },
	{ "pid", 0, 4194304 },                 /* PID_MAX_LIMIT */
	{ "pid_start_time", 0, LLONG_MAX },
	{ "exit_code", -1, 255 },
	{ "term_signal", 0, 64 },
	{ "namespaces", 0, 0xff },             /* KEEL_NS_ALL */
	{ "keep_upper", 0, 1 },
	{ "no_cgroup", 0, 1 },
	{ "stop_signal", 1, 64 },              /* 1 to SIGRTMAX, as keel_container_kill() takes */
	{ "device_rules", 0, 4096 },           /* far more than a filter needs */
};

static bool in_range(const char *key, long long n)
{
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (!strcmp(key, ranges[i].key))
			return n >= ranges[i].min && n <= ranges[i].max;
	return true; /* a key of a newer library */
}

/* Append a layer in amortized constant time (keel_cstrv_push() counts the
 * array each time: 40,000 layer= lines took a minute). */
static int push_layer(struct keel_cstate *st, const char *v)
{
	char **grown, *copy;
	size_t cap;

	if (st->n_layers + 1 >= st->cap_layers) {
		cap = st->cap_layers ? st->cap_layers * 2 : 8;
		grown = realloc(st->layers, cap * sizeof(char *));
		if (!grown)
			return -1;
		st->layers = grown;
		st->cap_layers = cap;
	}
	if (!(copy = strdup(v)))
		return -1;
	st->layers[st->n_layers++] = copy;
	st->layers[st->n_layers] = NULL;
	return 0;
}

/* Apply one "key=value" line to st. Returns 0, or -1 when the value is bad. */
static int parse_line(struct keel_cstate *st, const char *key, const char *v)
{
	long long n = 0;
	char **str = NULL;

	if (!strcmp(key, "upper_dir"))
		str = &st->upper_dir;
	else if (!strcmp(key, "cgroup"))
		str = &st->cgroup;
	else if (!strcmp(key, "net_host"))
		str = &st->net_host;
	else if (!strcmp(key, "host_veth"))
		str = &st->host_veth;
	else if (!strcmp(key, "bridge"))
		str = &st->bridge;
	if (str) {
		free(*str);
		*str = strdup(v);
		return *str ? 0 : -1;
	}
	if (!strcmp(key, "layer"))
		return push_layer(st, v);
	/* What an update recorded: only well-formed lines, and the rules only
	 * after the count that announces them. */
	if (!strcmp(key, "resource"))
		return keel_resources_line_ok(v) ? keel_cstrv_push(&st->resources, v) : -1;
	if (!strcmp(key, "device_rule")) {
		struct keel_device_rule rule;

		if (!st->has_device_rules || (long)strv_len(st->device_rules) >= st->n_device_rules ||
		    keel_resources_rule_parse(v, &rule) < 0)
			return -1;
		return keel_cstrv_push(&st->device_rules, v);
	}
	/* A number that does not parse is ignored, as 1.0 did, but for the
	 * ones a wrong guess would make dangerous: status, pid, and the
	 * stop signal (which keel-kill sends). */
	if (parse_ll(v, &n) < 0)
		return strcmp(key, "status") && strcmp(key, "pid") && strcmp(key, "stop_signal") ? 0 : -1;
	if (!in_range(key, n))
		return -1;
	if (!strcmp(key, "status"))
		st->status = (int)n;
	else if (!strcmp(key, "pid"))
		st->pid = (pid_t)n;
	else if (!strcmp(key, "ports"))
		st->ports = n != 0;
	else if (!strcmp(key, "pid_start_time"))
		st->start_time = (unsigned long long)n;
	else if (!strcmp(key, "created"))
		st->created = n;
	else if (!strcmp(key, "started"))
		st->started = n;
	else if (!strcmp(key, "exit_code"))
		st->has_exit = 1, st->exit_code = (int)n;
	else if (!strcmp(key, "term_signal"))
		st->term_signal = (int)n;
	else if (!strcmp(key, "namespaces"))
		st->ns_flags = (unsigned)n;
	else if (!strcmp(key, "keep_upper"))
		st->keep_upper = n != 0;
	else if (!strcmp(key, "no_cgroup"))
		st->no_cgroup = n != 0;
	else if (!strcmp(key, "stop_signal"))
		st->stop_signal = (int)n;
	else if (!strcmp(key, "device_rules")) {
		if (st->has_device_rules)
			return -1; /* announced twice */
		st->has_device_rules = 1;
		st->n_device_rules = (long)n;
	}
	return 0;
}

/* Parse the text of a state file (NUL-terminated, changed in place). */
static int parse_state(char *buf, struct keel_cstate *st, const char *dir, keel_error **err)
{
	char *line, *next, *eq;
	int lineno = 0;

	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (!*line)
			continue;
		eq = strchr(line, '=');
		if (!eq || eq == line)
			goto bad;
		*eq = '\0';
		if (parse_line(st, line, eq + 1) < 0)
			goto bad;
	}
	if (st->status < 1 || st->status > 5) {
		keel_cstate_clear(st);
		return keel_error_sys(err, EIO, "read state %s/state: no valid status", dir);
	}
	if (st->has_device_rules && (long)strv_len(st->device_rules) != st->n_device_rules) {
		keel_cstate_clear(st);
		return keel_error_sys(err, EIO, "read state %s/state: device_rules=%ld announces more device_rule "
				      "lines than follow", dir, st->n_device_rules);
	}
	return 0;
bad:
	keel_cstate_clear(st);
	return keel_error_sys(err, EIO, "read state %s/state: line %d does not parse", dir, lineno);
}

/* Open the state file for a hold that has none yet: read-write, so that
 * the writes need no open of their own, or read-only for a caller that
 * may only read it. */
static int open_state(struct keel_state_hold *h, const char *dir, keel_error **err)
{
	struct stat sb;
	int fd, ret, writable = 1;

	fd = openat(h->dirfd, "state", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS)) {
		writable = 0;
		fd = openat(h->dirfd, "state", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 && errno == ELOOP)
		return keel_error_sys(err, EPERM, "open %s/state: it is a symbolic link", dir);
	if (fd < 0)
		return keel_error_sys(err, errno, "open %s/state", dir);
	if ((ret = check_held(fd, "state file", dir, 0, err)) < 0) {
		close(fd);
		return ret;
	}
	if (fstat(fd, &sb) < 0) {
		int e = errno;

		close(fd);
		return keel_error_sys(err, e, "read state %s/state", dir);
	}
	h->fd = fd;
	h->writable = writable;
	h->size = (size_t)sb.st_size;
	return 0;
}

/*
 * Read the state file whole: h->size (from the fstat under this lock)
 * tells how much there is, so this is one pread() on the held fd. The
 * file is read again by every operation, even when this handle wrote it
 * last: its timestamps are too coarse (a jiffy on many kernels) to prove
 * that no other process rewrote it since, with a record of the same size.
 */
int keel_state_hold_read(struct keel_state_hold *h, const char *dir, struct keel_cstate *st, keel_error **err)
{
	size_t got = 0;
	ssize_t n;
	char *buf;
	int ret;

	keel_cstate_clear(st);
	if (h->fd < 0 && (ret = open_state(h, dir, err)) < 0)
		return ret;
	if (h->size > KEEL_STATE_MAX_SIZE)
		return keel_error_sys(err, EIO, "read state %s/state: %zu bytes, more than a state file can hold (%d)",
				      dir, h->size, KEEL_STATE_MAX_SIZE);
	buf = malloc(h->size + 1);
	if (!buf)
		return keel_error_sys(err, ENOMEM, "read state %s/state", dir);
	while (got < h->size) {
		n = pread(h->fd, buf + got, h->size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return keel_error_sys(err, e, "read state %s/state", dir);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	ret = parse_state(buf, st, dir, err);
	free(buf);
	return ret;
}

/* The path-based forms: one-off holds on an O_PATH fd of dir. */
static int hold_path(struct keel_state_hold *h, const char *dir, keel_error **err)
{
	*h = (struct keel_state_hold)KEEL_STATE_HOLD_INIT;
	h->dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h->dirfd < 0)
		return keel_error_sys(err, errno, "open %s/state", dir);
	return 0;
}

int keel_state_write(const char *dir, const struct keel_cstate *st, keel_error **err)
{
	struct keel_state_hold h;
	int ret = hold_path(&h, dir, err);

	if (ret == 0)
		ret = keel_state_hold_write(&h, dir, st, err);
	keel_state_hold_close(&h);
	return ret;
}

int keel_state_read(const char *dir, struct keel_cstate *st, keel_error **err)
{
	struct keel_state_hold h;
	int ret;

	keel_cstate_clear(st);
	ret = hold_path(&h, dir, err);
	if (ret == 0)
		ret = keel_state_hold_read(&h, dir, st, err);
	keel_state_hold_close(&h);
	return ret;
}

/* ----------------------------------------------------------------- lock -- */

static int flock_ex(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * The lock is a flock on the container's directory itself: no lock file,
 * so no inode to create (see keel_state_hold_write()). A process that
 * waited for the lock while the container was deleted holds a directory
 * that is gone (no links left); it reports -ENOENT rather than read a
 * container that was made again under the same id.
 *
 * A hold keeps the directory (and, once read or written, the state file)
 * open between operations. It is still the container's only while the
 * state file has a link: a delete unlinks it before it removes the
 * directory, under the lock, so a held state file without links means
 * the container was deleted (and perhaps made again under the same id),
 * and the hold starts over by path, exactly as a first lock does.
 *
 * The directory is held as an O_PATH fd and opened for the flock only
 * while locked (openat ".", no path walk). Every spawn's child gets a copy
 * of all our fds and closes them again, and closing a real directory fd
 * costs a dnotify and a POSIX-lock lookup that an O_PATH fd skips: with a
 * thousand containers held in one process, that was ~8% of the time to
 * start them.
 */
static int lock_held_dir(struct keel_state_hold *h)
{
	int e;

	h->lockfd = openat(h->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->lockfd < 0)
		return -errno;
	if ((e = flock_ex(h->lockfd)) < 0) {
		close(h->lockfd);
		h->lockfd = -1;
	}
	return e;
}

int keel_state_hold_lock(struct keel_state_hold *h, const char *dir, int made, keel_error **err)
{
	struct stat sb;
	int e;

	if (h->dirfd >= 0) {
		e = lock_held_dir(h);
		if (e < 0 && e != -ENOENT)
			return keel_error_sys(err, -e, "lock %s", dir);
		if (e == 0 && fstat(h->fd >= 0 ? h->fd : h->dirfd, &sb) == 0 && sb.st_nlink > 0) {
			if (h->fd >= 0)
				h->size = (size_t)sb.st_size;
			return 0;
		}
		keel_state_hold_close(h);
	}
	h->dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h->dirfd < 0)
		return keel_error_sys(err, errno == ELOOP || errno == ENOTDIR ? EPERM : errno,
				      "open state directory %s%s", dir,
				      errno == ELOOP || errno == ENOTDIR ? ": not a directory (a symbolic link?)" : "");
	if ((e = check_held(h->dirfd, "container directory", dir, 1, err)) < 0) {
		keel_state_hold_close(h);
		return e;
	}
	if ((e = lock_held_dir(h)) < 0) {
		keel_state_hold_close(h);
		return keel_error_sys(err, -e, "lock %s", dir);
	}
	/* Removed before we got the lock: a force delete removes a directory
	 * without a state file too (a create that died before writing it),
	 * so even the create whose mkdir made it checks. */
	(void)made;
	if (fstat(h->dirfd, &sb) == 0 && sb.st_nlink == 0) {
		keel_state_hold_close(h);
		return keel_error_sys(err, ENOENT, "lock %s: the container was deleted", dir);
	}
	return 0;
}

void keel_state_hold_unlock(struct keel_state_hold *h)
{
	/* Unlock explicitly: a process we spawned may still hold a copy of
	 * this open file description until it execs. */
	if (h->lockfd >= 0) {
		flock(h->lockfd, LOCK_UN);
		close(h->lockfd);
		h->lockfd = -1;
	}
}

void keel_state_hold_close(struct keel_state_hold *h)
{
	keel_state_hold_unlock(h);
	if (h->fd >= 0)
		close(h->fd);
	if (h->dirfd >= 0)
		close(h->dirfd);
	*h = (struct keel_state_hold)KEEL_STATE_HOLD_INIT;
}

/* ----------------------------------------------------------------- list -- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int keel_state_list(const char *root, char ***ids, size_t *n, keel_error **err)
{
	char **v = NULL;
	size_t count = 0;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int dfd, ret;

	if ((ret = keel_state_check_root(root, err)) < 0)
		return keel_error_wrap(err, ret, "list containers in %s", root);
	v = calloc(1, sizeof(char *));
	if (!v)
		return keel_error_sys(err, ENOMEM, "list containers in %s", root);
	d = opendir(root);
	if (!d) {
		if (errno == ENOENT)
			goto done;
		int e = errno;
		free(v);
		return keel_error_sys(err, e, "list containers in %s", root);
	}
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char path[sizeof(de->d_name) + 8];

		if (keel_state_check_id(de->d_name, NULL) < 0)
			continue; /* ".", "..", ".kept-..." and strangers */
		keel_str_join_buf(path, sizeof(path), de->d_name, "/state", NULL);
		if (fstatat(dfd, path, &sb, 0) < 0 || !S_ISREG(sb.st_mode))
			continue;
		if (keel_cstrv_push(&v, de->d_name) < 0) {
			closedir(d);
			for (size_t i = 0; v && v[i]; i++) /* v is NULL if the first push failed */
				free(v[i]);
			free(v);
			return keel_error_sys(err, ENOMEM, "list containers in %s", root);
		}
		count++;
	}
	closedir(d);
	qsort(v, count, sizeof(char *), cmp_str);
done:
	*ids = v;
	if (n)
		*n = count;
	return 0;
}
