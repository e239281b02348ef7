/*
 * oci-resources: linux.resources onto cgroup v2 interface files, the way
 * runc and crun convert the v1-shaped fields of the specification
 * (docs/architecture-oci.md has the table), and linux.seccomp onto a
 * keel_seccomp.
 *
 * Resources go through a setter so the same code serves create
 * (keel_container_set_cgroup_value(): written when the cgroup is made)
 * and `update` (keel_cgroup_set_raw() on the live cgroup).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "oci-linux.h"
#include "util/str.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct res {
	int at_create;
	keel_oci *o;
	oci_cgroup_set_fn set;
	void *target;
	keel_error **err;
};

/* What a new cgroup has already: at create, writing it changes nothing,
 * and skipping it lets "shares 1024" and "limit -1" (containerd's and
 * podman's defaults) pass on a host whose cgroup v2 lacks the controller. */
static int is_default(const char *key, const char *value)
{
	static const char *const defaults[][2] = {
		{ "cpu.weight", "100" }, { "cpu.max", "max 100000" }, { "cpu.idle", "0" },
		{ "memory.max", "max" }, { "memory.high", "max" }, { "memory.swap.max", "max" },
		{ "memory.low", "0" }, { "pids.max", "max" }, { "io.weight", "default 100" },
	};
	size_t i;

	for (i = 0; i < N_OF(defaults); i++)
		if (strcmp(key, defaults[i][0]) == 0 && strcmp(value, defaults[i][1]) == 0)
			return 1;
	return 0;
}

static int put(struct res *r, const char *path, const char *key, const char *value)
{
	int ret;

	if (r->at_create && is_default(key, value))
		return 0;
	ret = r->set(r->target, key, value, r->err);

	return keel_error_wrap(r->err, ret, "%s (%s)", path, key);
}

/* A limit where -1 (or, for pids, 0 and below) means "max". */
static void limit_str(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRId64, v);
}

/* ------------------------------------------------------------- memory --- */

static int memory(struct res *r, struct json_object *m)
{
	const char *p = "linux.resources.memory";
	int64_t limit = 0, swap = 0, resv = 0;
	int has_limit, has_swap, has_resv, oom = 0, ret;
	char v[32];

	if ((ret = oci_want(r->o, m, json_type_object, p, "an object", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, m, p, "kernel", " (cgroup v2 has no kernel memory limit)", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, m, p, "kernelTCP", " (cgroup v2 has no kernel TCP memory limit)", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, m, p, "swappiness", " (cgroup v2 has no per-cgroup swappiness)", r->err)) < 0)
		return ret;
	if ((ret = oci_get_bool(r->o, m, p, "disableOOMKiller", &oom, r->err)) < 0)
		return ret;
	if (oom)
		return keel_error_plain(r->err, KEEL_ERROR_UNSUPPORTED, ENOTSUP, "%s.disableOOMKiller: not supported "
					"(cgroup v2 cannot disable the OOM killer)", p);
	if ((has_limit = oci_get_i64(r->o, m, p, "limit", &limit, r->err)) < 0 ||
	    (has_swap = oci_get_i64(r->o, m, p, "swap", &swap, r->err)) < 0 ||
	    (has_resv = oci_get_i64(r->o, m, p, "reservation", &resv, r->err)) < 0)
		return -EINVAL;
	if (has_resv == 0) {
		limit_str(resv, v, sizeof(v));
		if ((ret = put(r, p, "memory.low", v)) < 0)
			return ret;
	}
	if (has_limit == 0) {
		limit_str(limit, v, sizeof(v));
		if ((ret = put(r, p, "memory.max", v)) < 0)
			return ret;
	}
	if (has_swap == 0) {
		/* v1's memsw is memory plus swap; v2's swap.max is swap alone. */
		if (swap >= 0 && (has_limit != 0 || limit < 0 || swap < limit))
			return keel_error_invalid(r->err, "%s.swap: %" PRId64 " needs a memory limit no larger than it",
						  p, swap);
		limit_str(swap < 0 ? -1 : swap - limit, v, sizeof(v));
		if ((ret = put(r, p, "memory.swap.max", v)) < 0)
			return ret;
	}
	return 0;
}

/* ---------------------------------------------------------------- cpu --- */

/* shares (2..262144) onto weight (1..10000), as runc and crun do. */
static uint64_t shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int cpu_max(struct res *r, struct json_object *c, const char *p)
{
	int64_t quota = -1;
	uint64_t period = 100000;
	int has_q, has_p;
	char v[64];

	if ((has_q = oci_get_i64(r->o, c, p, "quota", &quota, r->err)) < 0 ||
	    (has_p = oci_get_u64(r->o, c, p, "period", &period, r->err)) < 0)
		return -EINVAL;
	if (has_q && has_p)
		return 0;
	if (period < 1000 || period > 1000000)
		return keel_error_invalid(r->err, "%s.period: %" PRIu64 " is not between 1000 and 1000000", p, period);
	if (quota >= 0)
		snprintf(v, sizeof(v), "%" PRId64 " %" PRIu64, quota, period);
	else
		snprintf(v, sizeof(v), "max %" PRIu64, period);
	return put(r, p, "cpu.max", v);
}

static int cpu(struct res *r, struct json_object *c)
{
	const char *p = "linux.resources.cpu", *s = NULL;
	uint64_t shares = 0, burst = 0;
	int idle = 0, ret;
	int64_t idle64 = 0;
	char v[32];

	if ((ret = oci_want(r->o, c, json_type_object, p, "an object", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, c, p, "realtimeRuntime", " (cgroup v2 has no realtime cpu limits)", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, c, p, "realtimePeriod", " (cgroup v2 has no realtime cpu limits)", r->err)) < 0)
		return ret;
	if ((ret = oci_get_u64(r->o, c, p, "shares", &shares, r->err)) < 0)
		return ret;
	/* 1024 is v1's default share: at create, no preference to write */
	if (ret == 0 && shares && !(r->at_create && shares == 1024)) {
		snprintf(v, sizeof(v), "%" PRIu64, shares_to_weight(shares));
		if ((ret = put(r, p, "cpu.weight", v)) < 0)
			return ret;
	}
	if ((ret = cpu_max(r, c, p)) < 0)
		return ret;
	if ((ret = oci_get_u64(r->o, c, p, "burst", &burst, r->err)) < 0)
		return ret;
	if (ret == 0 && (snprintf(v, sizeof(v), "%" PRIu64, burst), (ret = put(r, p, "cpu.max.burst", v)) < 0))
		return ret;
	if ((ret = oci_get_i64(r->o, c, p, "idle", &idle64, r->err)) < 0)
		return ret;
	idle = ret == 0;
	if (idle && (ret = put(r, p, "cpu.idle", idle64 ? "1" : "0")) < 0)
		return ret;
	if ((ret = oci_get_str(r->o, c, p, "cpus", &s, r->err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = put(r, p, "cpuset.cpus", s)) < 0)
		return ret;
	if ((ret = oci_get_str(r->o, c, p, "mems", &s, r->err)) < 0)
		return ret;
	if (ret == 0 && *s && (ret = put(r, p, "cpuset.mems", s)) < 0)
		return ret;
	return 0;
}

static int pids(struct res *r, struct json_object *pd)
{
	const char *p = "linux.resources.pids";
	int64_t limit = 0;
	char v[32];
	int ret;

	if ((ret = oci_want(r->o, pd, json_type_object, p, "an object", r->err)) < 0 ||
	    (ret = oci_get_i64(r->o, pd, p, "limit", &limit, r->err)) != 0)
		return ret < 0 ? ret : 0;
	limit_str(limit > 0 ? limit : -1, v, sizeof(v));
	return put(r, p, "pids.max", v);
}

/* ------------------------------------------------------------ blockIO --- */

/* blkio weight (10..1000) onto io weight (1..10000), as runc does. */
static uint64_t blkio_to_io_weight(uint64_t w)
{
	return 1 + (w - 10) * 9999 / 990;
}

static int io_device(struct res *r, struct json_object *d, const char *path, const char *key, const char *what)
{
	int64_t major = 0, minor = 0;
	uint64_t rate = 0;
	char v[96];
	int ret;

	if ((ret = oci_want(r->o, d, json_type_object, path, "an object", r->err)) < 0 ||
	    (ret = oci_get_i64(r->o, d, path, "major", &major, r->err)) < 0 ||
	    (ret = oci_get_i64(r->o, d, path, "minor", &minor, r->err)) < 0)
		return ret;
	if ((ret = oci_get_u64(r->o, d, path, strcmp(key, "io.weight") ? "rate" : "weight", &rate, r->err)) != 0)
		return ret < 0 ? ret : keel_error_invalid(r->err, "%s: no %s", path,
							  strcmp(key, "io.weight") ? "rate" : "weight");
	if (strcmp(key, "io.weight") == 0) {
		if (rate < 10 || rate > 1000)
			return keel_error_invalid(r->err, "%s.weight: not between 10 and 1000", path);
		rate = blkio_to_io_weight(rate);
	}
	snprintf(v, sizeof(v), "%" PRId64 ":%" PRId64 " %s%s%" PRIu64, major, minor, what, *what ? "=" : "", rate);
	return put(r, path, key, v);
}

static int io_list(struct res *r, struct json_object *b, const char *p, const char *field, const char *key,
		   const char *what)
{
	struct json_object *arr = NULL;
	char dp[OCI_PATH_MAX];
	size_t n = 0, i;
	int ret;

	if ((ret = oci_get_array(r->o, b, p, field, &arr, &n, r->err)) < 0)
		return ret;
	for (i = 0; i < n; i++) {
		oci_fmt(dp, "%s.%s[%zu]", p, field, i);
		if ((ret = io_device(r, r->o->J->json_object_array_get_idx(arr, i), dp, key, what)) < 0)
			return ret;
	}
	return 0;
}

static int block_io(struct res *r, struct json_object *b)
{
	static const struct {
		const char *field, *what;
	} throttles[] = {
		{ "throttleReadBpsDevice", "rbps" }, { "throttleWriteBpsDevice", "wbps" },
		{ "throttleReadIOPSDevice", "riops" }, { "throttleWriteIOPSDevice", "wiops" },
	};
	const char *p = "linux.resources.blockIO";
	uint64_t w = 0;
	char v[32];
	size_t i;
	int ret;

	if ((ret = oci_want(r->o, b, json_type_object, p, "an object", r->err)) < 0 ||
	    (ret = oci_refuse(r->o, b, p, "leafWeight", " (cgroup v2 has no leaf weight)", r->err)) < 0)
		return ret;
	if ((ret = oci_get_u64(r->o, b, p, "weight", &w, r->err)) < 0)
		return ret;
	if (ret == 0) {
		if (w < 10 || w > 1000)
			return keel_error_invalid(r->err, "%s.weight: not between 10 and 1000", p);
		snprintf(v, sizeof(v), "default %" PRIu64, blkio_to_io_weight(w));
		if ((ret = put(r, p, "io.weight", v)) < 0)
			return ret;
	}
	if ((ret = io_list(r, b, p, "weightDevice", "io.weight", "")) < 0)
		return ret;
	for (i = 0; i < N_OF(throttles); i++)
		if ((ret = io_list(r, b, p, throttles[i].field, "io.max", throttles[i].what)) < 0)
			return ret;
	return 0;
}

static int hugepages(struct res *r, struct json_object *arr, size_t n)
{
	const char *size = NULL;
	uint64_t limit = 0;
	char p[OCI_PATH_MAX], key[64], v[32];
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		struct json_object *h = r->o->J->json_object_array_get_idx(arr, i);

		oci_fmt(p, "linux.resources.hugepageLimits[%zu]", i);
		if ((ret = oci_want(r->o, h, json_type_object, p, "an object", r->err)) < 0 ||
		    (ret = oci_get_str(r->o, h, p, "pageSize", &size, r->err)) < 0 ||
		    (ret = oci_get_u64(r->o, h, p, "limit", &limit, r->err)) < 0)
			return ret;
		if (!size || !*size || strchr(size, '/') || strlen(size) > 16)
			return keel_error_invalid(r->err, "%s.pageSize: missing or malformed", p);
		snprintf(key, sizeof(key), "hugetlb.%s.max", size);
		snprintf(v, sizeof(v), "%" PRIu64, limit);
		if ((ret = put(r, p, key, v)) < 0)
			return ret;
	}
	return 0;
}

static int unified(struct res *r, struct json_object *u)
{
	struct json_object_iterator it, end;
	char p[OCI_PATH_MAX];
	int ret;

	if ((ret = oci_want(r->o, u, json_type_object, "linux.resources.unified", "an object", r->err)) < 0)
		return ret;
	it = r->o->J->json_object_iter_begin(u);
	end = r->o->J->json_object_iter_end(u);
	for (; !r->o->J->json_object_iter_equal(&it, &end); r->o->J->json_object_iter_next(&it)) {
		const char *key = r->o->J->json_object_iter_peek_name(&it);
		struct json_object *v = r->o->J->json_object_iter_peek_value(&it);

		oci_fmt(p, "linux.resources.unified.%s", key);
		if (!v || !r->o->J->json_object_is_type(v, json_type_string))
			return keel_error_invalid(r->err, "%s: must be a string", p);
		if ((ret = put(r, p, key, r->o->J->json_object_get_string(v))) < 0)
			return ret;
	}
	return 0;
}

int oci_apply_resources(keel_oci *o, struct json_object *res, const char *path, int at_create,
			oci_cgroup_set_fn set, void *target, keel_error **err)
{
	struct res r = { at_create, o, set, target, err };
	struct json_object *v, *arr = NULL;
	size_t n = 0;
	int ret;

	if ((ret = oci_want(o, res, json_type_object, path, "an object", err)) < 0 ||
	    (ret = oci_refuse(o, res, path, "network", " (net_cls and net_prio are cgroup v1 only)", err)) < 0 ||
	    (ret = oci_refuse(o, res, path, "rdma", NULL, err)) < 0)
		return ret;
	if ((v = oci_get(o, res, "memory")) && (ret = memory(&r, v)) < 0)
		return ret;
	if ((v = oci_get(o, res, "cpu")) && (ret = cpu(&r, v)) < 0)
		return ret;
	if ((v = oci_get(o, res, "pids")) && (ret = pids(&r, v)) < 0)
		return ret;
	if ((v = oci_get(o, res, "blockIO")) && (ret = block_io(&r, v)) < 0)
		return ret;
	if ((ret = oci_get_array(o, res, path, "hugepageLimits", &arr, &n, err)) < 0 ||
	    (ret == 0 && (ret = hugepages(&r, arr, n)) < 0))
		return ret;
	if ((v = oci_get(o, res, "unified")) && (ret = unified(&r, v)) < 0)
		return ret;
	return 0;
}
