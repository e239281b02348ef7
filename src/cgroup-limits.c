/*
 * cgroup: controllers and their delegation, reading and writing
 * interface files, and the typed limits.
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
int read_at(int dirfd, const char *path, char **out)
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

int get_u64_key(keel_cgroup *cg, const char *key, uint64_t *out, int allow_max, keel_error **err)
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
int get_field(keel_cgroup *cg, const char *key, const char *field, uint64_t *out, keel_error **err)
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
int read_device_value(keel_cgroup *cg, const char *file, unsigned major, unsigned minor,
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
