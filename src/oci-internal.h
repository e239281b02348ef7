/*
 * Private: the parsed config.json shared by src/oci.c (the handle, hooks,
 * state, exec processes), src/oci-config.c (config.json onto the
 * handles) and src/oci-spec.c (the default spec and the features
 * document).
 *
 * Every reader takes the JSON path of what it reads ("mounts[2].options")
 * so that an error names the field the user wrote.
 */
#ifndef KEEL_PRIV_OCI_H
#define KEEL_PRIV_OCI_H

#include <stdint.h>
#include <keel/oci.h>
#include "util/json.h"

#define OCI_VERSION "1.2.0"
#define OCI_PATH_MAX 256 /* of a JSON path in a message */

/* The hook points of config.json, in the order of enum oci_hook_point. */
enum oci_hook_point {
	OCI_PRESTART, OCI_CREATE_RUNTIME, OCI_CREATE_CONTAINER, OCI_START_CONTAINER,
	OCI_POSTSTART, OCI_POSTSTOP, OCI_NHOOKS
};

struct oci_hook {
	char *path;
	char **args; /* NULL-terminated, or NULL */
	char **env;  /* NULL-terminated, or NULL */
	int timeout; /* seconds, 0 for none */
};

struct oci_hooks {
	struct oci_hook *v;
	size_t n;
};

struct keel_oci {
	const struct keel_json_api *J;
	struct json_object *doc;     /* the whole config.json */
	char *bundle;                /* absolute */
	char *rootfs;                /* root.path, absolute */
	struct oci_hooks hooks[OCI_NHOOKS];
	keel_security **secs;        /* made by keel_oci_process(), freed with the handle */
	size_t n_secs;
	int has_console;
	unsigned rows, cols;
};

/* --- reading JSON with paths (src/oci.c) --- */

/* snprintf into a JSON path buffer of OCI_PATH_MAX bytes (cut if longer:
 * a message naming a very deep path is shortened, never overflowed). */
void oci_fmt(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The member key of obj, or NULL when missing or JSON null. */
struct json_object *oci_get(const keel_oci *o, struct json_object *obj, const char *key);

/* "<path>: must be <what>" (EINVAL) unless obj has the json type. */
int oci_want(const keel_oci *o, struct json_object *obj, int type, const char *path, const char *what,
	     keel_error **err);

/* Typed members: 0 with *out set, 1 when missing (out untouched), or an
 * error naming "<path>.<key>". */
int oci_get_str(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		const char **out, keel_error **err);
int oci_get_bool(const keel_oci *o, struct json_object *obj, const char *path, const char *key, int *out,
		 keel_error **err);
int oci_get_i64(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		int64_t *out, keel_error **err);
int oci_get_u64(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		uint64_t *out, keel_error **err);
/* An array member (1 when missing): *out borrowed from obj. */
int oci_get_array(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
		  struct json_object **out, size_t *n, keel_error **err);
/* An array of strings, as a malloc'd NULL-terminated copy (NULL when missing). */
int oci_get_strv(const keel_oci *o, struct json_object *obj, const char *path, const char *key, char ***out,
		 keel_error **err);

/* "<path>: not supported<why>" (ENOTSUP), when obj has the member. */
int oci_refuse(const keel_oci *o, struct json_object *obj, const char *path, const char *key,
	       const char *why, keel_error **err);

void oci_strv_free(char **v);

/* --- config.json onto the handles (src/oci-config.c) --- */

int oci_configure(keel_oci *o, keel_container *c, keel_error **err);
/* A process object onto a process and its security. */
int oci_apply_process(keel_oci *o, struct json_object *proc, const char *path, keel_process *p,
		      keel_security *sec, keel_error **err);
/* linux.seccomp onto a security (exec processes keep it). */
int oci_apply_seccomp(keel_oci *o, keel_security *sec, keel_error **err);
/* process.consoleSize into o->has_console, rows, cols (src/oci-config.c). */
int oci_apply_console(keel_oci *o, struct json_object *proc, const char *path, keel_error **err);
/* The hooks object into o->hooks. */
int oci_parse_hooks(keel_oci *o, keel_error **err);

/* --- the container's state document (src/oci.c) --- */

int oci_state_doc(keel_container *c, const keel_oci *o, const char *status, struct json_object **out,
		  keel_error **err);

#endif
