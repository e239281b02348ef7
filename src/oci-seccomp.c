/*
 * oci-seccomp: linux.seccomp of config.json onto a keel_seccomp, compiled
 * into the container's keel_security (and into every exec'd process's).
 *
 * As in runc and crun, a rule naming a system call that this libseccomp
 * does not know is skipped: profiles list calls newer than the host's
 * libseccomp, and such a call cannot be made through its name anyway.
 * Rules comparing several arguments of the same index are several rules
 * (any matches), as runc reads them; comparisons of different arguments in
 * one rule (all must match) are refused: libkeel's rules compare one.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "oci-internal.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int parse_action(keel_oci *o, struct json_object *obj, const char *path, const char *key,
			const char *errno_key, int64_t default_errno, uint32_t *out, keel_error **err)
{
	const char *a = NULL;
	int64_t e = default_errno;
	int ret;

	if ((ret = oci_get_str(o, obj, path, key, &a, err)) < 0)
		return ret;
	if (ret == 1)
		return keel_error_invalid(err, "%s.%s: missing", path, key);
	if ((ret = oci_get_i64(o, obj, path, errno_key, &e, err)) < 0)
		return ret;
	if (strcmp(a, "SCMP_ACT_ALLOW") == 0)
		*out = KEEL_SECCOMP_ALLOW;
	else if (strcmp(a, "SCMP_ACT_KILL") == 0 || strcmp(a, "SCMP_ACT_KILL_THREAD") == 0)
		*out = KEEL_SECCOMP_KILL_THREAD;
	else if (strcmp(a, "SCMP_ACT_KILL_PROCESS") == 0)
		*out = KEEL_SECCOMP_KILL_PROCESS;
	else if (strcmp(a, "SCMP_ACT_TRAP") == 0)
		*out = KEEL_SECCOMP_TRAP;
	else if (strcmp(a, "SCMP_ACT_LOG") == 0)
		*out = KEEL_SECCOMP_LOG;
	else if (strcmp(a, "SCMP_ACT_ERRNO") == 0) {
		if (e < 0 || e > 4095)
			return keel_error_invalid(err, "%s.%s: %lld is not an errno", path, errno_key, (long long)e);
		*out = KEEL_SECCOMP_ERRNO(e);
	} else if (strcmp(a, "SCMP_ACT_TRACE") == 0 || strcmp(a, "SCMP_ACT_NOTIFY") == 0)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.%s: '%s' is not supported (no "
					"tracer or seccomp agent)", path, key, a);
	else
		return keel_error_invalid(err, "%s.%s: unknown action '%s'", path, key, a);
	return 0;
}

static int parse_op(const char *op, keel_seccomp_cmp *out)
{
	static const struct {
		const char *name;
		keel_seccomp_cmp cmp;
	} ops[] = {
		{ "SCMP_CMP_NE", KEEL_SECCOMP_CMP_NE }, { "SCMP_CMP_LT", KEEL_SECCOMP_CMP_LT },
		{ "SCMP_CMP_LE", KEEL_SECCOMP_CMP_LE }, { "SCMP_CMP_EQ", KEEL_SECCOMP_CMP_EQ },
		{ "SCMP_CMP_GE", KEEL_SECCOMP_CMP_GE }, { "SCMP_CMP_GT", KEEL_SECCOMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", KEEL_SECCOMP_CMP_MASKED_EQ },
	};
	size_t i;

	for (i = 0; i < N_OF(ops); i++)
		if (strcmp(op, ops[i].name) == 0) {
			*out = ops[i].cmp;
			return 0;
		}
	return -EINVAL;
}

/* A rule naming a call libseccomp does not know: skipped (see top). */
static int unknown_call(int ret, keel_error **err)
{
	if (ret != -EINVAL || !err || !*err || !strstr(keel_error_message(*err), "unknown system call"))
		return 0;
	keel_error_free(*err);
	*err = NULL;
	return 1;
}

struct rule_arg {
	uint64_t index, value, value_two;
	keel_seccomp_cmp op;
};

static int parse_arg(keel_oci *o, struct json_object *a, const char *path, struct rule_arg *out,
		     keel_error **err)
{
	const char *op = NULL;
	int ret;

	out->value_two = 0;
	if ((ret = oci_want(o, a, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_get_u64(o, a, path, "index", &out->index, err)) < 0 ||
	    (ret = oci_get_u64(o, a, path, "value", &out->value, err)) < 0 ||
	    (ret = oci_get_u64(o, a, path, "valueTwo", &out->value_two, err)) < 0 ||
	    (ret = oci_get_str(o, a, path, "op", &op, err)) < 0)
		return ret;
	if (!op || parse_op(op, &out->op) < 0)
		return keel_error_invalid(err, "%s.op: unknown comparison '%s'", path, op ? op : "");
	if (out->index > 5)
		return keel_error_invalid(err, "%s.index: %llu is not 0 to 5", path, (unsigned long long)out->index);
	return 0;
}

/* args of one rule, checked: all on one index (see top). */
static int parse_args(keel_oci *o, struct json_object *rule, const char *path, struct rule_arg **out, size_t *n,
		      keel_error **err)
{
	struct json_object *arr = NULL;
	char p[OCI_PATH_MAX];
	size_t i;
	int ret;

	*out = NULL;
	*n = 0;
	if ((ret = oci_get_array(o, rule, path, "args", &arr, n, err)) != 0 || !*n)
		return ret < 0 ? ret : 0;
	if (!(*out = calloc(*n, sizeof(**out))))
		return keel_error_sys(err, ENOMEM, "%s", path);
	for (i = 0; i < *n; i++) {
		oci_fmt(p, "%s.args[%zu]", path, i);
		if ((ret = parse_arg(o, o->J->json_object_array_get_idx(arr, i), p, &(*out)[i], err)) < 0)
			return ret;
		if ((*out)[i].index != (*out)[0].index)
			return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.args: comparisons of "
						"different arguments in one rule are not supported", path);
	}
	return 0;
}

static int add_for_name(keel_seccomp *f, const char *name, uint32_t action, const struct rule_arg *args,
			size_t n, keel_error **err)
{
	size_t i;
	int ret = 0;

	if (!n)
		return keel_seccomp_add_rule(f, action, name, err);
	for (i = 0; ret == 0 && i < n; i++) {
		/* MASKED_EQ: value is the mask, valueTwo the datum, as libseccomp's */
		uint64_t value = args[i].op == KEEL_SECCOMP_CMP_MASKED_EQ ? args[i].value_two : args[i].value;

		ret = keel_seccomp_add_rule_arg(f, action, name, (unsigned)args[i].index, args[i].op, value,
						args[i].value, err);
	}
	return ret;
}

static int add_rule(keel_oci *o, keel_seccomp *f, struct json_object *rule, const char *path, int64_t def_errno,
		    keel_error **err)
{
	struct rule_arg *args = NULL;
	char **names = NULL;
	uint32_t action = 0;
	size_t n_args = 0, i;
	int ret;

	if ((ret = oci_want(o, rule, json_type_object, path, "an object", err)) < 0 ||
	    (ret = parse_action(o, rule, path, "action", "errnoRet", def_errno, &action, err)) < 0 ||
	    (ret = oci_get_strv(o, rule, path, "names", &names, err)) < 0 ||
	    (ret = parse_args(o, rule, path, &args, &n_args, err)) < 0)
		goto out;
	for (i = 0; names && names[i]; i++) {
		ret = add_for_name(f, names[i], action, args, n_args, err);
		if (ret < 0 && !unknown_call(ret, err)) {
			keel_error_wrap(err, ret, "%s.names[%zu]", path, i);
			goto out;
		}
		ret = 0;
	}
out:
	free(args);
	oci_strv_free(names);
	return ret;
}

/* "SCMP_ARCH_X86_64" -> "x86_64" */
static int add_arch(keel_seccomp *f, const char *arch, const char *path, keel_error **err)
{
	char name[32];
	size_t i;

	if (strncmp(arch, "SCMP_ARCH_", 10) != 0 || strlen(arch + 10) >= sizeof(name))
		return keel_error_invalid(err, "%s: unknown architecture '%s'", path, arch);
	for (i = 0; arch[10 + i]; i++)
		name[i] = (char)tolower((unsigned char)arch[10 + i]);
	name[i] = '\0';
	return keel_error_wrap(err, keel_seccomp_add_arch(f, name, err), "%s", path);
}

static int build(keel_oci *o, struct json_object *sc, keel_seccomp **out, keel_error **err)
{
	const char *p = "linux.seccomp";
	struct json_object *arr = NULL;
	int64_t def_errno = 1; /* EPERM */
	uint32_t def = 0;
	char **archs = NULL, ep[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_want(o, sc, json_type_object, p, "an object", err)) < 0 ||
	    (ret = oci_refuse(o, sc, p, "listenerPath", " (no seccomp agent)", err)) < 0 ||
	    (ret = oci_get_i64(o, sc, p, "defaultErrnoRet", &def_errno, err)) < 0 ||
	    (ret = parse_action(o, sc, p, "defaultAction", "defaultErrnoRet", def_errno, &def, err)) < 0)
		return ret;
	if ((ret = oci_get_array(o, sc, p, "flags", &arr, &n, err)) < 0)
		return ret;
	if (ret == 0 && n)
		return keel_error_plain(err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.flags: not supported", p);
	if ((ret = keel_seccomp_new(out, def, err)) < 0 || (ret = oci_get_strv(o, sc, p, "architectures", &archs, err)) < 0)
		return ret;
	for (i = 0; archs && archs[i] && ret == 0; i++) {
		oci_fmt(ep, "%s.architectures[%zu]", p, i);
		ret = add_arch(*out, archs[i], ep, err);
	}
	oci_strv_free(archs);
	if (ret < 0 || (ret = oci_get_array(o, sc, p, "syscalls", &arr, &n, err)) != 0)
		return ret < 0 ? ret : 0;
	for (i = 0; i < n && ret == 0; i++) {
		oci_fmt(ep, "%s.syscalls[%zu]", p, i);
		ret = add_rule(o, *out, o->J->json_object_array_get_idx(arr, i), ep, def_errno, err);
	}
	return ret;
}

int oci_apply_seccomp(keel_oci *o, keel_security *sec, keel_error **err)
{
	struct json_object *sc = oci_get(o, oci_get(o, o->doc, "linux"), "seccomp");
	keel_seccomp *f = NULL;
	int ret;

	if (!sc)
		return 0;
	ret = build(o, sc, &f, err);
	if (ret == 0)
		ret = keel_error_wrap(err, keel_security_set_seccomp(sec, f, err), "linux.seccomp");
	keel_seccomp_free(f);
	return ret;
}
