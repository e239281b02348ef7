/*
 * resources: keel_resources, a set of cgroup changes for a running
 * container (keel/container.h, "resources"), and writing one onto the
 * container's cgroup as atomically as the kernel lets us.
 *
 * The kernel has no transaction over cgroup files: each write stands
 * alone. So keel_resources_apply() does everything that can fail without
 * changing a limit first (files exist, controllers enabled, the device
 * program loaded, the current values read), then writes; when the kernel
 * refuses one write (a memory.max below what is in use and cannot be
 * reclaimed, a cpuset outside the parent's), the writes before it are put
 * back from the values read, newest first. The device filter goes last:
 * its attach is the step least likely to fail once its program is loaded.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "resources.h"

#define FILE_MAX 64
/* io.max takes at most four "key=value" words: "MAJ:MIN" plus them. */
#define VALUE_MAX 256

static const char *const controllers[] = { "cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc" };

/* ---------------------------------------------------------- the handle -- */

KEEL_PUBLIC int keel_resources_new(keel_resources **out, keel_error **err)
{
	if (!out)
		return keel_error_invalid(err, "resources: no place for the handle (out is NULL)");
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return keel_error_sys(err, ENOMEM, "resources");
	return 0;
}

KEEL_PUBLIC void keel_resources_free(keel_resources *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->e[i].file);
		free(r->e[i].value);
	}
	free(r->e);
	keel_device_rules_free(r->rules);
	free(r);
}

/* The controller of a file name ("memory.swap.max" -> 3 bytes of "memory"
 * are not enough: the name must go on past "<controller>."), or NULL. */
static const char *controller_of(const char *file)
{
	size_t i, len;

	for (i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++) {
		len = strlen(controllers[i]);
		if (!strncmp(file, controllers[i], len) && file[len] == '.' && file[len + 1])
			return controllers[i];
	}
	return NULL;
}

/* The core files that are limits too (OCI's "unified" may set them). */
static int core_limit(const char *file)
{
	return !strcmp(file, "cgroup.max.depth") || !strcmp(file, "cgroup.max.descendants");
}

/* A controller's interface file: "<controller>.<name>", name of letters,
 * digits, '.' and '_' ("hugetlb.2MB.max"), or a core limit; never
 * cgroup.procs, cgroup.kill and kin, which an update has no business
 * writing. */
static int file_ok(const char *file)
{
	size_t i;

	if (!file || strlen(file) >= FILE_MAX || !(controller_of(file) || core_limit(file)))
		return 0;
	for (i = 0; file[i]; i++)
		if (!((file[i] >= 'a' && file[i] <= 'z') || (file[i] >= 'A' && file[i] <= 'Z') ||
		      (file[i] >= '0' && file[i] <= '9') || file[i] == '.' || file[i] == '_'))
			return 0;
	return 1;
}

static int value_ok(const char *value)
{
	return value && *value && strlen(value) < VALUE_MAX && !strchr(value, '\n');
}

/*
 * What makes two entries the same: the file, and for io.weight the device
 * word ("8:0", "default"), for io.max the device and the names of the
 * limits ("8:0 rbps= wbps="), so that rbps and wbps of one device are two
 * entries and a second rbps replaces the first.
 */
static void identity(const char *file, const char *value, char *buf, size_t len)
{
	const char *p;
	size_t used;

	used = (size_t)snprintf(buf, len, "%s", file);
	if (strcmp(file, "io.max") && strcmp(file, "io.weight"))
		return;
	p = value;
	used += (size_t)snprintf(buf + used, len - used, " %.*s", (int)strcspn(p, " "), p);
	if (strcmp(file, "io.max"))
		return;
	while ((p = strchr(p, ' ')) && used < len) {
		p++;
		used += (size_t)snprintf(buf + used, len - used, " %.*s=", (int)strcspn(p, "= "), p);
	}
}

int keel_resources_put(keel_resources *r, const char *file, const char *value, keel_error **err)
{
	char want[FILE_MAX + VALUE_MAX], have[FILE_MAX + VALUE_MAX];
	struct keel_resource_entry *grown;
	char *f, *v;
	size_t i;

	if (!r)
		return keel_error_invalid(err, "resources: handle is NULL");
	identity(file, value, want, sizeof(want));
	f = strdup(file);
	v = strdup(value);
	if (!f || !v) {
		free(f);
		free(v);
		return keel_error_sys(err, ENOMEM, "resources: %s", file);
	}
	for (i = 0; i < r->n; i++) {
		identity(r->e[i].file, r->e[i].value, have, sizeof(have));
		if (!strcmp(want, have)) {
			free(f);
			free(r->e[i].value);
			r->e[i].value = v;
			return 0;
		}
	}
	grown = realloc(r->e, (r->n + 1) * sizeof(*grown));
	if (!grown) {
		free(f);
		free(v);
		return keel_error_sys(err, ENOMEM, "resources: %s", file);
	}
	r->e = grown;
	r->e[r->n].file = f;
	r->e[r->n++].value = v;
	return 0;
}

/* ------------------------------------------------------------- setters -- */

/* "max" or the decimal; a value above INT64_MAX but "max" is a negative
 * number cast by the caller (or by a binding). */
static int limit_text(const char *file, uint64_t v, uint64_t least, char *buf, size_t len, keel_error **err)
{
	if (v == KEEL_CGROUP_MAX) {
		snprintf(buf, len, "max");
		return 0;
	}
	if (v > INT64_MAX)
		return keel_error_invalid(err, "resources: %s: %" PRId64 " is negative (KEEL_CGROUP_MAX lifts the "
					  "limit)", file, (int64_t)v);
	if (v < least)
		return keel_error_invalid(err, "resources: %s: %" PRIu64 " is too small (at least %" PRIu64 ")", file,
					  v, least);
	snprintf(buf, len, "%" PRIu64, v);
	return 0;
}

static int set_limit(keel_resources *r, const char *file, uint64_t v, uint64_t least, keel_error **err)
{
	char buf[32];
	int ret;

	if (!r)
		return keel_error_invalid(err, "resources: %s: handle is NULL", file);
	if ((ret = limit_text(file, v, least, buf, sizeof(buf), err)) < 0)
		return ret;
	return keel_resources_put(r, file, buf, err);
}

KEEL_PUBLIC int keel_resources_set_memory_max(keel_resources *r, uint64_t bytes, keel_error **err)
{
	return set_limit(r, "memory.max", bytes, 4096, err);
}

KEEL_PUBLIC int keel_resources_set_memory_high(keel_resources *r, uint64_t bytes, keel_error **err)
{
	return set_limit(r, "memory.high", bytes, 4096, err);
}

KEEL_PUBLIC int keel_resources_set_memory_swap_max(keel_resources *r, uint64_t bytes, keel_error **err)
{
	return set_limit(r, "memory.swap.max", bytes, 0, err);
}

KEEL_PUBLIC int keel_resources_set_pids_max(keel_resources *r, uint64_t max, keel_error **err)
{
	return set_limit(r, "pids.max", max, 1, err);
}

static int check_weight(const char *file, uint64_t weight, keel_error **err)
{
	if (weight < 1 || weight > 10000)
		return keel_error_invalid(err, "resources: %s: %" PRIu64 " is out of range (1 to 10000)", file, weight);
	return 0;
}

KEEL_PUBLIC int keel_resources_set_cpu_weight(keel_resources *r, uint64_t weight, keel_error **err)
{
	char buf[32];
	int ret;

	if (!r)
		return keel_error_invalid(err, "resources: cpu.weight: handle is NULL");
	if ((ret = check_weight("cpu.weight", weight, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%" PRIu64, weight);
	return keel_resources_put(r, "cpu.weight", buf, err);
}

KEEL_PUBLIC int keel_resources_set_cpu_max(keel_resources *r, uint64_t quota_us, uint64_t period_us,
					   keel_error **err)
{
	char q[32], buf[64];
	int ret;

	if (!r)
		return keel_error_invalid(err, "resources: cpu.max: handle is NULL");
	if ((ret = limit_text("cpu.max quota", quota_us, 1000, q, sizeof(q), err)) < 0)
		return ret;
	if (period_us < 1000 || period_us > 1000000)
		return keel_error_invalid(err, "resources: cpu.max: period %" PRIu64 " us is out of range (1000 to "
					  "1000000)", period_us);
	snprintf(buf, sizeof(buf), "%s %" PRIu64, q, period_us);
	return keel_resources_put(r, "cpu.max", buf, err);
}

/* A block device of this host, as io.* name it: /sys/dev/block/MAJ:MIN. */
static int check_block_device(const char *file, unsigned major, unsigned minor, keel_error **err)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
	if (access(path, F_OK) < 0)
		return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENODEV, "resources: %s: there is no block device %u:%u "
				      "(no %s)", file, major, minor, path);
	return 0;
}

KEEL_PUBLIC int keel_resources_set_io_weight(keel_resources *r, unsigned major, unsigned minor, uint64_t weight,
					     keel_error **err)
{
	char buf[64];
	int ret;

	if (!r)
		return keel_error_invalid(err, "resources: io.weight: handle is NULL");
	if ((ret = check_weight("io.weight", weight, err)) < 0)
		return ret;
	if (major == 0 && minor == 0) {
		snprintf(buf, sizeof(buf), "default %" PRIu64, weight);
	} else {
		if ((ret = check_block_device("io.weight", major, minor, err)) < 0)
			return ret;
		snprintf(buf, sizeof(buf), "%u:%u %" PRIu64, major, minor, weight);
	}
	return keel_resources_put(r, "io.weight", buf, err);
}

static const char *io_limit_key(keel_cgroup_io_limit which)
{
	switch (which) {
	case KEEL_CGROUP_IO_RBPS: return "rbps";
	case KEEL_CGROUP_IO_WBPS: return "wbps";
	case KEEL_CGROUP_IO_RIOPS: return "riops";
	case KEEL_CGROUP_IO_WIOPS: return "wiops";
	}
	return NULL;
}

KEEL_PUBLIC int keel_resources_set_io_max(keel_resources *r, unsigned major, unsigned minor,
					  keel_cgroup_io_limit which, uint64_t value, keel_error **err)
{
	const char *key = io_limit_key(which);
	char v[32], buf[96];
	int ret;

	if (!r)
		return keel_error_invalid(err, "resources: io.max: handle is NULL");
	if (!key)
		return keel_error_invalid(err, "resources: io.max: unknown limit %d", (int)which);
	if ((ret = limit_text("io.max", value, 1, v, sizeof(v), err)) < 0 ||
	    (ret = check_block_device("io.max", major, minor, err)) < 0)
		return ret;
	snprintf(buf, sizeof(buf), "%u:%u %s=%s", major, minor, key, v);
	return keel_resources_put(r, "io.max", buf, err);
}

static int set_list(keel_resources *r, const char *file, const char *list, keel_error **err)
{
	size_t i;

	if (!r || !list)
		return keel_error_invalid(err, "resources: %s: %s is NULL", file, r ? "the list" : "handle");
	for (i = 0; list[i]; i++)
		if (!(list[i] >= '0' && list[i] <= '9') && list[i] != ',' && list[i] != '-')
			break;
	if (!*list || list[i] || strlen(list) >= VALUE_MAX)
		return keel_error_invalid(err, "resources: %s: '%s' is not a list such as \"0-2,4\"", file, list);
	return keel_resources_put(r, file, list, err);
}

KEEL_PUBLIC int keel_resources_set_cpuset_cpus(keel_resources *r, const char *cpus, keel_error **err)
{
	return set_list(r, "cpuset.cpus", cpus, err);
}

KEEL_PUBLIC int keel_resources_set_cpuset_mems(keel_resources *r, const char *mems, keel_error **err)
{
	return set_list(r, "cpuset.mems", mems, err);
}

KEEL_PUBLIC int keel_resources_set_value(keel_resources *r, const char *file, const char *value, keel_error **err)
{
	if (!r)
		return keel_error_invalid(err, "resources: handle is NULL");
	if (!file_ok(file))
		return keel_error_invalid(err, "resources: '%s' is not a resource controller's file (cpu.*, cpuset.*, "
					  "io.*, memory.*, pids.*, hugetlb.*, rdma.*, misc.*, cgroup.max.depth, cgroup.max.descendants)", file ? file : "(null)");
	if (!value_ok(value))
		return keel_error_invalid(err, "resources: %s: the value is empty, too long or has a newline", file);
	return keel_resources_put(r, file, value, err);
}

KEEL_PUBLIC int keel_resources_set_device_rules(keel_resources *r, const keel_device_rules *rules, keel_error **err)
{
	keel_device_rules *copy = NULL;
	int ret;

	if (!r || !rules)
		return keel_error_invalid(err, "resources: device rules: %s is NULL", r ? "rules" : "handle");
	if ((ret = keel_device_rules_copy(&copy, rules, err)) < 0)
		return ret;
	keel_device_rules_free(r->rules);
	r->rules = copy;
	return 0;
}

KEEL_PUBLIC int keel_resources_get(const keel_resources *r, size_t i, const char **file, const char **value)
{
	if (!r || !file || !value)
		return -EINVAL;
	if (i >= r->n)
		return -ENOENT;
	*file = r->e[i].file;
	*value = r->e[i].value;
	return 0;
}

KEEL_PUBLIC int keel_resources_get_device_rules(const keel_resources *r, keel_device_rules **rules, keel_error **err)
{
	if (!r || !rules)
		return keel_error_invalid(err, "resources: device rules: %s is NULL", r ? "out" : "handle");
	*rules = NULL;
	if (!r->rules)
		return keel_error_set(err, KEEL_ERROR_NOT_FOUND, ENOENT, "resources: no device rules set");
	return keel_device_rules_copy(rules, r->rules, err);
}

/* ---------------------------------------------------- the state's form -- */

int keel_resources_line_ok(const char *line)
{
	const char *sp = strchr(line, ' ');
	char file[FILE_MAX];

	if (!sp || (size_t)(sp - line) >= sizeof(file))
		return 0;
	memcpy(file, line, (size_t)(sp - line));
	file[sp - line] = '\0';
	return file_ok(file) && value_ok(sp + 1);
}

int keel_resources_same_line(const char *a, const char *b)
{
	char fa[FILE_MAX], fb[FILE_MAX], ia[FILE_MAX + VALUE_MAX], ib[FILE_MAX + VALUE_MAX];

	snprintf(fa, sizeof(fa), "%.*s", (int)strcspn(a, " "), a);
	snprintf(fb, sizeof(fb), "%.*s", (int)strcspn(b, " "), b);
	identity(fa, a + strlen(fa) + (a[strlen(fa)] == ' '), ia, sizeof(ia));
	identity(fb, b + strlen(fb) + (b[strlen(fb)] == ' '), ib, sizeof(ib));
	return strcmp(ia, ib) == 0;
}

static void number_text(int64_t n, char *buf, size_t len)
{
	if (n < 0)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "%" PRId64, n);
}

void keel_resources_rule_text(const struct keel_device_rule *rule, char *buf, size_t len)
{
	char major[24], minor[24], access[4];
	size_t n = 0;

	number_text(rule->major, major, sizeof(major));
	number_text(rule->minor, minor, sizeof(minor));
	if (rule->access & KEEL_DEVICE_READ)
		access[n++] = 'r';
	if (rule->access & KEEL_DEVICE_WRITE)
		access[n++] = 'w';
	if (rule->access & KEEL_DEVICE_MKNOD)
		access[n++] = 'm';
	access[n] = '\0';
	snprintf(buf, len, "%s %c %s:%s %s", rule->allow ? "allow" : "deny", (char)rule->type, major, minor, access);
}

int keel_resources_rule_parse(const char *text, struct keel_device_rule *out)
{
	int allow;

	if (!strncmp(text, "allow ", 6))
		allow = 1;
	else if (!strncmp(text, "deny ", 5))
		allow = 0;
	else
		return -EINVAL;
	return keel_device_rule_parse(text + (allow ? 6 : 5), allow, out, NULL) < 0 ? -EINVAL : 0;
}

/* ------------------------------------------------------------ applying -- */

/* The line of a per-device file for dev ("8:0", "default"), or NULL. */
static const char *device_line(const char *text, const char *dev, size_t len)
{
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, dev, len) && p[len] == ' ')
			return p;
	return NULL;
}

/* In line (up to its newline), the value of "key=" (klen bytes with '='),
 * copied into out; "max" when it has none. */
static void word_value(const char *line, const char *key, size_t klen, char *out, size_t len)
{
	const char *p, *end = line ? line + strcspn(line, "\n") : NULL;

	snprintf(out, len, "max");
	for (p = line; p && p < end; p += strcspn(p, " \n"), p += *p == ' ') {
		if (!strncmp(p, key, klen)) {
			snprintf(out, len, "%.*s", (int)strcspn(p + klen, " \n"), p + klen);
			return;
		}
		if (!*p || *p == '\n')
			break;
	}
}

/*
 * What to write to put a file back as cur (its contents before the
 * update) shows it, for the part an entry changes: the whole value for
 * single-value files, the device's own line (or the kernel's default for
 * it) for io.weight and io.max. NULL on ENOMEM.
 */
static char *restore_value(const char *file, const char *value, const char *cur)
{
	size_t dlen = strcspn(value, " "), used, klen;
	char buf[VALUE_MAX + 64], word[64];
	const char *line, *p;

	if (strcmp(file, "io.weight") == 0) {
		line = device_line(cur, value, dlen);
		if (line)
			return strndup(line, strcspn(line, "\n"));
		snprintf(buf, sizeof(buf), "%.*s default", (int)dlen, value);
		return strdup(buf);
	}
	if (strcmp(file, "io.max") == 0) {
		line = device_line(cur, value, dlen);
		used = (size_t)snprintf(buf, sizeof(buf), "%.*s", (int)dlen, value);
		for (p = value + dlen; *p == ' ' && used < sizeof(buf); p += 1 + strcspn(p + 1, " ")) {
			klen = strcspn(p + 1, "=") + 1;
			word_value(line ? line + dlen + 1 : NULL, p + 1, klen, word, sizeof(word));
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, " %.*s%s", (int)klen, p + 1, word);
		}
		return strdup(buf);
	}
	/* "" (an empty cpuset.cpus) is written back as a newline: the kernel
	 * never sees a write of 0 bytes */
	return strdup(*cur ? cur : "\n");
}

/* Make sure cg has the file (enabling its controller when it is available
 * but not enabled yet) and read what to put back. */
static int prepare(keel_cgroup *cg, const struct keel_resource_entry *e, char **old, keel_error **err)
{
	char *cur = NULL;
	int ret;

	if (faccessat(keel_cgroup_fd(cg), e->file, F_OK, 0) < 0 && controller_of(e->file) &&
	    (ret = keel_cgroup_enable_controller(cg, controller_of(e->file), err)) < 0)
		return keel_error_wrap(err, ret, "%s", e->file);
	if (faccessat(keel_cgroup_fd(cg), e->file, F_OK, 0) < 0)
		return keel_error_set(err, KEEL_ERROR_UNSUPPORTED, ENOENT, "cgroup %s has no file %s (does this kernel "
				      "support it?)", keel_cgroup_path(cg), e->file);
	/* a file that cannot be read (write-only) cannot be put back */
	if (keel_cgroup_get_raw(cg, e->file, &cur, NULL) < 0)
		return 0;
	*old = restore_value(e->file, e->value, cur);
	free(cur);
	return *old ? 0 : keel_error_sys(err, ENOMEM, "%s", e->file);
}

/* Put back entries [0, upto) newest first; applied[i] stays 1 for those
 * that cannot be. Returns how many stay applied. */
static size_t put_back(const keel_resources *r, keel_cgroup *cg, char **old, size_t upto, int *applied)
{
	size_t i, kept = 0;

	for (i = upto; i-- > 0;) {
		if (old[i] && keel_cgroup_set_raw(cg, r->e[i].file, old[i], NULL) == 0)
			applied[i] = 0;
		else
			kept++;
	}
	return kept;
}

static void say_kept(const keel_resources *r, const int *applied, size_t kept, const char *what, keel_error **err)
{
	char list[512] = "";
	size_t i, used = 0;

	if (!kept) {
		keel_error_wrap(err, 0, "%s (nothing was changed)", what);
		return;
	}
	for (i = 0; i < r->n && used < sizeof(list); i++)
		if (applied[i])
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s=%s", used ? ", " : "",
						 r->e[i].file, r->e[i].value);
	keel_error_wrap(err, 0, "%s (could not put back, so still applied and recorded: %s)", what, list);
}

int keel_resources_apply(const keel_resources *r, keel_cgroup *cg, const char *what, int *applied,
			 int *devices_applied, keel_error **err)
{
	char **old = calloc(r->n + 1, sizeof(char *));
	size_t i, kept;
	int ret = 0;

	*devices_applied = 0;
	for (i = 0; i < r->n; i++)
		applied[i] = 0;
	if (!old)
		return keel_error_sys(err, ENOMEM, "%s", what);
	for (i = 0; i < r->n && ret == 0; i++)
		ret = prepare(cg, &r->e[i], &old[i], err);
	if (ret == 0 && r->rules && (ret = keel_device_rules_prog_fd(r->rules, err)) > 0)
		ret = 0;
	if (ret < 0) {
		keel_error_wrap(err, ret, "%s (nothing was changed)", what);
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		if ((ret = keel_cgroup_set_raw(cg, r->e[i].file, r->e[i].value, err)) < 0)
			break;
		applied[i] = 1;
	}
	if (ret == 0 && r->rules) {
		ret = keel_cgroup_set_devices(cg, r->rules, err);
		*devices_applied = ret == 0;
	}
	if (ret < 0) {
		kept = put_back(r, cg, old, i, applied);
		say_kept(r, applied, kept, what, err);
	}
out:
	for (i = 0; i < r->n; i++)
		free(old[i]);
	free(old);
	return ret;
}
