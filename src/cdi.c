/*
 * cdi: Container Device Interface specs (keel/cdi.h).
 *
 * keel_cdi_registry_new() reads every *.json in the spec directories and
 * turns each spec into C structures at once, checking it against the CDI
 * schema as it goes, so that a broken spec is an error naming its file and
 * the field, and applying a device later cannot fail on the document.
 * keel_cdi_registry_apply() then replays the spec's and the device's edits
 * on a container through the public calls (and the two private ones of
 * container-device.h for nodes with given numbers and program hooks).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/cdi.h>

#include "cdi.h"
#include "container.h"
#include "container-device.h"
#include "error.h"
#include "util/json.h"
#include "util/str.h"

#define SPEC_MAX (1 << 20) /* a spec of a megabyte is not a spec */

struct cdi_node {
	char *path, *host, *perms;
	int type;                 /* 'c', 'b', or 0: the host node's */
	int64_t major, minor;     /* -1: the host node's */
	int64_t mode, uid, gid;   /* -1: the host node's */
};

struct cdi_mount {
	char *host, *dest;
	unsigned flags;
};

struct cdi_hook {
	int point;
	char *path;
	char **args, **env;
};

struct cdi_edits {
	struct cdi_node *nodes;
	size_t n_nodes;
	struct cdi_mount *mounts;
	size_t n_mounts;
	char **env;
	size_t n_env;
	struct cdi_hook *hooks;
	size_t n_hooks;
};

struct cdi_spec {
	char *path;
	struct cdi_edits edits;
};

struct cdi_device {
	char *qname;              /* "vendor.com/class=name" */
	size_t spec;              /* index into specs */
	struct cdi_edits edits;
};

struct keel_cdi_registry {
	struct cdi_spec *specs;
	size_t n_specs;
	struct cdi_device *devices;
	size_t n_devices;
};

/* While one spec is read: the json-c table, its file, and the first error. */
struct reader {
	const struct keel_json_api *J;
	const char *file;
	keel_error **err;
};

/* ------------------------------------------------------------- names -- */

static int in_set(char ch, const char *extra)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr(extra, ch));
}

/* s[0..len) is [A-Za-z0-9][A-Za-z0-9<extra>]*. */
static int valid_part(const char *s, size_t len, const char *extra)
{
	size_t i;

	if (!len || !in_set(s[0], ""))
		return 0;
	for (i = 1; i < len; i++)
		if (!in_set(s[i], extra))
			return 0;
	return 1;
}

int keel_cdi_valid_kind(const char *kind, size_t len)
{
	const char *slash = memchr(kind, '/', len);

	return slash && valid_part(kind, (size_t)(slash - kind), ".-") &&
	       valid_part(slash + 1, len - (size_t)(slash - kind) - 1, "_.-");
}

int keel_cdi_parse_name(const char *qname, size_t *kind_len, const char **name)
{
	const char *eq = qname ? strchr(qname, '=') : NULL;

	if (!eq || !keel_cdi_valid_kind(qname, (size_t)(eq - qname)) || !valid_part(eq + 1, strlen(eq + 1), "_.:-"))
		return -EINVAL;
	*kind_len = (size_t)(eq - qname);
	*name = eq + 1;
	return 0;
}

/* ---------------------------------------------------------- the fields -- */

static int bad(struct reader *rd, const char *where, const char *what)
{
	return keel_error_invalid(rd->err, "CDI spec %s: %s: %s", rd->file, where, what);
}

static struct json_object *field(struct reader *rd, struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!rd->J->json_object_object_get_ex(o, key, &v) || rd->J->json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* An optional string field: *out NULL when absent; -EINVAL if not a string. */
static int opt_string(struct reader *rd, struct json_object *o, const char *key, const char *where, char **out)
{
	struct json_object *v = field(rd, o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!rd->J->json_object_is_type(v, json_type_string))
		return keel_error_invalid(rd->err, "CDI spec %s: %s: %s is not a string", rd->file, where, key);
	if (!(*out = strdup(rd->J->json_object_get_string(v))))
		return keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file);
	return 0;
}

static int opt_int(struct reader *rd, struct json_object *o, const char *key, const char *where, int64_t *out)
{
	struct json_object *v = field(rd, o, key);

	*out = -1;
	if (!v)
		return 0;
	if (!rd->J->json_object_is_type(v, json_type_int) || rd->J->json_object_get_int64(v) < 0)
		return keel_error_invalid(rd->err, "CDI spec %s: %s: %s is not a number >= 0", rd->file, where, key);
	*out = rd->J->json_object_get_int64(v);
	return 0;
}

/* An optional array field: its length (0 when absent), or -EINVAL. */
static int opt_array(struct reader *rd, struct json_object *o, const char *key, const char *where,
		     struct json_object **arr)
{
	*arr = field(rd, o, key);
	if (!*arr)
		return 0;
	if (!rd->J->json_object_is_type(*arr, json_type_array))
		return keel_error_invalid(rd->err, "CDI spec %s: %s: %s is not an array", rd->file, where, key);
	return (int)rd->J->json_object_array_length(*arr);
}

/* An array of strings into a NULL-terminated vector (NULL when absent). */
static int string_array(struct reader *rd, struct json_object *o, const char *key, const char *where,
			char ***out, size_t *n_out)
{
	struct json_object *arr, *v;
	int n, i;

	*out = NULL;
	if ((n = opt_array(rd, o, key, where, &arr)) <= 0)
		return n;
	if (!(*out = calloc((size_t)n + 1, sizeof(char *))))
		return keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file);
	for (i = 0; i < n; i++) {
		v = rd->J->json_object_array_get_idx(arr, (size_t)i);
		if (!rd->J->json_object_is_type(v, json_type_string))
			return keel_error_invalid(rd->err, "CDI spec %s: %s: %s[%d] is not a string", rd->file, where,
						  key, i);
		if (!((*out)[i] = strdup(rd->J->json_object_get_string(v))))
			return keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file);
	}
	if (n_out)
		*n_out = (size_t)n;
	return 0;
}

/* ------------------------------------------------------------ the edits -- */

static int read_node(struct reader *rd, struct json_object *o, const char *where, void *slot)
{
	struct cdi_node *n = slot;
	char *type = NULL;
	unsigned access;
	int ret;

	if ((ret = opt_string(rd, o, "path", where, &n->path)) < 0 ||
	    (ret = opt_string(rd, o, "hostPath", where, &n->host)) < 0 ||
	    (ret = opt_string(rd, o, "permissions", where, &n->perms)) < 0 ||
	    (ret = opt_string(rd, o, "type", where, &type)) < 0 ||
	    (ret = opt_int(rd, o, "major", where, &n->major)) < 0 || (ret = opt_int(rd, o, "minor", where, &n->minor)) < 0 ||
	    (ret = opt_int(rd, o, "fileMode", where, &n->mode)) < 0 || (ret = opt_int(rd, o, "uid", where, &n->uid)) < 0 ||
	    (ret = opt_int(rd, o, "gid", where, &n->gid)) < 0)
		goto out;
	if (!n->path || n->path[0] != '/')
		ret = bad(rd, where, "path is missing or not absolute");
	else if (n->host && n->host[0] != '/')
		ret = bad(rd, where, "hostPath is not absolute");
	else if (type && strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "u"))
		ret = bad(rd, where, "type is not \"c\", \"u\" or \"b\" (fifos are not devices)");
	else if (n->perms && keel_device_access_parse(n->perms, &access) < 0)
		ret = bad(rd, where, "permissions is not letters from \"rwm\"");
	else if (n->mode > 07777)
		ret = bad(rd, where, "fileMode has more than permission bits");
	n->type = type ? (type[0] == 'b' ? 'b' : 'c') : 0;
out:
	free(type);
	return ret;
}

/* CDI's (OCI's) mount options that map onto a bind mount's flags. */
static int mount_option(const char *opt, unsigned *flags)
{
	static const struct { const char *name; unsigned flag; } map[] = {
		{ "ro", KEEL_MOUNT_RDONLY }, { "rw", 0 }, { "nosuid", KEEL_MOUNT_NOSUID },
		{ "nodev", KEEL_MOUNT_NODEV }, { "noexec", KEEL_MOUNT_NOEXEC }, { "bind", 0 },
		{ "rbind", KEEL_MOUNT_RECURSIVE }, { "rprivate", KEEL_MOUNT_PRIVATE }, { "private", KEEL_MOUNT_PRIVATE },
		{ "rslave", KEEL_MOUNT_SLAVE }, { "slave", KEEL_MOUNT_SLAVE }, { "rshared", KEEL_MOUNT_SHARED },
		{ "shared", KEEL_MOUNT_SHARED }, { "noatime", KEEL_MOUNT_NOATIME }, { "relatime", KEEL_MOUNT_RELATIME },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(opt, map[i].name)) {
			*flags |= map[i].flag;
			return 0;
		}
	return -EINVAL;
}

static int read_mount(struct reader *rd, struct json_object *o, const char *where, void *slot)
{
	struct cdi_mount *m = slot;
	char **opts = NULL, **p;
	int ret;

	if ((ret = opt_string(rd, o, "hostPath", where, &m->host)) < 0 ||
	    (ret = opt_string(rd, o, "containerPath", where, &m->dest)) < 0 ||
	    (ret = string_array(rd, o, "options", where, &opts, NULL)) < 0)
		goto out;
	if (!m->host || m->host[0] != '/' || !m->dest || m->dest[0] != '/')
		ret = bad(rd, where, "hostPath and containerPath must both be absolute paths");
	for (p = opts; ret == 0 && p && *p; p++)
		if (mount_option(*p, &m->flags) < 0)
			ret = keel_error_invalid(rd->err, "CDI spec %s: %s: mount option \"%s\" is not supported", rd->file,
						 where, *p);
out:
	keel_strv_free(opts);
	return ret;
}

static int hook_point(const char *name)
{
	static const char *const names[] = { "", "createRuntime", "createContainer", "startContainer", "poststart",
					     "poststop" };
	int i;

	for (i = KEEL_HOOK_CREATE_RUNTIME; i <= KEEL_HOOK_POSTSTOP; i++)
		if (!strcmp(name, names[i]))
			return i;
	return 0;
}

static int read_hook(struct reader *rd, struct json_object *o, const char *where, void *slot)
{
	struct cdi_hook *h = slot;
	char *name = NULL;
	int ret;

	if ((ret = opt_string(rd, o, "hookName", where, &name)) < 0 ||
	    (ret = opt_string(rd, o, "path", where, &h->path)) < 0 ||
	    (ret = string_array(rd, o, "args", where, &h->args, NULL)) < 0 ||
	    (ret = string_array(rd, o, "env", where, &h->env, NULL)) < 0)
		goto out;
	if (!name || !(h->point = hook_point(name)))
		ret = bad(rd, where, "hookName is not one of createRuntime, createContainer, startContainer, "
			  "poststart, poststop (prestart is not supported)");
	else if (!h->path || h->path[0] != '/')
		ret = bad(rd, where, "path is missing or not absolute");
out:
	free(name);
	return ret;
}

/* Read one array of edits: n entries of size sz, each by fn. */
typedef int (*read_fn)(struct reader *, struct json_object *, const char *, void *);

static int read_list(struct reader *rd, struct json_object *edits, const char *key, const char *where,
		     size_t sz, read_fn fn, void **out, size_t *n_out)
{
	struct json_object *arr, *o;
	char at[256];
	int n, i, ret;

	if ((n = opt_array(rd, edits, key, where, &arr)) <= 0)
		return n;
	if (!(*out = calloc((size_t)n, sz)))
		return keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file);
	*n_out = (size_t)n;
	for (i = 0; i < n; i++) {
		snprintf(at, sizeof(at), "%s.%s[%d]", where, key, i);
		o = rd->J->json_object_array_get_idx(arr, (size_t)i);
		if (!rd->J->json_object_is_type(o, json_type_object))
			return bad(rd, at, "not an object");
		if ((ret = fn(rd, o, at, (char *)*out + (size_t)i * sz)) < 0)
			return ret;
	}
	return 0;
}

static void edits_free(struct cdi_edits *e)
{
	size_t i;

	for (i = 0; i < e->n_nodes && e->nodes; i++) {
		free(e->nodes[i].path);
		free(e->nodes[i].host);
		free(e->nodes[i].perms);
	}
	free(e->nodes);
	for (i = 0; i < e->n_mounts && e->mounts; i++) {
		free(e->mounts[i].host);
		free(e->mounts[i].dest);
	}
	free(e->mounts);
	keel_strv_free(e->env);
	for (i = 0; i < e->n_hooks && e->hooks; i++) {
		free(e->hooks[i].path);
		keel_strv_free(e->hooks[i].args);
		keel_strv_free(e->hooks[i].env);
	}
	free(e->hooks);
	memset(e, 0, sizeof(*e));
}

static int read_edits(struct reader *rd, struct json_object *parent, const char *where, struct cdi_edits *e)
{
	struct json_object *edits = field(rd, parent, "containerEdits");
	size_t i;
	int ret;

	if (!edits)
		return 0;
	if (!rd->J->json_object_is_type(edits, json_type_object))
		return bad(rd, where, "containerEdits is not an object");
	if ((ret = read_list(rd, edits, "deviceNodes", where, sizeof(*e->nodes), read_node,
			     (void **)&e->nodes, &e->n_nodes)) < 0 ||
	    (ret = read_list(rd, edits, "mounts", where, sizeof(*e->mounts), read_mount,
			     (void **)&e->mounts, &e->n_mounts)) < 0 ||
	    (ret = read_list(rd, edits, "hooks", where, sizeof(*e->hooks), read_hook,
			     (void **)&e->hooks, &e->n_hooks)) < 0 ||
	    (ret = string_array(rd, edits, "env", where, &e->env, &e->n_env)) < 0)
		return ret;
	for (i = 0; i < e->n_env; i++)
		if (!strchr(e->env[i], '=') || e->env[i][0] == '=')
			return keel_error_invalid(rd->err, "CDI spec %s: %s: env \"%s\" is not NAME=VALUE", rd->file,
						  where, e->env[i]);
	return 0;
}

/* ------------------------------------------------------------ the specs -- */

/* Add (or, for a name seen in an earlier spec, replace) a device. */
static int add_device(keel_cdi_registry *reg, char *qname, size_t spec, struct cdi_edits *edits)
{
	struct cdi_device *grown;
	size_t i;

	for (i = 0; i < reg->n_devices; i++)
		if (!strcmp(reg->devices[i].qname, qname)) {
			free(reg->devices[i].qname);
			edits_free(&reg->devices[i].edits);
			reg->devices[i] = (struct cdi_device){ qname, spec, *edits };
			return 0;
		}
	if (!(grown = realloc(reg->devices, (reg->n_devices + 1) * sizeof(*grown))))
		return -ENOMEM;
	reg->devices = grown;
	reg->devices[reg->n_devices++] = (struct cdi_device){ qname, spec, *edits };
	return 0;
}

static int read_device(struct reader *rd, keel_cdi_registry *reg, size_t spec, const char *kind,
		       struct json_object *o, int i)
{
	struct cdi_edits edits = { 0 };
	char where[64], *name = NULL, *qname;
	size_t len;
	int ret;

	snprintf(where, sizeof(where), "devices[%d]", i);
	if (!rd->J->json_object_is_type(o, json_type_object))
		return bad(rd, where, "not an object");
	if ((ret = opt_string(rd, o, "name", where, &name)) < 0)
		return ret;
	if (!name || !valid_part(name, strlen(name), "_.:-")) {
		free(name);
		return bad(rd, where, "name is missing or not [A-Za-z0-9][A-Za-z0-9_.:-]*");
	}
	if (!field(rd, o, "containerEdits")) {
		free(name);
		return bad(rd, where, "containerEdits is missing");
	}
	len = strlen(kind) + strlen(name) + 2;
	qname = malloc(len);
	if (qname)
		snprintf(qname, len, "%s=%s", kind, name);
	free(name);
	if (!qname)
		return keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file);
	if ((ret = read_edits(rd, o, where, &edits)) < 0 || (ret = add_device(reg, qname, spec, &edits)) < 0) {
		edits_free(&edits);
		free(qname);
		return ret == -ENOMEM ? keel_error_sys(rd->err, ENOMEM, "CDI spec %s", rd->file) : ret;
	}
	return 0;
}

static int read_spec_doc(struct reader *rd, keel_cdi_registry *reg, struct json_object *doc, size_t spec)
{
	struct json_object *devs;
	char *version = NULL, *kind = NULL;
	int n, i, ret;

	if (!rd->J->json_object_is_type(doc, json_type_object))
		return bad(rd, "top level", "not an object");
	if ((ret = opt_string(rd, doc, "cdiVersion", "top level", &version)) < 0 ||
	    (ret = opt_string(rd, doc, "kind", "top level", &kind)) < 0)
		goto out;
	if (!version)
		ret = bad(rd, "top level", "cdiVersion is missing");
	else if (!kind || !keel_cdi_valid_kind(kind, strlen(kind)))
		ret = bad(rd, "kind", "missing or not vendor.com/class");
	else if ((n = opt_array(rd, doc, "devices", "top level", &devs)) <= 0)
		ret = n < 0 ? n : bad(rd, "devices", "missing or empty");
	else if ((ret = read_edits(rd, doc, "top level", &reg->specs[spec].edits)) == 0)
		for (i = 0; i < n && ret == 0; i++)
			ret = read_device(rd, reg, spec, kind, rd->J->json_object_array_get_idx(devs, (size_t)i), i);
out:
	free(version);
	free(kind);
	return ret;
}

static int read_spec(const struct keel_json_api *J, keel_cdi_registry *reg, const char *path, keel_error **err)
{
	struct reader rd = { J, path, err };
	struct json_object *doc = NULL;
	struct cdi_spec *grown;
	int ret;

	if (!(grown = realloc(reg->specs, (reg->n_specs + 1) * sizeof(*grown))))
		return keel_error_sys(err, ENOMEM, "CDI spec %s", path);
	reg->specs = grown;
	memset(&reg->specs[reg->n_specs], 0, sizeof(*grown));
	if (!(reg->specs[reg->n_specs].path = strdup(path)))
		return keel_error_sys(err, ENOMEM, "CDI spec %s", path);
	reg->n_specs++;
	if ((ret = keel_json_read_file(AT_FDCWD, path, SPEC_MAX, NULL, &doc, err)) < 0)
		return keel_error_wrap(err, ret, "CDI spec");
	ret = read_spec_doc(&rd, reg, doc, reg->n_specs - 1);
	J->json_object_put(doc);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of dir, sorted (the order CDI reads them in). */
static int list_dir(const char *dir, char ***out, size_t *n, keel_error **err)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t len;
	char **v = NULL, **grown;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : keel_error_sys(err, errno, "CDI spec directory %s", dir);
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") || de->d_name[0] == '.')
			continue;
		if (!(grown = realloc(v, (*n + 2) * sizeof(*v))) || !(grown[*n] = malloc(strlen(dir) + len + 2))) {
			v = grown ? grown : v;
			closedir(d);
			*out = v;
			return keel_error_sys(err, ENOMEM, "CDI spec directory %s", dir);
		}
		v = grown;
		snprintf(v[*n], strlen(dir) + len + 2, "%s/%s", dir, de->d_name);
		v[++*n] = NULL;
	}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
}

static const char *const default_dirs[] = { "/etc/cdi", "/var/run/cdi", NULL };

KEEL_PUBLIC int keel_cdi_registry_new(keel_cdi_registry **out, const char *const *dirs, keel_error **err)
{
	const struct keel_json_api *J;
	keel_cdi_registry *reg;
	const char *const *d;
	char **files = NULL;
	size_t n, i;
	int ret = 0;

	if (!out)
		return keel_error_invalid(err, "CDI registry: out is NULL");
	for (d = dirs ? dirs : default_dirs; *d; d++)
		if ((*d)[0] != '/')
			return keel_error_invalid(err, "CDI spec directory '%s': not an absolute path", *d);
	if (!(J = keel_json(err, "CDI specs")))
		return -ENOTSUP;
	if (!(reg = calloc(1, sizeof(*reg))))
		return keel_error_sys(err, ENOMEM, "CDI registry");
	for (d = dirs ? dirs : default_dirs; *d && ret == 0; d++) {
		ret = list_dir(*d, &files, &n, err);
		for (i = 0; ret == 0 && i < n; i++)
			ret = read_spec(J, reg, files[i], err);
		keel_strv_free(files);
	}
	if (ret < 0) {
		keel_cdi_registry_free(reg);
		return ret;
	}
	*out = reg;
	return 0;
}

KEEL_PUBLIC void keel_cdi_registry_free(keel_cdi_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->n_specs; i++) {
		free(reg->specs[i].path);
		edits_free(&reg->specs[i].edits);
	}
	for (i = 0; i < reg->n_devices; i++) {
		free(reg->devices[i].qname);
		edits_free(&reg->devices[i].edits);
	}
	free(reg->specs);
	free(reg->devices);
	free(reg);
}

KEEL_PUBLIC int keel_cdi_registry_devices(const keel_cdi_registry *reg, char ***names, keel_error **err)
{
	char **v;
	size_t i;

	if (!reg || !names)
		return keel_error_invalid(err, "CDI registry: NULL argument");
	if (!(v = calloc(reg->n_devices + 1, sizeof(*v))))
		return keel_error_sys(err, ENOMEM, "CDI registry");
	for (i = 0; i < reg->n_devices; i++)
		if (!(v[i] = strdup(reg->devices[i].qname))) {
			keel_strv_free(v);
			return keel_error_sys(err, ENOMEM, "CDI registry");
		}
	qsort(v, reg->n_devices, sizeof(*v), cmp_str);
	*names = v;
	return 0;
}

/* ------------------------------------------------------------- applying -- */

/* A node from the host's (when it exists), with the spec's overrides. */
static int apply_node(keel_container *c, const struct cdi_node *n, keel_error **err)
{
	struct keel_device_node node = { 0 };
	const char *host = n->host ? n->host : n->path;
	int ret;

	ret = keel_device_node_from_host(host, &node, NULL);
	if (ret < 0 && (!n->type || n->major < 0 || n->minor < 0))
		return keel_device_node_from_host(host, &node, err); /* the same error, reported */
	if (ret < 0) {
		node.host = (char *)host;
		node.mode = 0666;
		node.access = KEEL_DEVICE_RWM;
	}
	if (n->type)
		node.block = n->type == 'b';
	if (n->major >= 0)
		node.major = (unsigned)n->major;
	if (n->minor >= 0)
		node.minor = (unsigned)n->minor;
	if (n->mode >= 0)
		node.mode = (mode_t)n->mode;
	if (n->uid >= 0 || n->gid >= 0) {
		node.has_owner = 1;
		node.uid = n->uid >= 0 ? (uid_t)n->uid : node.uid;
		node.gid = n->gid >= 0 ? (gid_t)n->gid : node.gid;
	}
	if (n->perms)
		keel_device_access_parse(n->perms, &node.access); /* checked when read */
	node.dest = n->path;
	return keel_container_add_device_node(c, &node, err);
}

static int apply_edits(keel_container *c, const struct cdi_edits *e, keel_error **err)
{
	size_t i;
	char *eq, name[256];
	int ret = 0;

	for (i = 0; ret == 0 && i < e->n_nodes; i++)
		ret = apply_node(c, &e->nodes[i], err);
	for (i = 0; ret == 0 && i < e->n_mounts; i++)
		ret = keel_rootfs_add_bind(keel_container_rootfs(c), e->mounts[i].host, e->mounts[i].dest,
					   e->mounts[i].flags, err);
	for (i = 0; ret == 0 && i < e->n_env; i++) {
		eq = strchr(e->env[i], '=');
		if ((size_t)(eq - e->env[i]) >= sizeof(name))
			return keel_error_invalid(err, "env %.32s...: name too long", e->env[i]);
		memcpy(name, e->env[i], (size_t)(eq - e->env[i]));
		name[eq - e->env[i]] = '\0';
		ret = keel_process_setenv(keel_container_process(c), name, eq + 1, err);
	}
	for (i = 0; ret == 0 && i < e->n_hooks; i++)
		ret = keel_container_add_exec_hook(c, e->hooks[i].point, e->hooks[i].path, e->hooks[i].args,
						   e->hooks[i].env, err);
	return ret;
}

/* "not found" with the sorted list of what exists, so a typo is easy to see. */
static int not_found(const keel_cdi_registry *reg, const char *qname, keel_error **err)
{
	char known[1024] = "", **names = NULL;
	size_t i, used = 0;

	if (keel_cdi_registry_devices(reg, &names, err) < 0)
		return -ENOMEM;
	for (i = 0; names[i] && used + 8 < sizeof(known); i++)
		used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "", names[i]);
	if (used >= sizeof(known))
		strcpy(known + sizeof(known) - 5, "...");
	keel_strv_free(names);
	return keel_error_plain(err, KEEL_ERROR_NOT_FOUND, ENOENT, "CDI device %s not found (%s%s)", qname,
				reg->n_devices ? "known: " : "no CDI spec defines any device", known);
}

KEEL_PUBLIC int keel_cdi_registry_apply(const keel_cdi_registry *reg, const char *qname, keel_container *c,
					keel_error **err)
{
	const struct cdi_device *dev = NULL;
	const char *name;
	size_t kind_len, i;
	int ret;

	if (!reg || !c)
		return keel_error_invalid(err, "CDI: apply: %s is NULL", reg ? "container" : "registry");
	if (keel_cdi_parse_name(qname, &kind_len, &name) < 0)
		return keel_error_invalid(err, "CDI device '%s': not a name of the form vendor.com/class=name",
					  qname ? qname : "");
	for (i = 0; i < reg->n_devices && !dev; i++)
		if (!strcmp(reg->devices[i].qname, qname))
			dev = &reg->devices[i];
	if (!dev)
		return not_found(reg, qname, err);
	if ((ret = apply_edits(c, &reg->specs[dev->spec].edits, err)) < 0 ||
	    (ret = apply_edits(c, &dev->edits, err)) < 0)
		return keel_error_wrap(err, ret, "CDI device %s (%s)", qname, reg->specs[dev->spec].path);
	return 0;
}
