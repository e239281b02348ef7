/*
 * Running an image: a keel_container made of an image's layers and the
 * process its config describes (Entrypoint + Cmd, Env, WorkingDir,
 * User), and its StopSignal, as `docker run IMAGE [CMD...]` does. The
 * caller's own settings made after keel_image_apply() win, so every field
 * can be overridden; a stop signal set before it wins as well.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "error.h"
#include "image.h"
#include "keel/process.h"
#include "util/json.h"
#include "util/str.h"

struct run_config {
	const struct keel_json_api *J;
	struct json_object *root, *config;   /* config may be NULL */
};

static struct json_object *field(struct run_config *rc, const char *key, enum json_type type)
{
	struct json_object *v;

	if (!rc->config || !rc->J->json_object_object_get_ex(rc->config, key, &v) ||
	    !rc->J->json_object_is_type(v, type))
		return NULL;
	return v;
}

/* Entrypoint followed by cmd (or Cmd), as a NULL-terminated array of
 * borrowed strings; *argv is malloc'd. */
static int build_argv(struct run_config *rc, const char *const *cmd, const char ***argv, keel_error **err)
{
	struct json_object *ep = field(rc, "Entrypoint", json_type_array), *dc = field(rc, "Cmd", json_type_array);
	size_t i, n = 0, ne = ep ? rc->J->json_object_array_length(ep) : 0;
	size_t nc = 0;
	int use_cmd = cmd && cmd[0];

	if (use_cmd)
		while (cmd[nc])
			nc++;
	else if (dc)
		nc = rc->J->json_object_array_length(dc);
	if (!(*argv = calloc(ne + nc + 1, sizeof(char *))))
		return keel_error_sys(err, ENOMEM, "image apply");
	for (i = 0; i < ne; i++)
		(*argv)[n++] = rc->J->json_object_get_string(rc->J->json_object_array_get_idx(ep, i));
	for (i = 0; i < nc; i++)
		(*argv)[n++] = use_cmd ? cmd[i] : rc->J->json_object_get_string(rc->J->json_object_array_get_idx(dc, i));
	if (n == 0 || !(*argv)[0]) {
		free(*argv);
		*argv = NULL;
		return keel_error_invalid(err, "image apply: the image has no Entrypoint or Cmd, and no command was given");
	}
	return 0;
}

static int apply_env(struct run_config *rc, keel_process *p, keel_error **err)
{
	struct json_object *env = field(rc, "Env", json_type_array);
	size_t i, n = env ? rc->J->json_object_array_length(env) : 0;
	int r;

	for (i = 0; i < n; i++) {
		const char *kv = rc->J->json_object_get_string(rc->J->json_object_array_get_idx(env, i));
		const char *eq = kv ? strchr(kv, '=') : NULL;
		char name[256];

		if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name))
			continue;   /* docker ignores a malformed entry as well */
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = 0;
		if ((r = keel_process_setenv(p, name, eq + 1, err)) < 0)
			return r;
	}
	return 0;
}

/* Look a user or group name up in the image's /etc/passwd or /etc/group
 * (the topmost layer that has the file): field 2 (the id) and, for
 * passwd, field 3 (the primary group). */
static int lookup_db(const keel_image *img, const char *file, const char *name, long *id, long *gid)
{
	size_t i;

	for (i = img->n_layers; i-- > 0;) {
		int root = open(img->dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
		char line[1024];
		FILE *f;

		if (root < 0)
			continue;
		fd = keel_open_in_root(root, file, O_RDONLY);
		close(root);
		if (fd < 0)
			continue;
		if (!(f = fdopen(fd, "r"))) {
			close(fd);
			return -1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *save, *n = strtok_r(line, ":", &save), *pw = strtok_r(NULL, ":", &save);
			char *u = strtok_r(NULL, ":", &save), *g = strtok_r(NULL, ":", &save);

			(void)pw;
			if (n && u && !strcmp(n, name)) {
				*id = atol(u);
				if (gid)
					*gid = g ? atol(g) : 0;
				fclose(f);
				return 0;
			}
		}
		fclose(f);
		return -1;
	}
	return -1;
}

static int numeric(const char *s, long *out)
{
	char *end;

	if (!*s)
		return 0;
	errno = 0;
	*out = strtol(s, &end, 10);
	return !*end && !errno && *out >= 0;
}

static int apply_user(const keel_image *img, const char *spec, keel_process *p, keel_error **err)
{
	char user[256], *group;
	long uid, gid = 0, pgid = 0;

	if (!spec || !*spec)
		return 0;
	snprintf(user, sizeof(user), "%s", spec);
	if ((group = strchr(user, ':')))
		*group++ = 0;
	if (numeric(user, &uid))
		lookup_db(img, "etc/passwd", user, &uid, &pgid), gid = pgid;
	else if (lookup_db(img, "etc/passwd", user, &uid, &gid) < 0)
		return keel_error_invalid(err, "image %s: User '%s': no such user in the image's /etc/passwd",
					  img->digest, user);
	if (group && !numeric(group, &gid) && lookup_db(img, "etc/group", group, &gid, NULL) < 0)
		return keel_error_invalid(err, "image %s: User '%s': no such group in the image's /etc/group",
					  img->digest, spec);
	return keel_process_set_user(p, (uid_t)uid, (gid_t)gid, err);
}

/* config.StopSignal as Docker reads it (a name or a number); *sig 0
 * when the config has none. Checked before anything is applied, so a bad
 * one leaves the container as it was. */
static int stop_signal_of(struct run_config *rc, const keel_image *img, int *sig, keel_error **err)
{
	struct json_object *v;
	const char *name;

	*sig = 0;
	if (!rc->config || !rc->J->json_object_object_get_ex(rc->config, "StopSignal", &v) ||
	    rc->J->json_object_is_type(v, json_type_null))
		return 0;
	if (!rc->J->json_object_is_type(v, json_type_string))
		return keel_error_invalid(err, "image %s: config.StopSignal: not a string", img->digest);
	name = rc->J->json_object_get_string(v);
	if (!*name)
		return 0;   /* docker writes "" for none as well */
	if ((*sig = keel_str_to_signal(name)) < 0)
		return keel_error_invalid(err, "image %s: config.StopSignal '%s' is not a signal (a name such as "
					  "SIGTERM, KILL or SIGRTMIN+3, or a number from 1 to %d)", img->digest,
					  name, KEEL_SIG_MAX);
	return 0;
}

static int apply_config(keel_image_store *s, const keel_image *img, keel_container *c, struct run_config *rc,
			const char *const *cmd, keel_error **err)
{
	keel_process *p = keel_container_process(c);
	struct json_object *wd = field(rc, "WorkingDir", json_type_string), *user = field(rc, "User", json_type_string);
	const char **argv = NULL;
	size_t i;
	int r, sig;

	if ((r = stop_signal_of(rc, img, &sig, err)) < 0)
		return r;
	/* the caller's own stop signal, set before, wins over the image's */
	if (sig && !keel_container_has_stop_signal(c) && (r = keel_container_set_stop_signal(c, sig, err)) < 0)
		return keel_error_wrap(err, r, "image %s", img->digest);
	for (i = 0; i < img->n_layers; i++)
		if ((r = keel_container_add_layer(c, img->dirs[i], err)) < 0)
			return keel_error_wrap(err, r, "image %s", img->digest);
	if ((r = build_argv(rc, cmd, &argv, err)) < 0)
		return r;
	r = keel_process_set_args(p, argv, err);
	free(argv);
	if (r < 0 || (r = apply_env(rc, p, err)) < 0)
		return r;
	if (wd && *rc->J->json_object_get_string(wd) &&
	    (r = keel_process_set_cwd(p, rc->J->json_object_get_string(wd), err)) < 0)
		return r;
	if (user && (r = apply_user(img, rc->J->json_object_get_string(user), p, err)) < 0)
		return r;
	return keel_store_add_ref(s, keel_container_state_root(c), keel_container_id(c), img->digest, err);
}

KEEL_PUBLIC int keel_image_apply(keel_image_store *s, const keel_image *img, keel_container *c,
				 const char *const *cmd, keel_error **err)
{
	struct run_config rc = { 0 };
	int r;

	if (!(rc.J = keel_json(err, "image apply")))
		return -ELIBACC;
	if ((r = keel_json_parse(img->config, strlen(img->config), "image config", &rc.root, err)) < 0)
		return r;
	if (!rc.J->json_object_object_get_ex(rc.root, "config", &rc.config) ||
	    !rc.J->json_object_is_type(rc.config, json_type_object))
		rc.config = NULL;
	r = apply_config(s, img, c, &rc, cmd, err);
	rc.J->json_object_put(rc.root);
	return r;
}
