/*
 * oci-config: a config.json onto the container's handles, section by
 * section in the order of the specification (config.md): process, root,
 * hostname, mounts, then the linux object (src/oci-linux.c does its
 * resources, seccomp and devices).
 *
 * Each reader gets the JSON path of its object, so an error names the
 * field: "mounts[2].options[1]: 'idmap' is not supported". A field the
 * specification defines but libkeel cannot honour is refused
 * (oci_refuse()); fields it does not define are never looked at.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <keel/cgroup.h>

#include "error.h"
#include "oci-internal.h"
#include "oci-linux.h"
#include "util/str.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ process --- */

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static int apply_rlimit(keel_oci *o, struct json_object *r, const char *path, keel_security *sec,
			keel_error **err)
{
	const char *type = NULL;
	uint64_t soft = 0, hard = 0;
	size_t i;
	int ret;

	if ((ret = oci_want(o, r, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_str(o, r, path, "type", &type, err)) < 0)
		return ret;
	if (ret == 1)
		return keel_error_invalid(err, "%s.type: missing", path);
	if ((ret = oci_get_u64(o, r, path, "soft", &soft, err)) < 0 || (ret = oci_get_u64(o, r, path, "hard", &hard, err)) < 0)
		return ret;
	for (i = 0; i < N_OF(rlimits); i++)
		if (strcmp(rlimits[i].name, type) == 0)
			break;
	if (i == N_OF(rlimits))
		return keel_error_invalid(err, "%s.type: unknown resource '%s'", path, type);
	ret = keel_security_set_rlimit(sec, rlimits[i].resource, soft, hard, err);
	return keel_error_wrap(err, ret, "%s", path);
}

static int apply_rlimits(keel_oci *o, struct json_object *proc, const char *path, keel_security *sec,
			 keel_error **err)
{
	struct json_object *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_get_array(o, proc, path, "rlimits", &arr, &n, err)) != 0)
		return ret < 0 ? ret : 0;
	for (i = 0; i < n; i++) {
		oci_fmt(p, "%s.rlimits[%zu]", path, i);
		if ((ret = apply_rlimit(o, o->J->json_object_array_get_idx(arr, i), p, sec, err)) < 0)
			return ret;
	}
	return 0;
}

static const struct {
	const char *key;
	unsigned set;
} capsets[] = {
	{ "bounding", KEEL_CAPSET_BOUNDING }, { "effective", KEEL_CAPSET_EFFECTIVE },
	{ "inheritable", KEEL_CAPSET_INHERITABLE }, { "permitted", KEEL_CAPSET_PERMITTED },
	{ "ambient", KEEL_CAPSET_AMBIENT },
};

/* Missing capabilities mean none, as in runc: the sets start empty. */
static int apply_caps(keel_oci *o, struct json_object *proc, const char *path, keel_security *sec,
		      keel_error **err)
{
	struct json_object *caps = oci_get(o, proc, "capabilities");
	char p[OCI_PATH_MAX], **names = NULL;
	size_t i, j;
	int ret = 0;

	keel_security_caps_clear(sec);
	if (!caps)
		return 0;
	oci_fmt(p, "%s.capabilities", path);
	if ((ret = oci_want(o, caps, json_type_object, p, "an object", err)) < 0)
		return ret;
	for (i = 0; ret == 0 && i < N_OF(capsets); i++) {
		if ((ret = oci_get_strv(o, caps, p, capsets[i].key, &names, err)) < 0)
			return ret;
		ret = 0;
		for (j = 0; names && names[j] && ret == 0; j++) {
			ret = keel_security_cap_set(sec, capsets[i].set, names[j], 1, err);
			keel_error_wrap(err, ret, "%s.%s[%zu]", p, capsets[i].key, j);
		}
		oci_strv_free(names);
		names = NULL;
	}
	return ret;
}

static int apply_env(keel_oci *o, struct json_object *proc, const char *path, keel_process *p,
		     keel_error **err)
{
	char **env = NULL, *eq;
	size_t i;
	int ret;

	if ((ret = oci_get_strv(o, proc, path, "env", &env, err)) != 0)
		return ret < 0 ? ret : keel_process_clearenv(p, err);
	ret = keel_process_clearenv(p, err);
	for (i = 0; ret == 0 && env[i]; i++) {
		if (!(eq = strchr(env[i], '=')) || eq == env[i]) {
			ret = keel_error_invalid(err, "%s.env[%zu]: '%s' is not NAME=VALUE", path, i, env[i]);
			break;
		}
		*eq = '\0';
		ret = keel_process_setenv(p, env[i], eq + 1, err);
		keel_error_wrap(err, ret, "%s.env[%zu]", path, i);
	}
	oci_strv_free(env);
	return ret;
}

static int apply_user(keel_oci *o, struct json_object *proc, const char *path, keel_process *p,
		      keel_error **err)
{
	struct json_object *user = oci_get(o, proc, "user"), *arr = NULL, *e;
	uint64_t uid = 0, gid = 0, umask = 0;
	char up[OCI_PATH_MAX];
	gid_t *groups = NULL;
	size_t n = 0, i;
	int ret;

	oci_fmt(up, "%s.user", path);
	if (user && (ret = oci_want(o, user, json_type_object, up, "an object", err)) < 0)
		return ret;
	if ((ret = oci_get_u64(o, user, up, "uid", &uid, err)) < 0 || (ret = oci_get_u64(o, user, up, "gid", &gid, err)) < 0)
		return ret;
	if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return keel_error_invalid(err, "%s: uid or gid out of range", up);
	if ((ret = keel_process_set_user(p, (uid_t)uid, (gid_t)gid, err)) < 0)
		return keel_error_wrap(err, ret, "%s", up);
	if ((ret = oci_get_u64(o, user, up, "umask", &umask, err)) < 0)
		return ret;
	if (ret == 0 && (ret = keel_process_set_umask(p, (mode_t)(umask > 0777 ? 01000 : umask), err)) < 0)
		return keel_error_wrap(err, ret, "%s.umask", up);
	if ((ret = oci_get_array(o, user, up, "additionalGids", &arr, &n, err)) < 0)
		return ret;
	if (n && !(groups = calloc(n, sizeof(gid_t))))
		return keel_error_sys(err, ENOMEM, "%s", up);
	for (i = 0; i < n; i++) {
		e = o->J->json_object_array_get_idx(arr, i);
		if (!o->J->json_object_is_type(e, json_type_int) || o->J->json_object_get_int64(e) < 0 ||
		    o->J->json_object_get_int64(e) >= UINT32_MAX) {
			free(groups);
			return keel_error_invalid(err, "%s.additionalGids[%zu]: must be a gid", up, i);
		}
		groups[i] = (gid_t)o->J->json_object_get_int64(e);
	}
	/* No additionalGids: no supplementary groups at all (not the caller's). */
	ret = keel_process_set_groups(p, n, groups, err);
	free(groups);
	return keel_error_wrap(err, ret, "%s.additionalGids", up);
}

/* Also called by the load (keel_oci_console_size() answers from then on);
 * a bad consoleSize is reported by keel_oci_configure(). */
int oci_apply_console(keel_oci *o, struct json_object *proc, const char *path, keel_error **err)
{
	struct json_object *cs = oci_get(o, proc, "consoleSize");
	uint64_t h = 0, w = 0;
	char p[OCI_PATH_MAX];
	int ret;

	if (!cs)
		return 0;
	oci_fmt(p, "%s.consoleSize", path);
	if ((ret = oci_want(o, cs, json_type_object, p, "an object", err)) < 0 ||
	    (ret = oci_get_u64(o, cs, p, "height", &h, err)) < 0 || (ret = oci_get_u64(o, cs, p, "width", &w, err)) < 0)
		return ret;
	if (h > 65535 || w > 65535)
		return keel_error_invalid(err, "%s: at most 65535 rows and columns", p);
	o->has_console = 1;
	o->rows = (unsigned)h;
	o->cols = (unsigned)w;
	return 0;
}

static int apply_args_cwd(keel_oci *o, struct json_object *proc, const char *path, keel_process *p,
			  keel_error **err)
{
	const char *cwd = NULL;
	char **args = NULL;
	int ret;

	if ((ret = oci_get_strv(o, proc, path, "args", &args, err)) < 0)
		return ret;
	if (ret == 1 || !args[0]) {
		oci_strv_free(args);
		return keel_error_invalid(err, "%s.args: missing (the program to run)", path);
	}
	ret = keel_process_set_args(p, (const char *const *)args, err);
	oci_strv_free(args);
	if (ret < 0)
		return keel_error_wrap(err, ret, "%s.args", path);
	if ((ret = oci_get_str(o, proc, path, "cwd", &cwd, err)) < 0)
		return ret;
	if (ret == 1)
		cwd = "/";
	if (cwd[0] != '/')
		return keel_error_invalid(err, "%s.cwd: '%s' is not an absolute path", path, cwd);
	return keel_error_wrap(err, keel_process_set_cwd(p, cwd, err), "%s.cwd", path);
}

/* apparmorProfile, selinuxLabel, oomScoreAdj, noNewPrivileges. */
static int apply_process_security(keel_oci *o, struct json_object *proc, const char *path, keel_security *sec,
				  keel_error **err)
{
	const char *s = NULL;
	int64_t adj = 0;
	int nnp = 0, ret;

	if ((ret = oci_get_bool(o, proc, path, "noNewPrivileges", &nnp, err)) < 0)
		return ret;
	keel_security_set_no_new_privs(sec, nnp);
	if ((ret = oci_get_str(o, proc, path, "apparmorProfile", &s, err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = keel_security_set_apparmor_profile(sec, s, err)) < 0)
		return keel_error_wrap(err, ret, "%s.apparmorProfile", path);
	if ((ret = oci_get_str(o, proc, path, "selinuxLabel", &s, err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = keel_security_set_selinux_label(sec, s, err)) < 0)
		return keel_error_wrap(err, ret, "%s.selinuxLabel", path);
	if ((ret = oci_get_i64(o, proc, path, "oomScoreAdj", &adj, err)) < 0)
		return ret;
	if (ret == 0 && (adj < -1000 || adj > 1000))
		return keel_error_invalid(err, "%s.oomScoreAdj: %lld is not between -1000 and 1000", path, (long long)adj);
	if (ret == 0 && (ret = keel_security_set_oom_score_adj(sec, (int)adj, err)) < 0)
		return keel_error_wrap(err, ret, "%s.oomScoreAdj", path);
	return 0;
}

int oci_apply_process(keel_oci *o, struct json_object *proc, const char *path, keel_process *p,
		      keel_security *sec, keel_error **err)
{
	int tty = 0, ret;

	if ((ret = oci_want(o, proc, json_type_object, path, "an object", err)) < 0)
		return ret;
	if ((ret = oci_refuse(o, proc, path, "ioPriority", NULL, err)) < 0 ||
	    (ret = oci_refuse(o, proc, path, "scheduler", NULL, err)) < 0 ||
	    (ret = oci_refuse(o, proc, path, "execCPUAffinity", NULL, err)) < 0)
		return ret;
	if ((ret = oci_get_bool(o, proc, path, "terminal", &tty, err)) < 0 ||
	    (ret = keel_process_set_tty(p, tty, err)) < 0 || (ret = oci_apply_console(o, proc, path, err)) < 0)
		return ret;
	if ((ret = apply_args_cwd(o, proc, path, p, err)) < 0 || (ret = apply_env(o, proc, path, p, err)) < 0 ||
	    (ret = apply_user(o, proc, path, p, err)) < 0)
		return ret;
	if ((ret = apply_caps(o, proc, path, sec, err)) < 0 || (ret = apply_rlimits(o, proc, path, sec, err)) < 0)
		return ret;
	return apply_process_security(o, proc, path, sec, err);
}

/* --------------------------------------------------------------- root --- */

/* A path of config.json relative to the bundle, made absolute. */
static char *bundle_path(const keel_oci *o, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	return keel_str_join(o->bundle, "/", path, NULL);
}

static int apply_root(keel_oci *o, keel_container *c, keel_error **err)
{
	struct json_object *root = oci_get(o, o->doc, "root");
	const char *path = NULL;
	int ro = 0, ret;
	char *abs;

	if (!root)
		return keel_error_invalid(err, "root: missing (the container's root filesystem)");
	if ((ret = oci_want(o, root, json_type_object, "root", "an object", err)) < 0 ||
	    (ret = oci_get_str(o, root, "root", "path", &path, err)) < 0)
		return ret;
	if (ret == 1 || !*path)
		return keel_error_invalid(err, "root.path: missing");
	if (!(abs = bundle_path(o, path)))
		return keel_error_sys(err, ENOMEM, "root.path");
	free(o->rootfs);
	o->rootfs = realpath(abs, NULL);
	if (!o->rootfs) {
		ret = keel_error_sys(err, errno, "root.path: %s", abs);
		free(abs);
		return ret;
	}
	free(abs);
	if ((ret = keel_rootfs_set_directory(keel_container_rootfs(c), o->rootfs, err)) < 0)
		return keel_error_wrap(err, ret, "root.path");
	if ((ret = oci_get_bool(o, root, "root", "readonly", &ro, err)) < 0)
		return ret;
	keel_rootfs_set_readonly(keel_container_rootfs(c), ro);
	return 0;
}

static int apply_names(keel_oci *o, keel_container *c, keel_error **err)
{
	const char *s = NULL;
	int ret;

	if ((ret = oci_get_str(o, o->doc, "", "hostname", &s, err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = keel_container_set_hostname(c, s, err)) < 0)
		return keel_error_wrap(err, ret, "hostname");
	if ((ret = oci_get_str(o, o->doc, "", "domainname", &s, err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = keel_security_set_domainname(keel_container_security(c), s, err)) < 0)
		return keel_error_wrap(err, ret, "domainname");
	return 0;
}

/* ------------------------------------------------------------- mounts --- */

/* Options that are flags; the rest of a mount's options are its data. */
static const struct {
	const char *name;
	unsigned set, clear;
} mount_flags[] = {
	{ "ro", KEEL_MOUNT_RDONLY, 0 }, { "rw", 0, KEEL_MOUNT_RDONLY },
	{ "rro", KEEL_MOUNT_RDONLY, 0 }, { "rrw", 0, KEEL_MOUNT_RDONLY },
	{ "nosuid", KEEL_MOUNT_NOSUID, 0 }, { "suid", 0, KEEL_MOUNT_NOSUID },
	{ "rnosuid", KEEL_MOUNT_NOSUID, 0 }, { "rsuid", 0, KEEL_MOUNT_NOSUID },
	{ "nodev", KEEL_MOUNT_NODEV, 0 }, { "dev", 0, KEEL_MOUNT_NODEV },
	{ "rnodev", KEEL_MOUNT_NODEV, 0 }, { "rdev", 0, KEEL_MOUNT_NODEV },
	{ "noexec", KEEL_MOUNT_NOEXEC, 0 }, { "exec", 0, KEEL_MOUNT_NOEXEC },
	{ "rnoexec", KEEL_MOUNT_NOEXEC, 0 }, { "rexec", 0, KEEL_MOUNT_NOEXEC },
	{ "relatime", KEEL_MOUNT_RELATIME, KEEL_MOUNT_NOATIME | KEEL_MOUNT_STRICTATIME },
	{ "rrelatime", KEEL_MOUNT_RELATIME, KEEL_MOUNT_NOATIME | KEEL_MOUNT_STRICTATIME },
	{ "noatime", KEEL_MOUNT_NOATIME, KEEL_MOUNT_RELATIME | KEEL_MOUNT_STRICTATIME },
	{ "rnoatime", KEEL_MOUNT_NOATIME, KEEL_MOUNT_RELATIME | KEEL_MOUNT_STRICTATIME },
	{ "strictatime", KEEL_MOUNT_STRICTATIME, KEEL_MOUNT_RELATIME | KEEL_MOUNT_NOATIME },
	{ "rstrictatime", KEEL_MOUNT_STRICTATIME, KEEL_MOUNT_RELATIME | KEEL_MOUNT_NOATIME },
	{ "norelatime", 0, KEEL_MOUNT_RELATIME }, { "nostrictatime", 0, KEEL_MOUNT_STRICTATIME },
	{ "atime", 0, KEEL_MOUNT_NOATIME }, { "defaults", 0, 0 }, { "async", 0, 0 },
	{ "bind", KEEL_MOUNT_BIND, 0 }, { "rbind", KEEL_MOUNT_BIND | KEEL_MOUNT_RECURSIVE, 0 },
	{ "private", KEEL_MOUNT_PRIVATE, 0 }, { "rprivate", KEEL_MOUNT_PRIVATE, 0 },
	{ "slave", KEEL_MOUNT_SLAVE, 0 }, { "rslave", KEEL_MOUNT_SLAVE, 0 },
	{ "shared", KEEL_MOUNT_SHARED, 0 }, { "rshared", KEEL_MOUNT_SHARED, 0 },
	{ "unbindable", KEEL_MOUNT_UNBINDABLE, 0 }, { "runbindable", KEEL_MOUNT_UNBINDABLE, 0 },
};

#define PROPAGATION (KEEL_MOUNT_PRIVATE | KEEL_MOUNT_SLAVE | KEEL_MOUNT_SHARED | KEEL_MOUNT_UNBINDABLE)
#define ATIMES (KEEL_MOUNT_RELATIME | KEEL_MOUNT_NOATIME | KEEL_MOUNT_STRICTATIME)

/* Options libkeel has no way to honour, and why. */
static const struct {
	const char *name, *why;
} mount_refused[] = {
	{ "idmap", " (idmapped bind mounts with their own id maps)" },
	{ "ridmap", " (idmapped bind mounts with their own id maps)" },
	{ "tmpcopyup", " (copying the image's files into a tmpfs)" },
	{ "remount", "" }, { "mand", "" }, { "nomand", "" }, { "sync", "" }, { "dirsync", "" },
	{ "nosymfollow", "" }, { "symfollow", "" }, { "silent", "" }, { "loud", "" },
	{ "iversion", "" }, { "noiversion", "" }, { "lazytime", "" }, { "nolazytime", "" },
};

struct mount_opts {
	unsigned flags;
	char data[4096];
	size_t len;
};

static int add_option(struct mount_opts *m, const char *opt, const char *path, size_t i, keel_error **err)
{
	size_t k;

	for (k = 0; k < N_OF(mount_flags); k++)
		if (strcmp(opt, mount_flags[k].name) == 0) {
			if (mount_flags[k].set & PROPAGATION)
				m->flags &= ~(unsigned)PROPAGATION;
			if (mount_flags[k].set & ATIMES)
				m->flags &= ~(unsigned)ATIMES;
			m->flags = (m->flags & ~mount_flags[k].clear) | mount_flags[k].set;
			return 0;
		}
	for (k = 0; k < N_OF(mount_refused); k++)
		if (strcmp(opt, mount_refused[k].name) == 0)
			return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.options[%zu]: '%s' is not "
						"supported%s", path, i, opt, mount_refused[k].why);
	/* Anything else is the filesystem's: "mode=755", "newinstance". */
	if (strchr(opt, ',') || m->len + strlen(opt) + 2 > sizeof(m->data))
		return keel_error_invalid(err, "%s.options[%zu]: '%s' is not one option, or too long", path, i, opt);
	m->len += (size_t)snprintf(m->data + m->len, sizeof(m->data) - m->len, "%s%s", m->len ? "," : "", opt);
	return 0;
}

static int parse_options(keel_oci *o, struct json_object *mnt, const char *path, struct mount_opts *m,
			 keel_error **err)
{
	char **opts = NULL;
	size_t i;
	int ret;

	if ((ret = oci_get_strv(o, mnt, path, "options", &opts, err)) < 0)
		return ret;
	for (i = 0; opts && opts[i]; i++)
		if ((ret = add_option(m, opts[i], path, i, err)) < 0)
			break;
	oci_strv_free(opts);
	return ret < 0 ? ret : 0;
}

/* The destination as libkeel takes it: absolute (the spec allows a
 * relative one, taken from the container's /). */
static void dest_path(const char *dest, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", dest[0] == '/' ? "" : "/", dest);
}

static int add_one_mount(keel_oci *o, keel_container *c, struct json_object *mnt, const char *path,
			 keel_error **err)
{
	const char *type = NULL, *source = NULL, *dest = NULL;
	struct mount_opts m = { 0 };
	char d[PATH_MAX], *src = NULL;
	int ret;

	if ((ret = oci_want(o, mnt, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_str(o, mnt, path, "destination", &dest, err)) < 0)
		return ret;
	if (ret == 1 || !*dest)
		return keel_error_invalid(err, "%s.destination: missing", path);
	if ((ret = oci_get_str(o, mnt, path, "type", &type, err)) < 0 ||
	    (ret = oci_get_str(o, mnt, path, "source", &source, err)) < 0 ||
	    (ret = parse_options(o, mnt, path, &m, err)) < 0)
		return ret;
	if ((ret = oci_refuse(o, mnt, path, "uidMappings", " (idmapped mounts)", err)) < 0 ||
	    (ret = oci_refuse(o, mnt, path, "gidMappings", " (idmapped mounts)", err)) < 0)
		return ret;
	dest_path(dest, d, sizeof(d));
	if (type && strcmp(type, "bind") == 0)
		m.flags |= KEEL_MOUNT_BIND;
	if (m.flags & KEEL_MOUNT_BIND) {
		if (!source || !*source)
			return keel_error_invalid(err, "%s.source: missing for a bind mount", path);
		if (!(src = bundle_path(o, source)))
			return keel_error_sys(err, ENOMEM, "%s", path);
		ret = keel_rootfs_add_mount(keel_container_rootfs(c), NULL, src, d, m.flags, NULL, err);
		free(src);
		return keel_error_wrap(err, ret, "%s", path);
	}
	if (!type || !*type)
		return keel_error_invalid(err, "%s.type: missing", path);
	/* "cgroup" means the host's kind; libkeel's containers live in cgroup v2. */
	if (strcmp(type, "cgroup") == 0)
		type = "cgroup2";
	ret = keel_rootfs_add_mount(keel_container_rootfs(c), type, source, d, m.flags, m.len ? m.data : NULL, err);
	if (ret == 0 && strcmp(d, "/dev") == 0)
		ret = keel_rootfs_add_default_devices(keel_container_rootfs(c), err);
	return keel_error_wrap(err, ret, "%s", path);
}

static int apply_mounts(keel_oci *o, keel_container *c, keel_error **err)
{
	struct json_object *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_get_array(o, o->doc, "", "mounts", &arr, &n, err)) != 0)
		return ret < 0 ? ret : 0;
	for (i = 0; i < n; i++) {
		oci_fmt(p, "mounts[%zu]", i);
		if ((ret = add_one_mount(o, c, o->J->json_object_array_get_idx(arr, i), p, err)) < 0)
			return ret;
	}
	return 0;
}

/* ---------------------------------------------------------- configure --- */

int oci_configure(keel_oci *o, keel_container *c, keel_error **err)
{
	struct json_object *proc = oci_get(o, o->doc, "process");
	int ret;

	if (!proc)
		return keel_error_invalid(err, "process: missing (what the container runs)");
	if ((ret = oci_refuse(o, o->doc, "", "solaris", NULL, err)) < 0 ||
	    (ret = oci_refuse(o, o->doc, "", "windows", NULL, err)) < 0 ||
	    (ret = oci_refuse(o, o->doc, "", "vm", NULL, err)) < 0 || (ret = oci_refuse(o, o->doc, "", "zos", NULL, err)) < 0)
		return ret;
	if ((ret = oci_apply_process(o, proc, "process", keel_container_process(c), keel_container_security(c),
				     err)) < 0)
		return ret;
	if ((ret = apply_root(o, c, err)) < 0 || (ret = apply_names(o, c, err)) < 0 ||
	    (ret = apply_mounts(o, c, err)) < 0)
		return ret;
	if ((ret = oci_apply_linux(o, c, err)) < 0)
		return ret;
	return keel_oci_set_hooks(o, c, err);
}
