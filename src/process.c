/*
 * process: the description of what to run.
 *
 * Everything here is plain bookkeeping in the caller's process: strings
 * are copied, input is checked, nothing touches the kernel. spawn.c reads
 * the struct (src/process.h) and prepares, before the clone, every array
 * the new process needs (argv, envp, exec candidates), because the new
 * process may not allocate.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "process.h"
#include "util/str.h"

extern char **environ;

KEEL_PUBLIC int keel_process_new(keel_process **out, keel_error **err)
{
	keel_process *p;

	if (!out)
		return keel_error_invalid(err, "process: out is NULL");
	p = calloc(1, sizeof(*p));
	if (!p)
		return keel_error_sys(err, ENOMEM, "process");
	p->stdio[0] = p->stdio[1] = p->stdio[2] = -1;
	*out = p;
	return 0;
}

static void free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

KEEL_PUBLIC void keel_process_free(keel_process *p)
{
	if (!p)
		return;
	keel_strv_free(p->argv);
	free_strs(p->set_env, p->n_set);
	free(p->env_index);
	free_strs(p->unset_env, p->n_unset);
	free(p->cwd);
	free(p->groups);
	free(p);
}

KEEL_PUBLIC int keel_process_set_args(keel_process *p, const char *const argv[], keel_error **err)
{
	size_t n, i;
	char **copy;

	if (!p || !argv || !argv[0] || !argv[0][0])
		return keel_error_invalid(err, "process: set args: argv must hold at least a program name");
	for (n = 0; argv[n]; n++)
		;
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return keel_error_sys(err, ENOMEM, "process: set args");
	for (i = 0; i < n; i++)
		if (!(copy[i] = strdup(argv[i]))) {
			keel_strv_free(copy);
			return keel_error_sys(err, ENOMEM, "process: set args");
		}
	keel_strv_free(p->argv);
	p->argv = copy;
	return 0;
}

static int check_env_name(const char *name, const char *what, keel_error **err)
{
	if (!name || !name[0] || strchr(name, '='))
		return keel_error_invalid(err, "process: %s '%s': a variable name must not be empty or contain '='",
					  what, name ? name : "(null)");
	return 0;
}

/* Does "NAME=value" entry e hold variable name? */
static int env_is(const char *e, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(e, name, len) && e[len] == '=';
}

/* Remove entries matching name (as a NAME=value or as a bare name). */
static void drop_name(char **v, size_t *n, const char *name, int bare)
{
	size_t i = 0;

	while (i < *n) {
		if (bare ? !strcmp(v[i], name) : env_is(v[i], name)) {
			free(v[i]);
			v[i] = v[--*n];
		} else {
			i++;
		}
	}
}

/* ---- set_env by name, so that n setenv calls cost O(n), not O(n^2) -- */

/* FNV-1a of the first len bytes of s. */
static size_t name_hash(const char *s, size_t len)
{
	size_t h = (size_t)1469598103934665603ULL, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * (size_t)1099511628211ULL;
	return h;
}

/* The length of the name of "NAME=value" (or of a bare name). */
static size_t name_len(const char *e)
{
	return (size_t)(strchrnul(e, '=') - e);
}

/* Where set_env holds the variable name[0, len), or -1. */
static long env_find(const keel_process *p, const char *name, size_t len)
{
	size_t mask, i, slot;

	if (!p->env_index)
		return -1;
	mask = p->env_index_cap - 1;
	for (i = name_hash(name, len) & mask; (slot = p->env_index[i]); i = (i + 1) & mask) {
		const char *e = p->set_env[slot - 1];

		if (!strncmp(e, name, len) && e[len] == '=')
			return (long)(slot - 1);
	}
	return -1;
}

static void env_index_put(keel_process *p, size_t idx)
{
	size_t mask = p->env_index_cap - 1, i;

	for (i = name_hash(p->set_env[idx], name_len(p->set_env[idx])) & mask; p->env_index[i]; i = (i + 1) & mask)
		;
	p->env_index[i] = idx + 1;
}

/* Make the index anew, with room for at least want entries. */
static int env_index_rebuild(keel_process *p, size_t want)
{
	size_t cap = 16, i, *slots;

	while (cap < 2 * want)
		cap *= 2;
	if (!(slots = calloc(cap, sizeof(*slots))))
		return -ENOMEM;
	free(p->env_index);
	p->env_index = slots;
	p->env_index_cap = cap;
	for (i = 0; i < p->n_set; i++)
		env_index_put(p, i);
	return 0;
}

/* Drop the variable name from set_env (the last entry takes its place). */
static int env_drop(keel_process *p, const char *name)
{
	long idx = env_find(p, name, strlen(name));

	if (idx < 0)
		return 0;
	free(p->set_env[idx]);
	p->set_env[idx] = p->set_env[--p->n_set];
	return env_index_rebuild(p, p->n_set);
}

KEEL_PUBLIC int keel_process_setenv(keel_process *p, const char *name, const char *value,
				    keel_error **err)
{
	char *e;
	long idx;

	if (!p || !value)
		return keel_error_invalid(err, "process: setenv: NULL process or value");
	if (check_env_name(name, "setenv", err) < 0)
		return -EINVAL;
	if (!(e = keel_str_join(name, "=", value, NULL)))
		return keel_error_sys(err, ENOMEM, "process: setenv %s", name);
	drop_name(p->unset_env, &p->n_unset, name, 1);
	if ((idx = env_find(p, name, strlen(name))) >= 0) {
		free(p->set_env[idx]); /* set again: the new value, in its place */
		p->set_env[idx] = e;
		return 0;
	}
	if ((2 * (p->n_set + 1) > p->env_index_cap && env_index_rebuild(p, 2 * (p->n_set + 1)) < 0) ||
	    keel_strv_append(&p->set_env, &p->n_set, e) < 0) {
		free(e);
		return keel_error_sys(err, ENOMEM, "process: setenv %s", name);
	}
	env_index_put(p, p->n_set - 1);
	return 0;
}

KEEL_PUBLIC int keel_process_unsetenv(keel_process *p, const char *name, keel_error **err)
{
	char *copy = NULL;

	if (!p)
		return keel_error_invalid(err, "process: unsetenv: NULL process");
	if (check_env_name(name, "unsetenv", err) < 0)
		return -EINVAL;
	drop_name(p->unset_env, &p->n_unset, name, 1);
	if (env_drop(p, name) < 0 || !(copy = strdup(name)) || keel_strv_append(&p->unset_env, &p->n_unset, copy) < 0) {
		free(copy);
		return keel_error_sys(err, ENOMEM, "process: unsetenv %s", name);
	}
	return 0;
}

KEEL_PUBLIC int keel_process_clearenv(keel_process *p, keel_error **err)
{
	if (!p)
		return keel_error_invalid(err, "process: clearenv: NULL process");
	free_strs(p->set_env, p->n_set);
	free_strs(p->unset_env, p->n_unset);
	free(p->env_index);
	p->env_index = NULL;
	p->env_index_cap = 0;
	p->set_env = p->unset_env = NULL;
	p->n_set = p->n_unset = 0;
	p->clear_env = 1;
	return 0;
}

int keel_process_build_env(const keel_process *p, char ***out, keel_error **err)
{
	char **env = NULL;
	size_t n = 0, i, j;
	int keep;

	for (i = 0; !p->clear_env && environ && environ[i]; i++) {
		keep = strchr(environ[i], '=') != NULL;
		for (j = 0; keep && j < p->n_unset; j++)
			keep = !env_is(environ[i], p->unset_env[j]);
		if (keep)
			keep = env_find(p, environ[i], name_len(environ[i])) < 0;
		if (keep && keel_strv_append_dup(&env, &n, environ[i]) < 0)
			goto oom;
	}
	for (j = 0; j < p->n_set; j++)
		if (keel_strv_append_dup(&env, &n, p->set_env[j]) < 0)
			goto oom;
	if (keel_strv_append_dup(&env, &n, NULL) < 0)
		goto oom;
	*out = env;
	return 0;
oom:
	free_strs(env, n);
	return keel_error_sys(err, ENOMEM, "process: environment");
}

KEEL_PUBLIC int keel_process_set_cwd(keel_process *p, const char *cwd, keel_error **err)
{
	char *copy;

	if (!p || !cwd || cwd[0] != '/')
		return keel_error_invalid(err, "process: set cwd '%s': the working directory must be an absolute path",
					  cwd ? cwd : "(null)");
	if (!(copy = strdup(cwd)))
		return keel_error_sys(err, ENOMEM, "process: set cwd %s", cwd);
	free(p->cwd);
	p->cwd = copy;
	return 0;
}

KEEL_PUBLIC int keel_process_set_user(keel_process *p, uid_t uid, gid_t gid, keel_error **err)
{
	if (!p || uid == (uid_t)-1 || gid == (gid_t)-1)
		return keel_error_invalid(err, "process: set user: uid and gid must be valid ids, not -1");
	p->has_user = 1;
	p->uid = uid;
	p->gid = gid;
	return 0;
}

KEEL_PUBLIC int keel_process_set_groups(keel_process *p, size_t n, const gid_t *gids, keel_error **err)
{
	gid_t *copy = NULL;
	size_t i;

	if (!p || (n && !gids) || n > 65536)
		return keel_error_invalid(err, "process: set groups: need 0 to 65536 group ids");
	for (i = 0; i < n; i++)
		if (gids[i] == (gid_t)-1)
			return keel_error_invalid(err, "process: set groups: -1 is not a group id");
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return keel_error_sys(err, ENOMEM, "process: set groups");
	if (n)
		memcpy(copy, gids, n * sizeof(*copy));
	free(p->groups);
	p->groups = copy;
	p->n_groups = n;
	p->has_groups = 1;
	return 0;
}

KEEL_PUBLIC int keel_process_set_umask(keel_process *p, mode_t mask, keel_error **err)
{
	if (!p || mask > 0777)
		return keel_error_invalid(err, "process: set umask %o: must be between 0 and 0777", (unsigned)mask);
	p->has_umask = 1;
	p->umask = mask;
	return 0;
}

KEEL_PUBLIC int keel_process_set_preserve_fds(keel_process *p, unsigned n, keel_error **err)
{
	if (!p || n > 65536)
		return keel_error_invalid(err, "process: preserve %u fds: at most 65536", n);
	p->preserve_fds = n;
	return 0;
}

KEEL_PUBLIC int keel_process_set_stdio(keel_process *p, int fd0, int fd1, int fd2, keel_error **err)
{
	if (!p || fd0 < -1 || fd1 < -1 || fd2 < -1)
		return keel_error_invalid(err, "process: set stdio %d %d %d: an fd must be >= 0, or -1 for /dev/null",
					  fd0, fd1, fd2);
	p->has_stdio = 1;
	p->stdio[0] = fd0;
	p->stdio[1] = fd1;
	p->stdio[2] = fd2;
	return 0;
}

KEEL_PUBLIC int keel_process_set_tty(keel_process *p, int on, keel_error **err)
{
	if (!p || (on != 0 && on != 1))
		return keel_error_invalid(err, "process: set tty: on must be 0 or 1");
	p->tty = on;
	return 0;
}

KEEL_PUBLIC int keel_process_set_security(keel_process *p, const keel_security *sec, keel_error **err)
{
	if (!p)
		return keel_error_invalid(err, "process: set security: NULL process");
	p->security = sec;
	return 0;
}
