/*
 * oci: the handle on a bundle's config.json, the JSON readers every OCI
 * file shares, the hooks (programs run with the state on stdin), the
 * state document and the processes of `exec`.
 *
 * The mapping of config.json onto a container is src/oci-config.c; the
 * default spec and the features document are src/oci-spec.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "oci-internal.h"
#include "oci-linux.h"
#include "util/str.h"

#define CONFIG_MAX (4u << 20)

/* ------------------------------------------------------- JSON readers --- */

void oci_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, OCI_PATH_MAX, fmt, ap);
	va_end(ap);
}

struct json_object *oci_get(const keel_oci *o, struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!obj || !o->J->json_object_is_type(obj, json_type_object) ||
	    !o->J->json_object_object_get_ex(obj, key, &v))
		return NULL;
	return o->J->json_object_is_type(v, json_type_null) ? NULL : v;
}

int oci_want(const keel_oci *o, struct json_object *obj, int type, const char *path, const char *what,
	     keel_error **err)
{
	/* json-c reads 1 as an int: a number field accepts both kinds. */
	if (type == json_type_double && o->J->json_object_is_type(obj, json_type_int))
		return 0;
	if (obj && o->J->json_object_is_type(obj, (enum json_type)type))
		return 0;
	return keel_error_invalid(err, "%s: must be %s", path, what);
}

static void sub_path(char *buf, const char *path, const char *key)
{
	oci_fmt(buf, "%s%s%s", path, *path ? "." : "", key);
}

/* obj.key if it has the type (what names it in the error): 0 with *out
 * set, 1 when it is absent or null, or the error naming its JSON path. */
static int get_typed(const keel_oci *o, struct json_object *obj, const char *path, const char *key, int type,
		     const char *what, struct json_object **out, keel_error **err)
{
	struct json_object *v = oci_get(o, obj, key);
	char p[OCI_PATH_MAX];
	int ret;

	if (!v)
		return 1;
	sub_path(p, path, key);
	if ((ret = oci_want(o, v, type, p, what, err)) < 0)
		return ret;
	*out = v;
	return 0;
}

int oci_get_str(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		const char **out, keel_error **err)
{
	struct json_object *v;
	int ret = get_typed(o, obj, path, key, json_type_string, "a string", &v, err);

	if (ret == 0)
		*out = o->J->json_object_get_string(v);
	return ret;
}

int oci_get_bool(const keel_oci *o, struct json_object *obj, const char *path, const char *key, int *out,
		 keel_error **err)
{
	struct json_object *v;
	int ret = get_typed(o, obj, path, key, json_type_boolean, "true or false", &v, err);

	if (ret == 0)
		*out = o->J->json_object_get_boolean(v) ? 1 : 0;
	return ret;
}

int oci_get_i64(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		int64_t *out, keel_error **err)
{
	struct json_object *v;
	int ret = get_typed(o, obj, path, key, json_type_int, "an integer", &v, err);

	if (ret == 0)
		*out = o->J->json_object_get_int64(v);
	return ret;
}

int oci_get_u64(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		uint64_t *out, keel_error **err)
{
	static const char what[] = "an integer of at least 0";
	struct json_object *v;
	char p[OCI_PATH_MAX];
	int ret = get_typed(o, obj, path, key, json_type_int, what, &v, err);

	if (ret != 0)
		return ret;
	/* json-c keeps values above INT64_MAX as uint64, and get_int64 gives
	 * those as INT64_MAX: only a real negative number is below 0 */
	if (o->J->json_object_get_int64(v) < 0) {
		sub_path(p, path, key);
		return keel_error_invalid(err, "%s: must be %s", p, what);
	}
	*out = o->J->json_object_get_uint64(v);
	return 0;
}

int oci_get_array(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		  struct json_object **out, size_t *n, keel_error **err)
{
	int ret = get_typed(o, obj, path, key, json_type_array, "an array", out, err);

	if (ret == 0)
		*n = o->J->json_object_array_length(*out);
	return ret;
}

void oci_strv_free(char **v)
{
	char **s;

	for (s = v; s && *s; s++)
		free(*s);
	free(v);
}

int oci_get_strv(const keel_oci *o, struct json_object *obj, const char *path, const char *key, char ***out,
		 keel_error **err)
{
	struct json_object *arr = NULL, *e;
	char p[OCI_PATH_MAX];
	size_t n = 0, i;
	char **v;
	int ret;

	*out = NULL;
	if ((ret = oci_get_array(o, obj, path, key, &arr, &n, err)) != 0)
		return ret;
	if (!(v = calloc(n + 1, sizeof(char *))))
		return keel_error_sys(err, ENOMEM, "%s", path);
	for (i = 0; i < n; i++) {
		e = o->J->json_object_array_get_idx(arr, i);
		oci_fmt(p, "%s%s%s[%zu]", path, *path ? "." : "", key, i);
		if ((ret = oci_want(o, e, json_type_string, p, "a string", err)) < 0) {
			oci_strv_free(v);
			return ret;
		}
		if (!(v[i] = strdup(o->J->json_object_get_string(e)))) {
			oci_strv_free(v);
			return keel_error_sys(err, ENOMEM, "%s", p);
		}
	}
	*out = v;
	return 0;
}

int oci_refuse(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
	       const char *why, keel_error **err)
{
	if (!oci_get(o, obj, key))
		return 0;
	return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s%s%s: not supported%s", path,
				*path ? "." : "", key, why ? why : "");
}

/* ------------------------------------------------------------- handle --- */

static int absolute_bundle(const char *bundle, char **out, keel_error **err)
{
	char *abs;

	if (!bundle || !*bundle)
		return keel_error_invalid(err, "bundle: no directory given");
	abs = realpath(bundle, NULL);
	if (!abs)
		return keel_error_sys(err, errno, "bundle %s", bundle);
	*out = abs;
	return 0;
}

static int check_version(keel_oci *o, keel_error **err)
{
	const char *v = NULL;
	int ret = oci_get_str(o, o->doc, "", "ociVersion", &v, err);

	if (ret < 0)
		return ret;
	if (ret == 1)
		return keel_error_invalid(err, "ociVersion: missing (this runtime implements %s)", OCI_VERSION);
	if (strncmp(v, "1.", 2) != 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP,
					"ociVersion: '%s' is not supported (this runtime implements %s)", v,
					OCI_VERSION);
	return 0;
}

/* root.path made absolute, for the state document (keel_oci_configure()
 * reports a bad one). */
static void find_rootfs(keel_oci *o)
{
	const char *path = NULL;
	char *abs;

	if (oci_get_str(o, oci_get(o, o->doc, "root"), "root", "path", &path, NULL) != 0 || !*path)
		return;
	abs = path[0] == '/' ? strdup(path) : keel_str_join(o->bundle, "/", path, NULL);
	if (abs)
		o->rootfs = realpath(abs, NULL);
	free(abs);
}

static int finish_load(keel_oci *o, keel_error **err)
{
	int ret;

	if (!o->J->json_object_is_type(o->doc, json_type_object))
		return keel_error_invalid(err, "config.json: not a JSON object");
	if ((ret = check_version(o, err)) < 0 || (ret = oci_parse_hooks(o, err)) < 0)
		return ret;
	find_rootfs(o);
	/* keel_oci_console_size() answers from the load on, as documented;
	 * a bad consoleSize is keel_oci_configure()'s error to report. */
	oci_apply_console(o, oci_get(o, o->doc, "process"), "process", NULL);
	return 0;
}

static int new_handle(keel_oci **out, const char *bundle, keel_error **err)
{
	keel_oci *o;
	int ret;

	if (!(o = calloc(1, sizeof(*o))))
		return keel_error_sys(err, ENOMEM, "oci");
	if (!(o->J = keel_json(err, "config.json"))) {
		free(o);
		return -ENOTSUP;
	}
	if ((ret = absolute_bundle(bundle, &o->bundle, err)) < 0) {
		free(o);
		return ret;
	}
	*out = o;
	return 0;
}

KEEL_PUBLIC int keel_oci_load(keel_oci **out, const char *bundle, keel_error **err)
{
	keel_oci *o = NULL;
	int dirfd, ret;

	if (!out)
		return keel_error_invalid(err, "oci: no place for the handle (out is NULL)");
	*out = NULL;
	if ((ret = new_handle(&o, bundle, err)) < 0)
		return ret;
	dirfd = open(o->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		ret = keel_error_sys(err, errno, "bundle %s", o->bundle);
	else
		ret = keel_json_read_file(dirfd, "config.json", CONFIG_MAX, "config.json", &o->doc, err);
	if (dirfd >= 0)
		close(dirfd);
	if (ret == -ENOENT)
		ret = keel_error_sys(err, ENOENT, "bundle %s: config.json", o->bundle);
	if (ret == 0)
		ret = finish_load(o, err);
	if (ret < 0) {
		keel_oci_free(o);
		return ret;
	}
	*out = o;
	return 0;
}

KEEL_PUBLIC int keel_oci_load_data(keel_oci **out, const char *bundle, const char *json, size_t len,
				   keel_error **err)
{
	keel_oci *o = NULL;
	int ret;

	if (!out)
		return keel_error_invalid(err, "oci: no place for the handle (out is NULL)");
	*out = NULL;
	if (!json)
		return keel_error_invalid(err, "config.json: no document given");
	if ((ret = new_handle(&o, bundle, err)) < 0)
		return ret;
	ret = keel_json_parse(json, len, "config.json", &o->doc, err);
	if (ret == 0)
		ret = finish_load(o, err);
	if (ret < 0) {
		keel_oci_free(o);
		return ret;
	}
	*out = o;
	return 0;
}

static void hook_free(struct oci_hook *h)
{
	free(h->path);
	oci_strv_free(h->args);
	oci_strv_free(h->env);
}

KEEL_PUBLIC void keel_oci_free(keel_oci *o)
{
	size_t i, j;

	if (!o)
		return;
	for (i = 0; i < OCI_NHOOKS; i++) {
		for (j = 0; j < o->hooks[i].n; j++)
			hook_free(&o->hooks[i].v[j]);
		free(o->hooks[i].v);
	}
	for (i = 0; i < o->n_secs; i++)
		keel_security_free(o->secs[i]);
	free(o->secs);
	if (o->doc)
		o->J->json_object_put(o->doc);
	free(o->bundle);
	free(o->rootfs);
	free(o);
}

KEEL_PUBLIC const char *keel_oci_bundle(const keel_oci *o)
{
	return o ? o->bundle : NULL;
}

KEEL_PUBLIC int keel_oci_console_size(const keel_oci *o, unsigned *rows, unsigned *cols)
{
	if (!o || !o->has_console)
		return 0;
	if (rows)
		*rows = o->rows;
	if (cols)
		*cols = o->cols;
	return 1;
}

KEEL_PUBLIC int keel_oci_configure(keel_oci *o, keel_container *c, keel_error **err)
{
	if (!o || !c)
		return keel_error_invalid(err, "oci configure: NULL handle");
	return oci_configure(o, c, err);
}

/* -------------------------------------------------------------- state --- */

static const char *status_name(int state)
{
	return keel_container_state_name(state);
}

/* "2026-12-02T13:51:02Z" */
static void rfc3339(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static int add_str(const keel_oci *o, struct json_object *obj, const char *key, const char *v)
{
	struct json_object *s = o->J->json_object_new_string(v);

	return s ? o->J->json_object_object_add(obj, key, s) : -1;
}

static struct json_object *copy_annotations(const keel_oci *o)
{
	struct json_object *src = oci_get(o, o->doc, "annotations"), *dst;
	struct json_object_iterator it, end;

	dst = o->J->json_object_new_object();
	if (!dst || !src || !o->J->json_object_is_type(src, json_type_object))
		return dst;
	it = o->J->json_object_iter_begin(src);
	end = o->J->json_object_iter_end(src);
	for (; !o->J->json_object_iter_equal(&it, &end); o->J->json_object_iter_next(&it)) {
		struct json_object *v = o->J->json_object_iter_peek_value(&it);

		if (v && o->J->json_object_is_type(v, json_type_string))
			add_str(o, dst, o->J->json_object_iter_peek_name(&it), o->J->json_object_get_string(v));
	}
	return dst;
}

int oci_state_doc(keel_container *c, const keel_oci *o, const char *status, struct json_object **out,
		  keel_error **err)
{
	const struct keel_json_api *J = o->J;
	struct json_object *doc = J->json_object_new_object();
	char when[64];
	int bad = !doc;

	rfc3339(keel_container_created_at(c) ? keel_container_created_at(c) : 0, when, sizeof(when));
	bad = bad || add_str(o, doc, "ociVersion", OCI_VERSION) < 0 || add_str(o, doc, "id", keel_container_id(c)) < 0 ||
	      add_str(o, doc, "status", status) < 0;
	if (!bad && strcmp(status, "stopped") != 0 && keel_container_pid(c) > 0)
		bad = J->json_object_object_add(doc, "pid", J->json_object_new_int(keel_container_pid(c))) < 0;
	else if (!bad)
		bad = J->json_object_object_add(doc, "pid", J->json_object_new_int(0)) < 0;
	bad = bad || add_str(o, doc, "bundle", o->bundle) < 0 ||
	      add_str(o, doc, "rootfs", o->rootfs ? o->rootfs : "") < 0 || add_str(o, doc, "created", when) < 0 ||
	      add_str(o, doc, "owner", "") < 0 || J->json_object_object_add(doc, "annotations", copy_annotations(o)) < 0;
	if (bad) {
		if (doc)
			J->json_object_put(doc);
		return keel_error_sys(err, ENOMEM, "container %s: state document", keel_container_id(c));
	}
	*out = doc;
	return 0;
}

KEEL_PUBLIC int keel_oci_state(keel_container *c, const keel_oci *oci, char **json, keel_error **err)
{
	struct json_object *doc = NULL;
	keel_oci tmp = { 0 };
	int state = 0, ret;

	if (!c || !json)
		return keel_error_invalid(err, "oci state: NULL argument");
	if ((ret = keel_container_state(c, &state, err)) < 0)
		return ret;
	if (!oci) {
		if (!(tmp.J = keel_json(err, "state")))
			return -ENOTSUP;
		tmp.bundle = (char *)"";
		oci = &tmp;
	}
	if ((ret = oci_state_doc(c, oci, status_name(state), &doc, err)) < 0)
		return ret;
	*json = keel_json_dump(doc, "state", err);
	oci->J->json_object_put(doc);
	return *json ? 0 : -ENOMEM;
}

/* -------------------------------------------------------------- hooks --- */

static int parse_hook(keel_oci *o, struct json_object *h, const char *path, struct oci_hook *out,
		      keel_error **err)
{
	const char *s = NULL;
	int64_t timeout = 0;
	char p[OCI_PATH_MAX];
	int ret;

	if ((ret = oci_want(o, h, json_type_object, path, "an object", err)) < 0)
		return ret;
	if ((ret = oci_get_str(o, h, path, "path", &s, err)) < 0)
		return ret;
	if (ret == 1 || s[0] != '/')
		return keel_error_invalid(err, "%s.path: must be an absolute path", path);
	if (!(out->path = strdup(s)))
		return keel_error_sys(err, ENOMEM, "%s", path);
	if ((ret = oci_get_strv(o, h, path, "args", &out->args, err)) < 0 ||
	    (ret = oci_get_strv(o, h, path, "env", &out->env, err)) < 0 ||
	    (ret = oci_get_i64(o, h, path, "timeout", &timeout, err)) < 0)
		return ret;
	oci_fmt(p, "%s.timeout", path);
	if (ret == 0 && (timeout < 1 || timeout > INT_MAX))
		return keel_error_invalid(err, "%s: must be at least 1 second", p);
	out->timeout = (int)timeout;
	return 0;
}

static const char *const hook_keys[OCI_NHOOKS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

int oci_parse_hooks(keel_oci *o, keel_error **err)
{
	struct json_object *hooks = oci_get(o, o->doc, "hooks"), *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t n = 0, i, k;
	int ret;

	if (!hooks)
		return 0;
	if ((ret = oci_want(o, hooks, json_type_object, "hooks", "an object", err)) < 0)
		return ret;
	for (k = 0; k < OCI_NHOOKS; k++) {
		if ((ret = oci_get_array(o, hooks, "hooks", hook_keys[k], &arr, &n, err)) < 0)
			return ret;
		if (ret == 1 || n == 0)
			continue;
		if (!(o->hooks[k].v = calloc(n, sizeof(struct oci_hook))))
			return keel_error_sys(err, ENOMEM, "hooks");
		o->hooks[k].n = n;
		for (i = 0; i < n; i++) {
			oci_fmt(p, "hooks.%s[%zu]", hook_keys[k], i);
			if ((ret = parse_hook(o, o->J->json_object_array_get_idx(arr, i), p, &o->hooks[k].v[i], err)) < 0)
				return ret;
		}
	}
	return 0;
}

/* Wait for the hook, killing it after timeout seconds (0: none). */
static int wait_hook(pid_t pid, int timeout, int *status)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), ret;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	if (pidfd >= 0 && timeout > 0) {
		do
			ret = poll(&p, 1, timeout * 1000);
		while (ret < 0 && errno == EINTR);
		if (ret == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			close(pidfd);
			return -ETIMEDOUT;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* The child of run_hook(): the state on stdin, then exec. Only system
 * calls on memory made before the fork (the caller may have threads). */
static void hook_child(const struct oci_hook *h, int in_fd, char *const *argv, char *const *envp)
{
	if (dup2(in_fd, 0) < 0)
		_exit(126);
	if (in_fd != 0)
		close(in_fd);
	execve(h->path, argv, envp);
	_exit(127);
}

static int run_hook(const struct oci_hook *h, const char *state, const char *what, keel_error **err)
{
	static char *const no_env[] = { NULL };
	char *fallback[] = { h->path, NULL };
	int fds[2], status = 0, ret;
	size_t len = strlen(state), off = 0;
	pid_t pid;

	/* A socket rather than a pipe: send() with MSG_NOSIGNAL makes a hook
	 * that does not read its stdin an EPIPE here, never a SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return keel_error_sys(err, errno, "%s hook %s: socketpair", what, h->path);
	pid = fork();
	if (pid < 0) {
		ret = errno;
		close(fds[0]);
		close(fds[1]);
		return keel_error_sys(err, ret, "%s hook %s: fork", what, h->path);
	}
	if (pid == 0)
		hook_child(h, fds[0], h->args ? h->args : fallback, h->env ? h->env : no_env);
	close(fds[0]);
	while (off < len) {
		ssize_t n = send(fds[1], state + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fds[1]);
	ret = wait_hook(pid, h->timeout, &status);
	if (ret == -ETIMEDOUT)
		return keel_error_set(err, KEEL_ERROR_SYSTEM, ETIMEDOUT, "%s hook %s: killed after its timeout of %d s",
				      what, h->path, h->timeout);
	if (ret < 0)
		return keel_error_sys(err, -ret, "%s hook %s: wait", what, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return keel_error_set(err, KEEL_ERROR_SYSTEM, 0, "%s hook %s: exit status %d", what, h->path,
				      WEXITSTATUS(status));
	return keel_error_set(err, KEEL_ERROR_SYSTEM, 0, "%s hook %s: killed by signal %d", what, h->path,
			      WTERMSIG(status));
}

static int run_point(keel_oci *o, keel_container *c, int point, const char *status, keel_error **err)
{
	struct json_object *doc = NULL;
	char *state;
	size_t i;
	int ret = 0;

	if (!o->hooks[point].n)
		return 0;
	if ((ret = oci_state_doc(c, o, status, &doc, err)) < 0)
		return ret;
	state = keel_json_dump(doc, "state", err);
	o->J->json_object_put(doc);
	if (!state)
		return -ENOMEM;
	for (i = 0; ret == 0 && i < o->hooks[point].n; i++)
		ret = run_hook(&o->hooks[point].v[i], state, hook_keys[point], err);
	free(state);
	return ret;
}

static int on_create_runtime(keel_container *c, void *userdata, keel_error **err)
{
	/* prestart (deprecated) sees "created", as runc, crun and the
	 * runtime-tools suite have it; createRuntime sees "creating". */
	int ret = run_point(userdata, c, OCI_PRESTART, "created", err);

	return ret < 0 ? ret : run_point(userdata, c, OCI_CREATE_RUNTIME, "creating", err);
}

static int on_create_container(keel_container *c, void *userdata, keel_error **err)
{
	return run_point(userdata, c, OCI_CREATE_CONTAINER, "creating", err);
}

static int on_start_container(keel_container *c, void *userdata, keel_error **err)
{
	return run_point(userdata, c, OCI_START_CONTAINER, "created", err);
}

static int on_poststart(keel_container *c, void *userdata, keel_error **err)
{
	return run_point(userdata, c, OCI_POSTSTART, "running", err);
}

static int on_poststop(keel_container *c, void *userdata, keel_error **err)
{
	return run_point(userdata, c, OCI_POSTSTOP, "stopped", err);
}

KEEL_PUBLIC int keel_oci_set_hooks(keel_oci *o, keel_container *c, keel_error **err)
{
	static const struct {
		int point, first, second;
		keel_container_hook_fn fn;
	} map[] = {
		{ KEEL_HOOK_CREATE_RUNTIME, OCI_PRESTART, OCI_CREATE_RUNTIME, on_create_runtime },
		{ KEEL_HOOK_CREATE_CONTAINER, OCI_CREATE_CONTAINER, -1, on_create_container },
		{ KEEL_HOOK_START_CONTAINER, OCI_START_CONTAINER, -1, on_start_container },
		{ KEEL_HOOK_POSTSTART, OCI_POSTSTART, -1, on_poststart },
		{ KEEL_HOOK_POSTSTOP, OCI_POSTSTOP, -1, on_poststop },
	};
	size_t i;
	int ret;

	if (!o || !c)
		return keel_error_invalid(err, "oci set hooks: NULL handle");
	/* Only the points with hooks: a container without any keeps
	 * libkeel's fast spawn (no parent work between clone and exec). */
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!o->hooks[map[i].first].n && (map[i].second < 0 || !o->hooks[map[i].second].n))
			continue;
		if ((ret = keel_container_set_hook(c, (enum keel_hook)map[i].point, map[i].fn, o, err)) < 0)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------ exec processes --- */

static int keep_security(keel_oci *o, keel_security *sec, keel_error **err)
{
	keel_security **v = realloc(o->secs, (o->n_secs + 1) * sizeof(*v));

	if (!v) {
		keel_security_free(sec);
		return keel_error_sys(err, ENOMEM, "exec process");
	}
	o->secs = v;
	o->secs[o->n_secs++] = sec;
	return 0;
}

KEEL_PUBLIC int keel_oci_process(keel_oci *o, const char *json, size_t len, keel_process **proc,
				 keel_security **sec_out, keel_error **err)
{
	struct json_object *doc = NULL, *base;
	keel_process *p = NULL;
	keel_security *sec = NULL;
	int ret;

	if (!o || !proc)
		return keel_error_invalid(err, "oci process: NULL argument");
	*proc = NULL;
	if (json && (ret = keel_json_parse(json, len, "process", &doc, err)) < 0)
		return ret;
	if ((ret = keel_security_new(&sec, err)) < 0 || (ret = keep_security(o, sec, err)) < 0)
		goto out;
	if ((ret = keel_process_new(&p, err)) < 0 || (ret = keel_process_set_security(p, sec, err)) < 0)
		goto out;
	/* A process object is the whole process, as runc reads it (false
	 * booleans are left out by Go's omitempty); without one, exec runs
	 * config.json's process (the CLI then replaces its args). Either way
	 * the container's seccomp profile applies. */
	base = doc ? doc : oci_get(o, o->doc, "process");
	if (!base) {
		ret = keel_error_invalid(err, "process: missing in config.json");
		goto out;
	}
	if ((ret = oci_apply_process(o, base, "process", p, sec, err)) < 0 || (ret = oci_apply_seccomp(o, sec, err)) < 0)
		goto out;
	*proc = p;
	p = NULL;
	if (sec_out)
		*sec_out = sec;
out:
	keel_process_free(p);
	if (doc)
		o->J->json_object_put(doc);
	return ret;
}

/* ------------------------------------------------------------- update --- */

/* Each field becomes an entry of one keel_resources, so the update is
 * checked whole before a file is written, and recorded in the state
 * (keel_container_update()). */
static int set_live_value(void *target, const char *key, const char *value, keel_error **err)
{
	return keel_resources_set_value(target, key, value, err);
}

KEEL_PUBLIC int keel_oci_update(keel_container *c, const char *json, size_t len, keel_error **err)
{
	struct json_object *doc = NULL;
	keel_resources *res = NULL;
	keel_oci tmp = { 0 };
	int ret;

	if (!c || !json)
		return keel_error_invalid(err, "oci update: NULL argument");
	if (!keel_container_cgroup(c))
		return keel_error_sys(err, ENOENT, "container %s: update: it has no cgroup", keel_container_id(c));
	if (!(tmp.J = keel_json(err, "resources")))
		return -ENOTSUP;
	if ((ret = keel_json_parse(json, len, "resources", &doc, err)) < 0)
		return ret;
	ret = oci_refuse(&tmp, doc, "resources", "devices", " by update (only at create)", err);
	if (ret == 0)
		ret = keel_resources_new(&res, err);
	if (ret == 0)
		ret = oci_apply_resources(&tmp, doc, "resources", 0, set_live_value, res, err);
	tmp.J->json_object_put(doc);
	/* its messages name the container already */
	if (ret == 0)
		ret = keel_container_update(c, res, err);
	else
		keel_error_wrap(err, ret, "container %s: update", keel_container_id(c));
	keel_resources_free(res);
	return ret;
}
