/*
 * Private: device rules (keel/cgroup.h, "Device access") as the container
 * and the tests see them.
 *
 * A keel_device_rules is a list of rules, last match wins, no match denies.
 * keel_device_rules_prog_fd() compiles it into a BPF_PROG_TYPE_CGROUP_DEVICE
 * program and loads it the first time, and keeps the fd until the list
 * changes: attaching the same unchanged list to many cgroups loads once.
 */
#ifndef KEEL_PRIV_CGROUP_DEVICE_H
#define KEEL_PRIV_CGROUP_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include <keel/cgroup.h>

/* One rule as given, numbers checked: major/minor are -1 for "any". */
struct keel_device_rule {
	int allow;
	enum keel_device_type type;
	int64_t major, minor;
	unsigned access;      /* KEEL_DEVICE_READ | _WRITE | _MKNOD */
};

/* The rules in order (owned by r, valid until it changes). */
const struct keel_device_rule *keel_device_rules_get(const keel_device_rules *r, size_t *n);

/*
 * Compile the rules into *out (malloc'd, *len instructions; the caller
 * frees it). Exposed for the tests, which run it against the kernel.
 */
int keel_device_rules_compile(const keel_device_rules *r, struct bpf_insn **out, size_t *len,
			      keel_error **err);

/*
 * The loaded program: loaded at the first call, then cached on r until a
 * rule is added. The fd is owned by r. -errno with an error that says why
 * the kernel refused it (and names the opt-out, for the container's sake).
 */
int keel_device_rules_prog_fd(keel_device_rules *r, keel_error **err);

/* Parse Docker's rule syntax, "c 10:200 rwm" (type a|b|c, numbers or '*',
 * access from r w m) into *out. -EINVAL with a message that quotes it. */
int keel_device_rule_parse(const char *s, int allow, struct keel_device_rule *out, keel_error **err);

/* Parse an access string "rwm" (any order, each at most once) into bits. */
int keel_device_access_parse(const char *s, unsigned *out);

#endif
