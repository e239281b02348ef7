/*
 * oci-linux: the linux object of config.json (config-linux.md) onto the
 * container: namespaces (made, or joined by path), uid/gid maps, time
 * offsets, devices, cgroupsPath, sysctl, seccomp, masked and read-only
 * paths, rootfs propagation. linux.resources is src/oci-resources.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <keel/cgroup.h>
#include <keel/container.h>

#include "cgroup-device.h"
#include "error.h"
#include "oci-linux.h"
#include "util/str.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* --------------------------------------------------------- namespaces --- */

static const struct {
	const char *name;
	keel_ns_type type;
} ns_names[] = {
	{ "pid", KEEL_NS_PID }, { "network", KEEL_NS_NET }, { "mount", KEEL_NS_MOUNT },
	{ "ipc", KEEL_NS_IPC }, { "uts", KEEL_NS_UTS }, { "user", KEEL_NS_USER },
	{ "cgroup", KEEL_NS_CGROUP }, { "time", KEEL_NS_TIME },
};

static int join_ns(keel_container *c, keel_ns_type type, const char *ns_path, const char *path,
		   keel_error **err)
{
	int fd, ret;

	if (type == KEEL_NS_MOUNT)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.path: joining a mount namespace "
					"is not supported (the rootfs is mounted in a new one)", path);
	fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return keel_error_sys(err, errno, "%s.path: open %s", path, ns_path);
	ret = keel_ns_join_fd(keel_container_ns(c), type, fd, err);
	close(fd);
	return keel_error_wrap(err, ret, "%s.path %s", path, ns_path);
}

static int one_ns(keel_oci *o, keel_container *c, struct json_object *ns, const char *path, unsigned *flags,
		  keel_error **err)
{
	const char *type = NULL, *ns_path = NULL;
	size_t i;
	int ret;

	if ((ret = oci_want(o, ns, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_str(o, ns, path, "type", &type, err)) < 0)
		return ret;
	if (ret == 1)
		return keel_error_invalid(err, "%s.type: missing", path);
	for (i = 0; i < N_OF(ns_names); i++)
		if (strcmp(type, ns_names[i].name) == 0)
			break;
	if (i == N_OF(ns_names))
		return keel_error_invalid(err, "%s.type: unknown namespace '%s'", path, type);
	if (*flags & ns_names[i].type)
		return keel_error_invalid(err, "%s: namespace %s given twice", path, type);
	*flags |= ns_names[i].type;
	if ((ret = oci_get_str(o, ns, path, "path", &ns_path, err)) < 0)
		return ret;
	if (ret == 1 || !*ns_path)
		return 0;
	return join_ns(c, ns_names[i].type, ns_path, path, err);
}

static int apply_namespaces(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	struct json_object *arr = NULL;
	unsigned flags = 0;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_get_array(o, lx, "linux", "namespaces", &arr, &n, err)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		oci_fmt(p, "linux.namespaces[%zu]", i);
		if ((ret = one_ns(o, c, o->J->json_object_array_get_idx(arr, i), p, &flags, err)) < 0)
			return ret;
	}
	if (!(flags & KEEL_NS_MOUNT))
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux.namespaces: a container without "
					"its own mount namespace is not supported");
	/* A joined type is not made (keel_container_ns()). */
	return keel_error_wrap(err, keel_container_set_namespaces(c, flags, err), "linux.namespaces");
}

static int one_map(keel_oci *o, keel_container *c, struct json_object *m, const char *path, int gid,
		   keel_error **err)
{
	uint64_t in = 0, out = 0, size = 0;
	int ret;

	if ((ret = oci_want(o, m, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_u64(o, m, path, "containerID", &in, err)) < 0 ||
	    (ret = oci_get_u64(o, m, path, "hostID", &out, err)) < 0 || (ret = oci_get_u64(o, m, path, "size", &size, err)) < 0)
		return ret;
	if (in > UINT32_MAX || out > UINT32_MAX || size > UINT32_MAX)
		return keel_error_invalid(err, "%s: ids out of range", path);
	ret = gid ? keel_ns_add_gid_map(keel_container_ns(c), (unsigned)in, (unsigned)out, (unsigned)size, err)
		  : keel_ns_add_uid_map(keel_container_ns(c), (unsigned)in, (unsigned)out, (unsigned)size, err);
	return keel_error_wrap(err, ret, "%s", path);
}

static int apply_maps(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	static const char *const keys[2] = { "uidMappings", "gidMappings" };
	struct json_object *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	int k, ret;

	for (k = 0; k < 2; k++) {
		if ((ret = oci_get_array(o, lx, "linux", keys[k], &arr, &n, err)) < 0)
			return ret;
		for (i = 0; ret == 0 && i < n; i++) {
			oci_fmt(p, "linux.%s[%zu]", keys[k], i);
			if ((ret = one_map(o, c, o->J->json_object_array_get_idx(arr, i), p, k, err)) < 0)
				return ret;
		}
	}
	return 0;
}

static int apply_time_offsets(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	static const struct {
		const char *key;
		int clock;
	} clocks[] = { { "monotonic", CLOCK_MONOTONIC }, { "boottime", CLOCK_BOOTTIME } };
	struct json_object *to = oci_get(o, lx, "timeOffsets"), *v;
	int64_t secs = 0;
	uint64_t nsecs = 0;
	char p[OCI_PATH_MAX];
	size_t i;
	int ret;

	if (!to)
		return 0;
	if ((ret = oci_want(o, to, json_type_object, "linux.timeOffsets", "an object", err)) < 0)
		return ret;
	for (i = 0; i < N_OF(clocks); i++) {
		if (!(v = oci_get(o, to, clocks[i].key)))
			continue;
		oci_fmt(p, "linux.timeOffsets.%s", clocks[i].key);
		secs = 0;
		nsecs = 0;
		if ((ret = oci_want(o, v, json_type_object, p, "an object", err)) < 0 ||
		    (ret = oci_get_i64(o, v, p, "secs", &secs, err)) < 0 ||
		    (ret = oci_get_u64(o, v, p, "nanosecs", &nsecs, err)) < 0)
			return ret;
		if (nsecs > 999999999)
			return keel_error_invalid(err, "%s.nanosecs: at most 999999999", p);
		ret = keel_ns_set_time_offset(keel_container_ns(c), clocks[i].clock, secs, (long)nsecs, err);
		if (ret < 0)
			return keel_error_wrap(err, ret, "%s", p);
	}
	return 0;
}

/* ------------------------------------------------------------ devices --- */

static int one_device(keel_oci *o, keel_container *c, struct json_object *d, const char *path, keel_error **err)
{
	const char *type = NULL, *dpath = NULL;
	int64_t major = 0, minor = 0;
	uint64_t mode = 0666, uid = 0, gid = 0;
	int ret;

	if ((ret = oci_want(o, d, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_str(o, d, path, "type", &type, err)) < 0 || (ret = oci_get_str(o, d, path, "path", &dpath, err)) < 0)
		return ret;
	if (!type || !dpath)
		return keel_error_invalid(err, "%s: type and path are required", path);
	if (strcmp(type, "c") != 0 && strcmp(type, "u") != 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.type: '%s' is not supported (only "
					"character devices)", path, type);
	if ((ret = oci_get_i64(o, d, path, "major", &major, err)) < 0 || (ret = oci_get_i64(o, d, path, "minor", &minor, err)) < 0 ||
	    (ret = oci_get_u64(o, d, path, "fileMode", &mode, err)) < 0 || (ret = oci_get_u64(o, d, path, "uid", &uid, err)) < 0 ||
	    (ret = oci_get_u64(o, d, path, "gid", &gid, err)) < 0)
		return ret;
	if (uid || gid)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s: an owner other than root is not "
					"supported", path);
	if (major < 0 || minor < 0 || major > 4095 || minor > 1048575)
		return keel_error_invalid(err, "%s: major and minor out of range", path);
	ret = keel_rootfs_add_device(keel_container_rootfs(c), dpath, (unsigned)major, (unsigned)minor,
				     (mode_t)(mode & 0777), err);
	return keel_error_wrap(err, ret, "%s", path);
}

static int apply_devices(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	struct json_object *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_get_array(o, lx, "linux", "devices", &arr, &n, err)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		oci_fmt(p, "linux.devices[%zu]", i);
		if ((ret = one_device(o, c, o->J->json_object_array_get_idx(arr, i), p, err)) < 0)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------- cgroup --- */

static int set_container_value(void *target, const char *key, const char *value, keel_error **err)
{
	return keel_container_set_cgroup_value(target, key, value, err);
}

/* An absolute cgroupsPath is below the root of the cgroup2 mount; a
 * relative one below libkeel's default parent. */
static int apply_cgroups_path(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	const char *cg = NULL;
	char *mnt = NULL;
	int ret;

	if ((ret = oci_get_str(o, lx, "linux", "cgroupsPath", &cg, err)) != 0)
		return ret < 0 ? ret : 0;
	if (strchr(cg, ':'))
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux.cgroupsPath: '%s': the systemd "
					"form slice:prefix:name is not supported (no systemd cgroup manager)", cg);
	while (*cg == '/' && cg[1] == '/')
		cg++;
	if (!*cg || strcmp(cg, "/") == 0)
		return 0;
	if (cg[0] == '/') {
		if ((ret = keel_cgroup_mount_path(&mnt, err)) < 0)
			return keel_error_wrap(err, ret, "linux.cgroupsPath");
		ret = keel_container_set_cgroup_parent(c, mnt, err);
		free(mnt);
		if (ret < 0)
			return keel_error_wrap(err, ret, "linux.cgroupsPath");
		cg++;
	}
	return keel_error_wrap(err, keel_container_set_cgroup_path(c, cg, err), "linux.cgroupsPath");
}

/* linux.resources.devices[i] onto the rule list (keel/cgroup.h). */
static int one_rule(keel_oci *o, keel_device_rules *rules, struct json_object *d, const char *path,
		    keel_error **err)
{
	const char *type = "a", *access = "rwm";
	int64_t major = KEEL_DEVICE_ANY, minor = KEEL_DEVICE_ANY;
	unsigned bits = KEEL_DEVICE_RWM;
	int allow = 0, ret;

	if ((ret = oci_want(o, d, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_bool(o, d, path, "allow", &allow, err)) < 0)
		return ret;
	if (ret == 1)
		return keel_error_invalid(err, "%s.allow: missing", path);
	if ((ret = oci_get_str(o, d, path, "type", &type, err)) < 0 ||
	    (ret = oci_get_str(o, d, path, "access", &access, err)) < 0 ||
	    (ret = oci_get_i64(o, d, path, "major", &major, err)) < 0 || (ret = oci_get_i64(o, d, path, "minor", &minor, err)) < 0)
		return ret;
	if (strlen(type) != 1 || !strchr("acb", type[0]))
		return keel_error_invalid(err, "%s.type: '%s' is not a, c or b", path, type);
	if (*access && keel_device_access_parse(access, &bits) < 0)
		return keel_error_invalid(err, "%s.access: '%s' is not a set of r, w, m", path, access);
	if (type[0] == 'a') /* every device, whatever the numbers say */
		major = minor = KEEL_DEVICE_ANY;
	ret = keel_device_rules_add(rules, allow, (keel_device_type)type[0], major, minor, bits, err);
	return keel_error_wrap(err, ret, "%s", path);
}

/* The devices every container has (the spec's default devices, /dev/pts,
 * /dev/ptmx) stay usable whatever the rules say, as runc and crun append
 * them. Not keel_device_rules_add_defaults(): that also allows mknod of
 * any node, which a config's rules may deny. */
static int allow_default_devices(keel_device_rules *rules, keel_error **err)
{
	static const int64_t defaults[][2] = {
		{ 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, KEEL_DEVICE_ANY },
	};
	size_t i;
	int ret;

	for (i = 0; i < N_OF(defaults); i++)
		if ((ret = keel_device_rules_add(rules, 1, KEEL_DEVICE_CHAR, defaults[i][0], defaults[i][1],
						 KEEL_DEVICE_RWM, err)) < 0)
			return ret;
	return 0;
}

/* The config's rules, then the default devices: a later rule overrides
 * an earlier one. This list replaces the container's default filter. */
static int set_config_rules(keel_oci *o, keel_container *c, struct json_object *arr, size_t n, keel_error **err)
{
	keel_device_rules *rules = NULL;
	char p[OCI_PATH_MAX];
	size_t i;
	int ret;

	if ((ret = keel_device_rules_new(&rules, err)) < 0)
		return ret;
	for (i = 0; i < n && ret == 0; i++) {
		oci_fmt(p, "linux.resources.devices[%zu]", i);
		ret = one_rule(o, rules, o->J->json_object_array_get_idx(arr, i), p, err);
	}
	if (ret == 0 && (ret = allow_default_devices(rules, err)) == 0)
		ret = keel_error_wrap(err, keel_container_set_device_rules(c, rules, err), "linux.resources.devices");
	keel_device_rules_free(rules);
	return ret;
}

/* The nodes of linux.devices are allowed on top of the filter. */
static int allow_config_devices(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	struct json_object *arr = NULL, *d;
	int64_t major, minor;
	char rule[64];
	size_t n = 0, i;
	int ret;

	if (oci_get_array(o, lx, "linux", "devices", &arr, &n, NULL) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		d = o->J->json_object_array_get_idx(arr, i);
		major = minor = -1;
		if (oci_get_i64(o, d, "", "major", &major, NULL) != 0 || oci_get_i64(o, d, "", "minor", &minor, NULL) != 0)
			continue; /* one_device() reported it */
		snprintf(rule, sizeof(rule), "c %lld:%lld rwm", (long long)major, (long long)minor);
		if ((ret = keel_container_add_device_rule(c, rule, err)) < 0)
			return keel_error_wrap(err, ret, "linux.devices[%zu]", i);
	}
	return 0;
}

/* linux.resources.devices (res may be NULL) and linux.devices onto the
 * container's device filter, which every container has (default: the
 * default devices only). */
static int apply_device_rules(keel_oci *o, keel_container *c, struct json_object *lx, struct json_object *res,
			      keel_error **err)
{
	struct json_object *arr = NULL;
	size_t n = 0;
	int ret;

	if (res && (ret = oci_get_array(o, res, "linux.resources", "devices", &arr, &n, err)) < 0)
		return ret;
	if (n && (ret = set_config_rules(o, c, arr, n, err)) < 0)
		return ret;
	return allow_config_devices(o, c, lx, err);
}

/* ------------------------------------------------------------- sysctl --- */

static int apply_sysctl(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	struct json_object *sc = oci_get(o, lx, "sysctl");
	struct json_object_iterator it, end;
	int ret;

	if (!sc)
		return 0;
	if ((ret = oci_want(o, sc, json_type_object, "linux.sysctl", "an object", err)) < 0)
		return ret;
	it = o->J->json_object_iter_begin(sc);
	end = o->J->json_object_iter_end(sc);
	for (; !o->J->json_object_iter_equal(&it, &end); o->J->json_object_iter_next(&it)) {
		const char *key = o->J->json_object_iter_peek_name(&it);
		struct json_object *v = o->J->json_object_iter_peek_value(&it);

		if (!v || !o->J->json_object_is_type(v, json_type_string))
			return keel_error_invalid(err, "linux.sysctl.%s: must be a string", key);
		ret = keel_security_set_sysctl(keel_container_security(c), key, o->J->json_object_get_string(v), err);
		if (ret < 0)
			return keel_error_wrap(err, ret, "linux.sysctl.%s", key);
	}
	return 0;
}

/* -------------------------------------------------------------- paths --- */

static int apply_paths(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	char **v = NULL;
	size_t i;
	int k, ret;

	for (k = 0; k < 2; k++) {
		if ((ret = oci_get_strv(o, lx, "linux", k ? "readonlyPaths" : "maskedPaths", &v, err)) < 0)
			return ret;
		for (i = 0; ret == 0 && v && v[i]; i++) {
			ret = k ? keel_rootfs_add_readonly_path(keel_container_rootfs(c), v[i], err)
				: keel_rootfs_add_masked_path(keel_container_rootfs(c), v[i], err);
			keel_error_wrap(err, ret, "linux.%s[%zu]", k ? "readonlyPaths" : "maskedPaths", i);
		}
		oci_strv_free(v);
		v = NULL;
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int apply_propagation(keel_oci *o, keel_container *c, struct json_object *lx, keel_error **err)
{
	const char *p = NULL;
	keel_propagation prop;
	int ret;

	if ((ret = oci_get_str(o, lx, "linux", "rootfsPropagation", &p, err)) != 0)
		return ret < 0 ? ret : 0;
	if (strcmp(p, "private") == 0 || strcmp(p, "rprivate") == 0)
		prop = KEEL_PROPAGATION_PRIVATE;
	else if (strcmp(p, "slave") == 0 || strcmp(p, "rslave") == 0)
		prop = KEEL_PROPAGATION_SLAVE;
	else if (strcmp(p, "shared") == 0 || strcmp(p, "rshared") == 0)
		prop = KEEL_PROPAGATION_SHARED;
	else if (strcmp(p, "unbindable") == 0 || strcmp(p, "runbindable") == 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux.rootfsPropagation: '%s' is not "
					"supported", p);
	else
		return keel_error_invalid(err, "linux.rootfsPropagation: unknown value '%s'", p);
	return keel_error_wrap(err, keel_rootfs_set_propagation(keel_container_rootfs(c), prop, err),
			       "linux.rootfsPropagation");
}

/* Fields of the linux object libkeel has no way to honour. */
static int refuse_linux(keel_oci *o, struct json_object *lx, keel_error **err)
{
	static const char *const keys[] = { "intelRdt", "memoryPolicy", "netDevices" };
	struct json_object *pers = oci_get(o, lx, "personality");
	const char *s = NULL, *dom = NULL;
	size_t i;
	int ret;

	for (i = 0; i < N_OF(keys); i++)
		if ((ret = oci_refuse(o, lx, "linux", keys[i], NULL, err)) < 0)
			return ret;
	if ((ret = oci_get_str(o, lx, "linux", "mountLabel", &s, err)) < 0)
		return ret;
	if (ret == 0 && *s)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux.mountLabel: not supported");
	if (pers && (ret = oci_get_str(o, pers, "linux.personality", "domain", &dom, err)) < 0)
		return ret;
	if (pers && dom && strcmp(dom, "LINUX") != 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux.personality.domain: '%s' is not "
					"supported", dom);
	if (pers)
		return oci_refuse(o, pers, "linux.personality", "flags", NULL, err);
	return 0;
}

int oci_apply_linux(keel_oci *o, keel_container *c, keel_error **err)
{
	struct json_object *lx = oci_get(o, o->doc, "linux"), *res;
	int ret;

	if (!lx)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "linux: missing (a Linux container "
					"needs at least its mount namespace)");
	if ((ret = oci_want(o, lx, json_type_object, "linux", "an object", err)) < 0 ||
	    (ret = refuse_linux(o, lx, err)) < 0)
		return ret;
	if ((ret = apply_namespaces(o, c, lx, err)) < 0 || (ret = apply_maps(o, c, lx, err)) < 0 ||
	    (ret = apply_time_offsets(o, c, lx, err)) < 0 || (ret = apply_devices(o, c, lx, err)) < 0)
		return ret;
	if ((ret = apply_cgroups_path(o, c, lx, err)) < 0)
		return ret;
	res = oci_get(o, lx, "resources");
	if (res && (ret = oci_apply_resources(o, res, "linux.resources", 1, set_container_value, c, err)) < 0)
		return ret;
	if ((ret = apply_device_rules(o, c, lx, res, err)) < 0)
		return ret;
	if ((ret = apply_sysctl(o, c, lx, err)) < 0 || (ret = oci_apply_seccomp(o, keel_container_security(c), err)) < 0)
		return ret;
	return (ret = apply_paths(o, c, lx, err)) < 0 ? ret : apply_propagation(o, c, lx, err);
}
